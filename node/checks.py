# SPDX-License-Identifier: Apache-2.0
"""Rules that need the node's other records: references, date order, stock, safeguards.

Field-level validation (node.domain) knows one record; these checks know the village:
the mother a birth names, whether a person has died, the stock of condoms on the shelf,
whether another live card already holds an ID number. Every problem is collected before
anything is written, so the officer sees all of them. The facts come from the store's
read queries (node/store/lookup.py); no SQL is written here.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from sqlite_utils import Database

from node.domain import codes, rules
from node.domain.effects import CLOSING_REASONS
from node.domain.records import REF_KINDS
from node.errors import FieldProblem, RuleViolation, ValidationError
from node.store import lookup
from protocol import NodeId

EVENT_DATE = {
    "marriage": "marriage_date",
    "pregnancy": "registered_date",
    "birth": "birth_date",
    "birth_registration": "registered_date",
    "death": "death_date",
    "move": "move_date",
    "floating": "event_date",
    "marital_change": "change_date",
    "check_report_slip": "check_date",
    "benefit_application": "applied_date",
    "benefit_check": "checked_date",
    "contraceptive_procedure": "procedure_date",
    "health_check": "scheduled_date",
    "follow_up": "visit_date",
    "supply_handout": "handout_date",
    "benefit": "effective_date",
}


class RecordSource(Protocol):
    @property
    def db(self) -> Database: ...

    @property
    def node(self) -> NodeId: ...

    def record(self, kind: str, record_id: str) -> dict[str, Any] | None: ...


def check_record(
    source: RecordSource, kind: str, data: dict[str, Any], *, record_id: str | None = None
) -> None:
    """Raise ValidationError (references, duplicates) or RuleViolation (safeguards).

    Args:
        source: the node's store.
        kind: the record's kind.
        data: the validated record (all its fields, after a change).
        record_id: the record's own id when an existing record is changed, so that it is
            not taken for a duplicate of itself.
    """
    problems: list[FieldProblem] = []
    people = _check_references(source, kind, data, problems)
    problems += _check_duplicates(source, kind, data, record_id)
    if problems:
        raise ValidationError(problems)
    safeguards = True
    for check in (_check_dates, _check_kind_rules):
        try:
            check(source, kind, data, people, record_id)
        except ValidationError as exc:
            problems.extend(exc.problems)
            safeguards = safeguards and isinstance(exc, RuleViolation)
    if problems:
        # 422 "the law (or the facts) forbid it" only when nothing else is wrong.
        raise RuleViolation(problems) if safeguards else ValidationError(problems)


def _check_references(
    source: RecordSource, kind: str, data: dict[str, Any], problems: list[FieldProblem]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for field, target in REF_KINDS.items():
        ref = data.get(field)
        if ref is None:
            continue
        record = source.record(target, ref)
        closed = record.get("_retired") if record is not None else None
        # A recipient whose hukou moved away still gets her benefit change recorded here
        # (moved out, 篇3 第12条), although her card here is closed.
        if kind == "benefit" and closed in CLOSING_REASONS:
            closed = None
        if record is None or closed:
            problems.append(
                FieldProblem(
                    field,
                    "reference.missing",
                    f"找不到编号为 {ref} 的记录",
                    f"no {target} record with id {ref}",
                )
            )
        else:
            found[field] = record
    return found


def _check_duplicates(
    source: RecordSource, kind: str, data: dict[str, Any], record_id: str | None
) -> list[FieldProblem]:
    """One live card per ID number in a village (issue 12): a second card for the same
    person splits her records in two and lets an event be recorded on the wrong one."""
    number = data.get("id_number")
    if kind != "person" or not isinstance(number, str):
        return []
    others = [c for c in lookup.live_cards_with_id_number(source.db, number) if c != record_id]
    if not others:
        return []
    card = others[0]
    return [
        FieldProblem(
            "id_number",
            "person.duplicate_id",
            f"本村已有持此身份证号码的在册信息卡（{card}）。同一人返回、再次迁入或换卡，"
            f"请在信息卡 {card} 上登记（流动返回、户籍迁入或修改卡片），不要新建信息卡",
            f"A live card of this village ({card}) already holds this ID number. For the same "
            f"person returning, moving her hukou in again or changing card type, record it on "
            f"card {card} (a floating return, a hukou move in, or a card change) instead of "
            "a new card.",
        )
    ]


def _check_dates(
    source: RecordSource,
    kind: str,
    data: dict[str, Any],
    people: dict[str, dict[str, Any]],
    record_id: str | None,
) -> None:
    field = EVENT_DATE.get(kind)
    if field is None or data.get(field) is None:
        return
    when = date.fromisoformat(data[field])
    for ref_field, person in people.items():
        if REF_KINDS[ref_field] != "person" or "birth_date" not in person:
            continue
        rules.check_not_before_birth(when, date.fromisoformat(person["birth_date"]), field)
        died = lookup.death_date(source.db, data[ref_field])
        if died is not None and kind != "death":
            rules.check_not_after_death(when, date.fromisoformat(died), field)
        if kind == "death" and died is not None and record_id is None:
            raise RuleViolation(
                [
                    FieldProblem(
                        "person_ref",
                        "death.duplicate",
                        "此人已有死亡记录",
                        "this person already has a death record",
                    )
                ]
            )


def _check_kind_rules(
    source: RecordSource,
    kind: str,
    data: dict[str, Any],
    people: dict[str, dict[str, Any]],
    record_id: str | None,
) -> None:
    person = people.get("person_ref", {})
    if kind == "health_check" and data.get("check_type") in codes.CONTRACEPTIVE_STATUS_CHECKS:
        if data["check_type"] == "pregnancy_check":
            rules.check_pregnancy_check_allowed(person.get("marital_status", "unmarried"))
        rules.check_no_contraceptive_check_unmarried(
            person.get("marital_status", "unmarried"), "check_type"
        )
    if kind == "follow_up" and data.get("procedure_ref") is None:
        # A follow-up that is not the aftercare of a procedure she chose is a check of her
        # contraception (篇4 第36条 visits to users): never for an unmarried woman.
        rules.check_no_contraceptive_check_unmarried(
            person.get("marital_status", "unmarried"), "person_ref"
        )
    if kind == "check_report_slip":
        rules.check_no_contraceptive_check_unmarried(
            person.get("marital_status", "unmarried"), "person_ref"
        )
        _require(person.get("floating_status") == "flowed_in", "person_ref", "slip.not_floating")
    if kind == "birth":
        mother = people.get("mother_ref", {})
        if "birth_date" in mother:
            rules.check_mother_age(
                date.fromisoformat(data["birth_date"]), date.fromisoformat(mother["birth_date"])
            )
    if kind == "supply_handout":
        change = (data["handout_date"], -int(data["quantity"]))
        check_stock_with(source.db, data["item"], change, without=record_id)
    if kind == "supply_receipt" and record_id is not None:
        _check_receipt_change(source, data, record_id)
    if kind == "move":
        _check_hukou_move(str(source.node.code), data, person)
    if kind == "floating":
        _check_floating(str(source.node.code), data, person)
    if kind == "person":
        hukou_here = str(data.get("hukou_code", "")).startswith(str(source.node.code))
        status = data.get("floating_status")
        _require(status != "flowed_in" or not hukou_here, "floating_status", "person.in_hukou_here")
        _require(status != "flowed_out" or hukou_here, "floating_status", "person.out_not_hukou")


_PROBLEMS: dict[str, tuple[str, str]] = {
    "person.in_hukou_here": (
        "户籍在本村（居）的人员不是流入人员",
        "A person whose hukou is here has not floated in.",
    ),
    "person.out_not_hukou": (
        "户籍不在本村（居）的人员不能登记为流出；流出是指户籍在本村、外出居住",
        "Only a person whose hukou is here can be floating out (living elsewhere).",
    ),
    "slip.not_floating": (
        "避孕节育情况报告单只为在本地居住的流入妇女出具",
        "A check report slip is issued to a woman who floated in and lives here.",
    ),
    "move.not_hukou_here": (
        "此人户籍不在本村（居），不能登记户籍迁出；外出居住请登记流出",
        "This person's hukou is not here, so it cannot move out; living elsewhere is floating out.",
    ),
    "move.not_to_here": (
        "户籍迁入的迁入地应为本村（居）",
        "A hukou move in must name this village as the place moved to.",
    ),
    "floating.out_needs_resident": (
        "此人当前不是在本村居住的户籍人员，不能登记流出",
        "Only a person whose hukou is here and who lives here can float out.",
    ),
    "floating.in_has_hukou_here": (
        "此人户籍在本村（居），不是流入人员；如为返回，请登记返回",
        "This person's hukou is here, so she has not floated in; record a return instead.",
    ),
    "floating.in_already": (
        "此人已登记为流入人员",
        "This person is already registered as floated in.",
    ),
    "floating.return_needs_out": (
        "此人未登记流出，不能登记返回",
        "Only a person registered as floated out can return.",
    ),
    "floating.leave_needs_in": (
        "此人未登记为流入人员，不能登记离开",
        "Only a person registered as floated in can leave.",
    ),
}


def _require(ok: bool, field: str, code: str) -> None:
    if not ok:
        zh, en = _PROBLEMS[code]
        raise ValidationError([FieldProblem(field, code, zh, en)])


def _check_hukou_move(node: str, data: dict[str, Any], card: dict[str, Any]) -> None:
    """A hukou move out leaves from here; a move in arrives here (domain.md section 2)."""
    if data["direction"] == "out":
        hukou = str(card.get("hukou_code", ""))
        _require(hukou.startswith(node), "person_ref", "move.not_hukou_here")
    else:
        _require(str(data["to_code"]).startswith(node), "to_code", "move.not_to_here")


def _check_floating(node: str, data: dict[str, Any], card: dict[str, Any]) -> None:
    """Floating follows the card's state: out from home, in from elsewhere, back, away."""
    status = card.get("floating_status", "resident")
    hukou_here = str(card.get("hukou_code", "")).startswith(node)
    event = data["event"]
    if event == "flow_out":
        _require(status == "resident" and hukou_here, "event", "floating.out_needs_resident")
    elif event == "flow_in":
        _require(not hukou_here, "event", "floating.in_has_hukou_here")
        _require(status != "flowed_in", "event", "floating.in_already")
    elif event == "return":
        _require(status == "flowed_out", "event", "floating.return_needs_out")
    else:
        _require(status == "flowed_in", "event", "floating.leave_needs_in")


