# SPDX-License-Identifier: Apache-2.0
"""Rules across records (node/checks.py): one live card per ID number, stock day by day,
hukou moves apart from floating, no contraceptive-status check of an unmarried woman."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from node.checks import stock_balance
from node.editing import correct_record
from node.errors import RuleViolation, ValidationError
from node.recording import add_record, close_record, update_record
from node.store import lookup
from node.store.store import NodeStore
from protocol import NodeId
from tests.node.domain.examples import example, floating_in_card, woman_card

TODAY = date(2026, 11, 28)
VILLAGE = NodeId.for_code("440104001002")


def hukou_card(**changes: Any) -> dict[str, Any]:
    return woman_card(
        hukou_code="440104001002", floating_status="resident", floating_since=None,
        floating_place=None, spouse_ref=None, **changes,
    )  # fmt: skip


def add(store: NodeStore, kind: str, **fields: Any) -> str:
    return add_record(store, kind, example(kind, **fields), today=TODAY)


def test_an_id_number_already_on_a_live_card_is_refused_naming_the_card(store: NodeStore) -> None:
    """Issue 12 item 8: two live cards with one ID number split a woman in two."""
    first = add_record(store, "person", hukou_card(), today=TODAY)
    with pytest.raises(ValidationError) as caught:
        add_record(store, "person", hukou_card(name="张秀英二"), today=TODAY)
    (problem,) = caught.value.problems
    assert (problem.field, problem.code) == ("id_number", "person.duplicate_id")
    assert first in problem.zh and first in problem.en
    # Her own card may be changed (it is not a duplicate of itself).
    update_record(store, "person", first, {"phone": "13700000000"}, today=TODAY)


def test_same_person_moving_in_again_after_her_card_was_closed(store: NodeStore) -> None:
    """The explicit path: once her hukou moved away her card here is closed, and when she
    moves her hukou back a new card is opened (the county links both by ID number)."""
    first = add_record(store, "person", hukou_card(), today=TODAY)
    add(store, "move", person_ref=first, direction="out", move_date="2026-01-10",
        from_code="440104001002", to_code="440106001001")  # fmt: skip
    again = add_record(store, "person", hukou_card(), today=TODAY)
    add(store, "move", person_ref=again, direction="in", move_date="2026-06-01",
        from_code="440106001001", to_code="440104001002")  # fmt: skip
    assert lookup.live_cards_with_id_number(store.db, hukou_card()["id_number"]) == [again]


def test_a_back_dated_handout_may_not_leave_a_day_below_zero(store: NodeStore) -> None:
    """Issue 12 item 8, 篇4 第35条: a hand-out dated before the only receipt is refused."""
    add(store, "supply_receipt", quantity=100, received_date="2026-03-01")
    with pytest.raises(RuleViolation) as caught:
        add(store, "supply_handout", quantity=10, handout_date="2026-02-20")
    assert caught.value.problems[0].code == "rule.stock_negative"
    assert "2026-02-20" in caught.value.problems[0].zh
    add(store, "supply_handout", quantity=90, handout_date="2026-03-10")
    # On 3-05 there would be 80 left, but on 3-10 the 90 handed out make it -10.
    with pytest.raises(RuleViolation) as caught:
        add(store, "supply_handout", quantity=20, handout_date="2026-03-05")
    assert "2026-03-10" in caught.value.problems[0].zh


def test_a_corrected_receipt_may_not_leave_a_day_below_zero(store: NodeStore) -> None:
    """Issue 12 item 8, 篇4 第35条: correcting a receipt to fewer pieces, a later date or
    another item would take away stock that a hand-out already used; each is refused,
    and a correction that leaves every day covered is accepted."""
    receipt = add(store, "supply_receipt", quantity=100, received_date="2026-03-01")
    add(store, "supply_handout", quantity=90, handout_date="2026-03-10")
    for change in ({"quantity": 10}, {"received_date": "2026-03-20"}, {"item": "pill"}):
        with pytest.raises(RuleViolation) as caught:
            correct_record(store, "supply_receipt", receipt, change, today=TODAY)
        assert caught.value.problems[0].code == "rule.stock_negative", change
        with pytest.raises(RuleViolation):
            update_record(store, "supply_receipt", receipt, change, today=TODAY)
    assert stock_balance(store, "condom") == 10
    correct_record(store, "supply_receipt", receipt, {"quantity": 95}, today=TODAY)
    correct_record(store, "supply_receipt", receipt, {"received_date": "2026-03-09"}, today=TODAY)
    assert stock_balance(store, "condom") == 5


def test_retired_receipts_are_not_stock(store: NodeStore) -> None:
    """Issue 17: a receipt withdrawn as entered in error never arrived; withdrawing one
    that later hand-outs need is refused."""
    wrong = add(store, "supply_receipt", quantity=500, received_date="2026-01-05")
    right = add(store, "supply_receipt", quantity=50, received_date="2026-01-05")
    add(store, "supply_handout", quantity=40, handout_date="2026-01-06")
    close_record(store, "supply_receipt", wrong, "entered_in_error", today=TODAY)
    assert stock_balance(store, "condom") == 10
    with pytest.raises(RuleViolation):
        add(store, "supply_handout", quantity=20, handout_date="2026-01-07")
    with pytest.raises(RuleViolation):
        close_record(store, "supply_receipt", right, "entered_in_error", today=TODAY)


@pytest.mark.parametrize(
    "hostile",
    ["condom' OR '1'='1", "x') OR kind = 'supply_receipt' --", 'condom"; DROP TABLE records;'],
)
def test_stock_queries_take_hostile_values_as_values(store: NodeStore, hostile: str) -> None:
    """Issue 17: the stock query binds the item; a value built to widen the query (or to
    drop a table) finds nothing, and the records are all still there."""
    add(store, "supply_receipt", quantity=500, received_date="2026-01-05")
    assert lookup.stock_movements(store.db, hostile) == []
    assert stock_balance(store, "condom") == 500
    with pytest.raises(ValueError):
        lookup.RecordLookup(store.db).between("supply_receipt", "item') OR ('1", "a", "z")


def test_floating_out_keeps_the_card_a_hukou_move_closes_it(store: NodeStore) -> None:
    """Issue 16 item 1, domain.md 2: floating and hukou moves are different facts."""
    floating = add_record(store, "person", hukou_card(), today=TODAY)
    add(store, "floating", person_ref=floating, event="flow_out", event_date="2026-03-01")
    card = store.record("person", floating)
    assert (card["_retired"], card["floating_status"]) == (None, "flowed_out")
    add(store, "floating", person_ref=floating, event="return", event_date="2026-09-01",
        place_code="440306")  # fmt: skip
    assert store.record("person", floating)["floating_status"] == "resident"
    with pytest.raises(ValidationError) as caught:
        update_record(store, "person", floating, {"floating_status": "flowed_out"}, today=TODAY)
    assert caught.value.problems[0].code == "person.floating_by_record"


@pytest.mark.parametrize(
    ("kind", "fields", "code"),
    [
        ("move", {"direction": "out", "from_code": "440106001001", "to_code": "440306"},
         "move.not_hukou_here"),
        ("move", {"direction": "in", "to_code": "440106002001"}, "move.not_to_here"),
        ("floating", {"event": "return"}, "floating.return_needs_out"),
        ("floating", {"event": "leave"}, "floating.leave_needs_in"),
        ("floating", {"event": "flow_in", "place_code": "440106001001"},
         "floating.in_already"),
    ],
)  # fmt: skip
def test_moves_and_floating_follow_the_card(
    store: NodeStore, kind: str, fields: dict[str, Any], code: str
) -> None:
    """A hukou move out leaves from here; floating follows the card's state."""
    floater = add_record(store, "person", floating_in_card(spouse_ref=None), today=TODAY)
    other = add_record(store, "person", hukou_card(birth=date(1994, 4, 4)), today=TODAY)
    who = floater if code in ("move.not_hukou_here", "floating.in_already") else other
    with pytest.raises(ValidationError) as caught:
        add(store, kind, person_ref=who, **fields)
    assert caught.value.problems[0].code == code


