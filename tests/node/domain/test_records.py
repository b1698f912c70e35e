# SPDX-License-Identifier: Apache-2.0
"""validate_record: one valid example per kind, invalid tables, cleaning, error kinds."""

from __future__ import annotations

import json
from datetime import date

import pytest

from node.domain.records import RECORD_KINDS, validate_record
from node.domain.resident_id import check_digit, make_resident_id
from node.domain.schemas.fields import as_of
from node.errors import RuleViolation, ValidationError

from .examples import CHILD_ID, DELETE, EXAMPLES, MOTHER_ID, TODAY, example, woman_card


def problems_of(kind, data):
    with pytest.raises(ValidationError) as info:
        validate_record(kind, data, today=TODAY)
    for p in info.value.problems:
        assert p.zh and p.en, p
    return info.value, {(p.field, p.code) for p in info.value.problems}


def no_floats(value):
    if isinstance(value, dict):
        return all(no_floats(v) for v in value.values())
    return not isinstance(value, float)


def test_every_kind_has_an_example():
    assert set(RECORD_KINDS) == set(EXAMPLES)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_valid_example_loads(kind):
    cleaned = validate_record(kind, EXAMPLES[kind], today=TODAY)
    assert set(RECORD_KINDS[kind]().fields) == set(cleaned)
    assert no_floats(cleaned)
    json.dumps(cleaned, allow_nan=False)
    assert cleaned == validate_record(kind, cleaned, today=TODAY)
    with as_of(TODAY):
        assert cleaned == RECORD_KINDS[kind]().dump(cleaned)


def test_unknown_kind_is_a_validation_error_on_kind():
    error, found = problems_of("fee", {})
    assert {("kind", "unknown_kind")} == found
    assert not isinstance(error, RuleViolation)


@pytest.mark.parametrize("data", [[1], "person", None, 5])
def test_record_must_be_an_object(data):
    _, found = problems_of("person", data)
    assert {("record", "not_object")} == found


def test_cleaning():
    raw = woman_card(
        name="  张秀英 ",
        id_number=MOTHER_ID.lower(),
        phone="",
        ethnicity=DELETE,
        floating_status=DELETE,
        floating_since=DELETE,
        floating_place=DELETE,
    )
    cleaned = validate_record("person", raw, today=TODAY)
    assert "张秀英" == cleaned["name"]
    assert MOTHER_ID.upper() == cleaned["id_number"]
    assert (None, None, "resident") == (
        cleaned["phone"],
        cleaned["ethnicity"],
        cleaned["floating_status"],
    )
    assert "1990-05-17" == cleaned["birth_date"]


def test_defaults_of_service_records():
    hc = validate_record(
        "health_check", example("health_check", requires_return_to_hukou=DELETE), today=TODAY
    )
    assert hc["requires_return_to_hukou"] is False
    anon = validate_record("complaint", example("complaint", reporter=DELETE), today=TODAY)
    assert anon["reporter"] is None


def test_integers_from_form_strings_but_never_floats():
    assert (
        12
        == validate_record("supply_handout", example("supply_handout", quantity="12"), today=TODAY)[
            "quantity"
        ]
    )
    for bad in (12.0, "12.0", "1e3", True):
        _, found = problems_of("supply_handout", example("supply_handout", quantity=bad))
        assert {("quantity", "not_integer")} == found


BAD_ID = MOTHER_ID[:17] + ("0" if MOTHER_ID[17] != "0" else "1")
FUTURE_ID = make_resident_id("440104", date(2027, 1, 1), 2, "F")
OLD_BODY = "44010418991231012"