def _check_receipt_change(source: RecordSource, data: dict[str, Any], record_id: str) -> None:
    """A corrected receipt (fewer received, received later, another item) must not take
    away stock that the hand-outs already recorded used (篇4 第35条): every day from the
    earlier of its old and new dates is checked, and the old item's ledger without it."""
    held = source.record("supply_receipt", record_id) or {}
    new = (str(data["received_date"]), int(data["quantity"]))
    old_day = str(held.get("received_date") or new[0])
    check_stock_with(source.db, data["item"], new, without=record_id, since=min(old_day, new[0]))
    if held.get("item") not in (None, data["item"]):
        check_stock_with(source.db, str(held["item"]), (old_day, 0), without=record_id)


def check_stock_with(
    db: Database,
    item: str,
    change: tuple[str, int],
    *,
    without: str | None = None,
    since: str | None = None,
) -> None:
    """The stock of ``item`` day by day, with ``change`` added and record ``without``
    (a receipt being withdrawn or corrected, a hand-out being corrected) left out.

    Raises:
        RuleViolation: some day from ``since`` (by default ``change``'s date) on would be
            below zero.
    """
    moves = [(day, qty) for day, qty, rid in lookup.stock_movements(db, item) if rid != without]
    if change[1]:
        moves.append(change)
    rules.check_stock(moves, since=since or change[0])


def stock_balance(source: RecordSource, item: str) -> int:
    """Receipts minus hand-outs of ``item`` to date: the ledger the register prints."""
    return sum(qty for _day, qty, _rid in lookup.stock_movements(source.db, item))
