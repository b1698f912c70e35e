# SPDX-License-Identifier: Apache-2.0
"""The recording path end to end: every record kind through add_record into a real store."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from node.domain.records import RECORD_KINDS
from node.errors import RuleViolation, ValidationError
from node.recording import COUNTY_CERT, add_record
from node.store.store import NodeStore
from protocol import NodeId
from protocol.fields import open_field
from protocol.testing import make_node
from tests.node.domain.examples import HUSBAND_ID, example, floating_in_card, woman_card

TODAY = date(2026, 11, 28)
VILLAGE = NodeId.for_code("440104001002")


def add(store: NodeStore, kind: str, **fields: Any) -> str:
    return add_record(store, kind, example(kind, **fields), today=TODAY)


def village_story(store: NodeStore) -> dict[str, str]:
    """A family's year: every record kind of domain.md section 2, in a plausible order."""
    ids: dict[str, str] = {}
    ids["woman"] = add_record(store, "person", floating_in_card(spouse_ref=None), today=TODAY)
    ids["husband"] = add_record(
        store,
        "person",
        woman_card(
            card_type="family",
            sex="M",
            name="李建国",
            id_number=HUSBAND_ID,
            birth_date="1988-03-02",
            marital_status="married",
            spouse_ref=ids["woman"],
        ),
        today=TODAY,
    )
    w = ids["woman"]
    ids["marriage"] = add(store, "marriage", woman_ref=w)
    ids["birth"] = add(store, "birth", mother_ref=w)
    ids["pregnancy"] = add(store, "pregnancy", woman_ref=w)
    ids["birth_registration"] = add(store, "birth_registration", mother_ref=w)
    ids["procedure"] = add(store, "contraceptive_procedure", person_ref=w)
    ids["follow_up"] = add(store, "follow_up", person_ref=w, procedure_ref=ids["procedure"])
    ids["check"] = add(store, "health_check", person_ref=w)
    ids["receipt"] = add(store, "supply_receipt")
    ids["handout"] = add(store, "supply_handout", person_ref=w)
    ids["benefit"] = add(store, "benefit", person_ref=w)
    ids["certificate"] = add(store, "only_child_certificate", parent_ref=w)
    ids["slip"] = add(store, "check_report_slip", person_ref=w)
    ids["application"] = add(store, "benefit_application", person_ref=w)
    ids["benefit_check"] = add(store, "benefit_check", person_ref=w)
    ids["submission"] = add(store, "report_submission")
    ids["move"] = add(store, "move", person_ref=w)
    ids["floating"] = add(store, "floating", person_ref=w, event_date="2026-05-01")
    ids["marital_change"] = add(store, "marital_change", person_ref=w, change_date="2026-07-01")
    ids["death"] = add(store, "death", person_ref=ids["husband"])
    return ids


def test_every_kind_is_recorded_with_its_entry(store: NodeStore) -> None:
    """Issue 3: each record kind validates, writes one entry, and the tables equal the log.

    The woman came as a floating-in woman (her card's floating record is written with
    it), moved her hukou here (which ends the floating), floated out to Shenzhen and
    divorced: the card says so, each from its dated record.
    """
    before = store.changelog.head_seq
    ids = village_story(store)
    written = {kind for kind in RECORD_KINDS if list(store.records(kind, include_retired=True))}
    assert written == set(RECORD_KINDS) - {"complaint"}  # a complaint needs the county's key
    assert store.changelog.head_seq == before + len(ids)
    assert store.records_hash() == store.rebuild_hash()
    card = store.record("person", ids["woman"])
    assert card is not None
    assert card["marital_status"] == "divorced"
    assert card["hukou_code"] == "440104001002"
    assert card["floating_status"] == "flowed_out"
    assert card["floating_place"] == "440306"
    floating = [d for _id, d in store.records("floating") if d["person_ref"] == ids["woman"]]
    assert ["flow_in", "flow_out"] == [d["event"] for d in floating]


def test_refused_write_leaves_nothing(store: NodeStore) -> None:
    """Issue 3: invalid input is rejected with every problem listed, nothing written."""
    before = (store.changelog.head_seq, store.records_hash())
    with pytest.raises(ValidationError) as exc:
        add_record(store, "person", {"name": 1, "sex": "X"}, today=TODAY)
    fields = {p.field for p in exc.value.problems}
    assert {"name", "sex", "id_number", "birth_date"} <= fields
    assert all(p.zh and p.en for p in exc.value.problems)
    assert (store.changelog.head_seq, store.records_hash()) == before


@pytest.mark.parametrize(
    ("kind", "fields", "field", "code"),
    [
        ("supply_handout", {"quantity": 10}, "quantity", "rule.stock"),
        ("health_check", {"check_type": "pregnancy_check"}, "check_type", "rule.pregnancy_check"),
        ("follow_up", {"visit_date": "1980-01-01"}, "visit_date", "rule.before_birth"),
    ],
)
def test_safeguards_refuse(
    store: NodeStore, kind: str, fields: dict[str, Any], field: str, code: str
) -> None:
    """domain.md 5: safeguards are hard errors, checked against the village's records."""
    single = add_record(
        store,
        "person",
        woman_card(marital_status="unmarried", first_marriage_date=None, spouse_ref=None),
        today=TODAY,
    )
    refs = {"supply_handout": {}, "follow_up": {"procedure_ref": None}}.get(kind, {})
    if kind != "supply_handout":
        refs["person_ref"] = single
    data = example(kind, **refs, **fields)
    with pytest.raises(RuleViolation) as exc:
        add_record(store, kind, data, today=TODAY)
    assert any(p.field == field and p.code.startswith(code) for p in exc.value.problems), exc.value


def test_no_event_after_death(store: NodeStore) -> None:
    """Issue 3: no event after a death."""
    ids = village_story(store)
    with pytest.raises(RuleViolation):
        add(
            store,
            "follow_up",
            person_ref=ids["husband"],
            procedure_ref=None,
            visit_date="2026-06-10",
        )


def test_missing_reference(store: NodeStore) -> None:
    with pytest.raises(ValidationError) as exc:
        add(store, "pregnancy", woman_ref="P999")
    assert exc.value.problems[0].field == "woman_ref"


@pytest.mark.parametrize("category", ["complaint", "tip_off"])
def test_complaint_reporter_is_sealed_for_the_county(store: NodeStore, category: str) -> None:
    """domain.md 5, issue 16 item 10: a complainant's or an informant's identity is never
    revealed to the party complained about (篇4 第18条): sealed in both kinds."""
    with pytest.raises(ValidationError) as exc:
        add(store, "complaint", category=category)
    assert exc.value.problems[0].code == "sealed.not_enrolled"
    county = make_node("440104")
    (store.data_dir / "keys" / COUNTY_CERT).write_bytes(county.cert.raw)
    rid = add(store, "complaint", category=category)
    record = store.record("complaint", rid)
    assert record is not None and "王某" not in str(record)
    payloads = b"".join(e.payload or b"" for e in store.entries())
    assert "王某".encode() not in payloads
    where = f"{store.node}/complaint/{rid}/reporter"
    opened = open_field(record["reporter"], {county.kem.public_key.key_id: county.kem}, where)
    assert opened["name"] == "王某"