@pytest.mark.parametrize(
    ("kind", "changes", "field", "code"),
    [
        ("person", {"name": ""}, "name", "text_empty"),
        ("person", {"name": "   "}, "name", "text_empty"),
        ("person", {"name": "张" * 41}, "name", "text_too_long"),
        ("person", {"name": 5}, "name", "not_text"),
        ("person", {"name": DELETE}, "name", "required"),
        ("person", {"name": None}, "name", "null"),
        ("person", {"card_type": "girl"}, "card_type", "not_one_of"),
        ("person", {"sex": DELETE}, "sex", "required"),
        ("person", {"id_number": BAD_ID}, "id_number", "id_number.check_digit"),
        ("person", {"id_number": MOTHER_ID[:17]}, "id_number", "id_number.length"),
        ("person", {"id_number": FUTURE_ID}, "id_number", "id_number.birth_future"),
        (
            "person",
            {"id_number": OLD_BODY + check_digit(OLD_BODY)},
            "id_number",
            "id_number.birth_too_early",
        ),
        ("person", {"birth_date": "1990/05/17"}, "birth_date", "date_format"),
        ("person", {"birth_date": "1990-5-17"}, "birth_date", "date_format"),
        ("person", {"birth_date": "1990-02-30"}, "birth_date", "invalid_date"),
        ("person", {"birth_date": "1899-12-31"}, "birth_date", "date_too_early"),
        ("person", {"birth_date": "2026-11-29"}, "birth_date", "date_in_future"),
        ("person", {"birth_date": 19900517}, "birth_date", "date_format"),
        ("person", {"birth_date": "1990-05-18"}, "birth_date", "id_number.birth_mismatch"),
        ("person", {"sex": "M"}, "sex", "id_number.sex_mismatch"),
        ("person", {"hukou_code": "440104001"}, "hukou_code", "division.length"),
        ("person", {"hukou_code": "999999001002"}, "hukou_code", "division.county_prefix"),
        ("person", {"residence_code": "440104000002"}, "residence_code", "division.zero_segment"),
        ("person", {"residence_code": "44010400100a"}, "residence_code", "division.not_digits"),
        ("person", {"marital_status": "single"}, "marital_status", "not_one_of"),
        (
            "person",
            {"marital_status": "unmarried"},
            "first_marriage_date",
            "unmarried_with_marriage_date",
        ),
        ("person", {"phone": "138-0000-0000"}, "phone", "not_digits"),
        ("person", {"phone": "123"}, "phone", "digits_length"),
        ("person", {"spouse_ref": "bad ref!"}, "spouse_ref", "ref_invalid"),
        ("person", {"spouse_ref": 7}, "spouse_ref", "ref_invalid"),
        ("person", {"floating_status": None}, "floating_status", "null"),
        ("person", {"floating_place": "4401"}, "floating_place", "division.length"),
        ("person", {"extra": 1}, "extra", "unknown_field"),
        ("person", {"id": "p-000001"}, "id", "unknown_field"),
        ("marriage", {"husband_id_number": BAD_ID}, "husband_id_number", "id_number.check_digit"),
        ("marriage", {"first_marriage": "yes"}, "first_marriage", "not_boolean"),
        ("marriage", {"first_marriage": 1}, "first_marriage", "not_boolean"),
        ("marriage", {"marriage_date": DELETE}, "marriage_date", "required"),
        ("pregnancy", {"expected_date": "2026-06-01"}, "expected_date", "date_not_after"),
        ("pregnancy", {"registered_date": "2026-05-31"}, "registered_date", "date_order"),
        ("pregnancy", {"registered_date": "2026-12-01"}, "registered_date", "date_in_future"),
        ("birth", {"birth_order": 0}, "birth_order", "out_of_range"),
        ("birth", {"birth_order": 16}, "birth_order", "out_of_range"),
        ("birth", {"birth_order": True}, "birth_order", "not_integer"),
        ("birth", {"weight_g": 3250.5}, "weight_g", "not_integer"),
        ("birth", {"weight_g": 299}, "weight_g", "out_of_range"),
        ("birth", {"weight_g": 7001}, "weight_g", "out_of_range"),
        ("birth", {"child_sex": "M"}, "child_sex", "id_number.sex_mismatch"),
        ("birth", {"birth_date": "2026-03-10"}, "birth_date", "id_number.birth_mismatch"),
        (
            "birth",
            {"child_id_number": CHILD_ID[:-1] + "Z"},
            "child_id_number",
            "id_number.characters",
        ),
        ("birth_registration", {"child_order": "x"}, "child_order", "not_integer"),
        ("report_submission", {"period": "２０２６Y"}, "period", "period_format"),
        ("birth_registration", {"forwarded_date": "2025-08-31"}, "forwarded_date", "date_order"),
        (
            "birth_registration",
            {"township_registered_date": "2025-09-04"},
            "township_registered_date",
            "date_order",
        ),
        (
            "birth_registration",
            {"village_opinion_date": "2025-09-02"},
            "village_opinion_date",
            "unknown_field",
        ),
        ("birth_registration", {"status": "approved"}, "status", "unknown_field"),
        ("death", {"death_date": "2026-11-29"}, "death_date", "date_in_future"),
        ("move", {"direction": "sideways"}, "direction", "not_one_of"),
        ("move", {"to_code": "440106001001"}, "to_code", "same_place"),
        ("move", {"from_code": "12345"}, "from_code", "division.length"),
        ("move", {"reason": "pressure"}, "reason", "not_one_of"),
        (
            "contraceptive_procedure",
            {"procedure_date": "2026-05-01"},
            "procedure_date",
            "date_order",
        ),
        (
            "contraceptive_procedure",
            {"informed_consent": "true"},
            "informed_consent",
            "not_boolean",
        ),
        ("contraceptive_procedure", {"method": "forced"}, "method", "not_one_of"),
        ("health_check", {"check_type": "ring_check"}, "check_type", "not_one_of"),
        ("health_check", {"done_date": "2026-12-01"}, "done_date", "date_in_future"),
        ("follow_up", {"method_in_use": "pill"}, "method_in_use", "not_one_of"),
        ("supply_receipt", {"quantity": 0}, "quantity", "out_of_range"),
        ("supply_receipt", {"quantity": -1}, "quantity", "out_of_range"),
        ("supply_receipt", {"quantity": 1_000_001}, "quantity", "out_of_range"),
        ("supply_handout", {"item": "ring"}, "item", "not_one_of"),
        ("benefit", {"change": "approved"}, "change", "not_one_of"),
        ("benefit", {"programme": "fine"}, "programme", "not_one_of"),
        ("complaint", {"reporter": {"email": "a@b.c"}}, "reporter.email", "unknown_field"),
        ("complaint", {"reporter": "anonymous"}, "reporter", "not_object"),
        (
            "complaint",
            {"reporter": {"id_number": BAD_ID}},
            "reporter.id_number",
            "id_number.check_digit",
        ),
        ("complaint", {"answered_date": None}, "answered_date", "answered_without_date"),
        ("complaint", {"handled_date": "2026-11-01"}, "handled_date", "date_order"),
        ("complaint", {"channel": "wechat"}, "channel", "not_one_of"),
        ("only_child_certificate", {"issued_date": "2008-03-31"}, "issued_date", "date_order"),
        ("only_child_certificate", {"fee": 0}, "fee", "unknown_field"),
    ],
)
def test_invalid_records(kind, changes, field, code):
    error, found = problems_of(kind, example(kind, **changes))
    assert (field, code) in found
    assert not isinstance(error, RuleViolation)


