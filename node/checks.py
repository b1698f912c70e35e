# SPDX-License-Identifier: Apache-2.0
"""Rules that need the node's other records: references, date order, stock, safeguards.

Field-level validation (node.domain) knows one record; these checks know the village:
the mother a birth names, whether a person has died, the stock of condoms on the shelf.
Every problem is collected before anything is written, so the officer sees all of them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from sqlite_utils import Database

from node.domain import rules
from node.domain.records import REF_KINDS
from node.errors import FieldProblem, RuleViolation, ValidationError

EVENT_DATE = {
    "marriage": "marriage_date",
    "pregnancy": "registered_date",
    "birth": "birth_date",
    "birth_registration": "registered_date",
    "death": "death_date",
    "move": "move_date",
    "contraceptive_procedure": "procedure_date",
    "health_check": "scheduled_date",
    "follow_up": "visit_date",
    "supply_handout": "handout_date",
    "benefit": "effective_date",
}


class RecordSource(Protocol):
    @property
    def db(self) -> Database: ...

    def record(self, kind: str, record_id: str) -> dict[str, Any] | None: ...


def check_record(source: RecordSource, kind: str, data: dict[str, Any]) -> None:
    """Raise ValidationError (references) or RuleViolation (safeguards) listing every problem."""
    problems: list[FieldProblem] = []
    people = _check_references(source, data, problems)
    if problems:
        raise ValidationError(problems)
    for check in (_check_dates, _check_kind_rules):
        try:
            check(source, kind, data, people)
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise RuleViolation(problems)


def _check_references(
    source: RecordSource, data: dict[str, Any], problems: list[FieldProblem]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for field, target in REF_KINDS.items():
        ref = data.get(field)
        if ref is None:
            continue
        record = source.record(target, ref)
        if record is None or record.get("_retired"):
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


def death_date(source: RecordSource, person_ref: str) -> str | None:
    row = source.db.execute(
        "SELECT MIN(json_extract(data, '$.death_date')) FROM records WHERE kind = 'death'"
        " AND retired IS NULL AND json_extract(data, '$.person_ref') = ?",
        [person_ref],
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def _check_dates(
    source: RecordSource, kind: str, data: dict[str, Any], people: dict[str, dict[str, Any]]
) -> None:
    field = EVENT_DATE.get(kind)
    if field is None or data.get(field) is None:
        return
    when = date.fromisoformat(data[field])
    for ref_field, person in people.items():
        if REF_KINDS[ref_field] != "person" or "birth_date" not in person:
            continue
        rules.check_not_before_birth(when, date.fromisoformat(person["birth_date"]), field)
        died = death_date(source, data[ref_field])
        if died is not None and kind != "death":
            rules.check_not_after_death(when, date.fromisoformat(died), field)
        if kind == "death" and died is not None:
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
    source: RecordSource, kind: str, data: dict[str, Any], people: dict[str, dict[str, Any]]
) -> None:
    if kind == "health_check" and data.get("check_type") == "pregnancy_check":
        person = people.get("person_ref", {})
        rules.check_pregnancy_check_allowed(person.get("marital_status", "unmarried"))
    if kind == "birth":
        mother = people.get("mother_ref", {})
        if "birth_date" in mother:
            rules.check_mother_age(
                date.fromisoformat(data["birth_date"]), date.fromisoformat(mother["birth_date"])
            )
    if kind == "supply_handout":
        rules.check_stock(stock_balance(source, data["item"]), int(data["quantity"]))


def stock_balance(source: RecordSource, item: str) -> int:
    """Receipts minus hand-outs of ``item``: the ledger the hand-out register prints."""
    row = source.db.execute(
        "SELECT COALESCE(SUM(CASE kind WHEN 'supply_receipt' THEN 1 ELSE -1 END"
        " * json_extract(data, '$.quantity')), 0) FROM records"
        " WHERE kind IN ('supply_receipt', 'supply_handout') AND retired IS NULL"
        " AND json_extract(data, '$.item') = ?",
        [item],
    ).fetchone()
    return int(row[0])


def effects(
    source: RecordSource, kind: str, data: dict[str, Any]
) -> list[tuple[str, str, dict[str, Any]]]:
    """Card fields an event changes, as (kind, id, fields): written in the same entry."""
    if kind == "marriage":
        card = source.record("person", data["woman_ref"]) or {}
        fields: dict[str, Any] = {"marital_status": "married"}
        if data.get("first_marriage") and not card.get("first_marriage_date"):
            fields["first_marriage_date"] = data["marriage_date"]
        return [("person", data["woman_ref"], fields)]
    if kind == "move":
        out = data["direction"] == "out"
        return [
            (
                "person",
                data["person_ref"],
                {
                    "floating_status": "flowed_out" if out else "flowed_in",
                    "floating_since": data["move_date"],
                    "floating_place": data["to_code"] if out else data["from_code"],
                },
            )
        ]
    return []