@pytest.mark.parametrize(
    ("kind", "fields", "field", "code"),
    [
        ("health_check", {"check_type": "contraceptive_status"}, "check_type",
         "rule.contraceptive_check_unmarried"),
        ("health_check", {"check_type": "pregnancy_check"}, "check_type",
         "rule.pregnancy_check_unmarried"),
        ("follow_up", {"procedure_ref": None}, "person_ref", "rule.contraceptive_check_unmarried"),
        ("check_report_slip", {}, "person_ref", "rule.contraceptive_check_unmarried"),
    ],
)  # fmt: skip
def test_no_contraceptive_status_check_of_any_kind_for_an_unmarried_woman(
    store: NodeStore, kind: str, fields: dict[str, Any], field: str, code: str
) -> None:
    """Issue 16 item 9, 篇7 四(一): no organised contraceptive-status check of any kind
    for an unmarried woman: a pregnancy check, a check of the method in use, a follow-up
    of her contraception, a check report slip."""
    single = add_record(
        store, "person",
        woman_card(marital_status="unmarried", first_marriage_date=None, spouse_ref=None),
        today=TODAY,
    )  # fmt: skip
    with pytest.raises(RuleViolation) as caught:
        add(store, kind, person_ref=single, **fields)
    codes = {(p.field, p.code) for p in caught.value.problems}
    assert (field, code) in codes
    assert "未婚" in caught.value.zh


def test_an_unmarried_woman_may_still_have_aftercare_and_health_checks(store: NodeStore) -> None:
    """Services she chose stay open to her: a gynaecological check, the aftercare of a
    procedure she chose."""
    single = add_record(
        store, "person",
        woman_card(marital_status="unmarried", first_marriage_date=None, spouse_ref=None),
        today=TODAY,
    )  # fmt: skip
    add(store, "health_check", person_ref=single, check_type="gynaecological")
    procedure = add(store, "contraceptive_procedure", person_ref=single, method="implant_insertion")
    add(store, "follow_up", person_ref=single, procedure_ref=procedure)


def test_check_report_slip_is_for_a_floating_in_woman(store: NodeStore) -> None:
    """篇10 第23条: the slip is what a woman who floated in carries to her hukou place."""
    floater = add_record(store, "person", floating_in_card(spouse_ref=None), today=TODAY)
    add(store, "check_report_slip", person_ref=floater)
    resident = add_record(store, "person", hukou_card(birth=date(1994, 4, 4)), today=TODAY)
    with pytest.raises(ValidationError) as caught:
        add(store, "check_report_slip", person_ref=resident)
    assert caught.value.problems[0].code == "slip.not_floating"