def test_every_problem_is_listed_at_once():
    data = woman_card(
        sex="M", name="", phone="12a", extra=1, hukou_code="123", first_marriage_date="1989-01-01"
    )
    error, found = problems_of("person", data)
    assert {
        ("sex", "id_number.sex_mismatch"),
        ("card_type", "woman_card_sex"),
        ("name", "text_empty"),
        ("phone", "not_digits"),
        ("extra", "unknown_field"),
        ("hukou_code", "division.length"),
        ("first_marriage_date", "rule.before_birth"),
    } == found
    # A record that is also malformed is a plain ValidationError, listing the rule too.
    assert not isinstance(error, RuleViolation)
    assert 400 == error.status


@pytest.mark.parametrize(
    ("kind", "data", "field", "code"),
    [
        (
            "contraceptive_procedure",
            example("contraceptive_procedure", informed_consent=False),
            "informed_consent",
            "rule.no_consent",
        ),
        (
            "health_check",
            example("health_check", requires_return_to_hukou=True),
            "requires_return_to_hukou",
            "rule.return_to_hukou",
        ),
        ("person", woman_card(date(1976, 11, 28)), "card_type", "rule.age_band"),
        (
            "person",
            woman_card(date(2012, 1, 1), marital_status="unmarried", first_marriage_date=None),
            "card_type",
            "rule.age_band",
        ),
        ("person", woman_card(floating_since="1980-01-01"), "floating_since", "rule.before_birth"),
    ],
)
def test_safeguards_alone_raise_rule_violation(kind, data, field, code):
    error, found = problems_of(kind, data)
    assert {(field, code)} == found
    assert isinstance(error, RuleViolation)
    assert 422 == error.status


def test_family_card_has_no_age_band_nor_sex():
    """A card outside 15-49 is allowed only for family members."""
    old_man = make_resident_id("440104", date(1950, 1, 1), 3, "M")
    card = woman_card(
        date(1950, 1, 1), card_type="family", id_number=old_man, sex="M", name="张大爷"
    )
    assert "family" == validate_record("person", card, today=TODAY)["card_type"]


def test_birth_today_is_not_in_the_future():
    child = make_resident_id("440104", TODAY, 1, "M")
    data = example("birth", birth_date=TODAY.isoformat(), child_id_number=child, child_sex="M")
    assert TODAY.isoformat() == validate_record("birth", data, today=TODAY)["birth_date"]


def test_planned_dates_may_lie_ahead():
    data = example("health_check", scheduled_date="2027-06-01")
    assert "2027-06-01" == validate_record("health_check", data, today=TODAY)["scheduled_date"]


def test_schema_outside_validate_record_needs_a_date():
    with pytest.raises(RuntimeError, match="validate_record"):
        RECORD_KINDS["death"]().load(EXAMPLES["death"])
