# SPDX-License-Identifier: Apache-2.0
"""Data-quality checks over the merged records, listed per village (domain.md section 2).

The township checks each village's changes every month and sends queries back for
doubtful entries (篇4 第44条); these are the doubts the county can see only after the
merge, because they span records (a birth and its mother's card) or places (one ID
number under two names). Each finding names the village it belongs to, so it can go
back to the officer who can fix it. Nothing here changes a record.

:func:`build_quality` is a pure report builder (``db -> rows``); rendering is the
caller's business.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlite_utils import Database

from county_aggregator import store

CHECKS = (
    "birth_without_mother",
    "mother_under_12",
    "event_after_death",
    "duplicate_id_names",
    "stale_card",
)

EVENT_DATES: dict[str, tuple[str, str]] = {
    "birth": ("mother_ref", "birth_date"),
    "birth_registration": ("mother_ref", "registered_date"),
    "marriage": ("woman_ref", "marriage_date"),
    "pregnancy": ("woman_ref", "registered_date"),
    "contraceptive_procedure": ("person_ref", "procedure_date"),
    "health_check": ("person_ref", "done_date"),
    "follow_up": ("person_ref", "visit_date"),
    "supply_handout": ("person_ref", "handout_date"),
    "move": ("person_ref", "move_date"),
    "floating": ("person_ref", "event_date"),
    "marital_change": ("person_ref", "change_date"),
    "check_report_slip": ("person_ref", "check_date"),
}
"""Events a person takes part in, with the person and the date: none may follow a death.
Benefit changes are left out: "died" is recorded after the death, rightly."""

MOTHER_MIN_AGE = 12


def build_quality(db: Database, *, now_ms: int, stale_months: int = 12) -> list[dict[str, Any]]:
    """Every finding, ordered by village, check, kind and key.

    Args:
        db: the merged database.
        now_ms: "now" (UTC ms) for the stale-card check; passed in so a report can be
            re-run as of a date.
        stale_months: a live card unchanged for this many months is stale.
    """
    people = {key: _Rec(*row) for key, row in _rows(db, "person")}
    deaths: dict[str, str] = {}
    for _key, rec in _rows(db, "death"):
        who, when = rec[2].get("person_ref"), rec[2].get("death_date")
        if isinstance(who, str) and isinstance(when, str):
            deaths[who] = min(when, deaths.get(who, when))
    out: list[dict[str, Any]] = []
    for kind, (ref, when) in EVENT_DATES.items():
        for _key, row in _rows(db, kind):
            out += _event_checks(_Rec(*row), ref, when, people, deaths)
    out += _duplicate_names(db, people)
    out += _stale(people.values(), now_ms, stale_months)
    return sorted(out, key=lambda f: (f["village"], f["check"], f["kind"], f["key"]))


class _Rec:
    __slots__ = ("kind", "key", "data", "village", "retired", "last_hlc")

    def __init__(
        self,
        kind: str,
        key: str,
        data: dict[str, Any],
        village: str,
        retired: str | None,
        last_hlc: int,
    ) -> None:
        self.kind, self.key, self.data = kind, key, data
        self.village, self.retired, self.last_hlc = village, retired, last_hlc


def _rows(db: Database, kind: str) -> Iterator[tuple[str, tuple[Any, ...]]]:
    for kind_, key, data, _origins, village, retired, _first, last in store.merged_records(
        db, [kind]
    ):
        yield key, (kind_, key, json.loads(data), village, retired, last)


def _l(message: str) -> str:
    """Marks ``message`` for the catalogue; it is translated where it is printed."""
    return message


DETAILS = {
    "birth_without_mother": _l("no card for mother %(mother)s"),
    "mother_under_12": _l("birth %(day)s, mother born %(born)s"),
    "event_after_death": _l("%(field)s %(day)s after death on %(died)s"),
    "duplicate_id_names": _l("%(n)s different names on the cards of one ID number"),
    "stale_card": _l("no change since %(since)s"),
}
"""Each check's words: ``detail`` keeps them in English (as --json prints it); the
terminal shows them in the officer's language from ``detail_args``
(county_aggregator/cli.py, which leaves ``detail_args`` out of --json)."""


def _finding(rec: _Rec, check: str, **args: object) -> dict[str, Any]:
    return {
        "village": rec.village,
        "check": check,
        "kind": rec.kind,
        "key": rec.key,
        "detail": DETAILS[check] % args,
        "detail_args": args,
    }


def _event_checks(
    rec: _Rec, ref: str, when: str, people: dict[str, _Rec], deaths: dict[str, str]
) -> list[dict[str, Any]]:
    out = []
    who, day = rec.data.get(ref), rec.data.get(when)
    person = people.get(who) if isinstance(who, str) else None
    if rec.kind == "birth" and person is None:
        out.append(_finding(rec, "birth_without_mother", mother=who))
    if rec.kind == "birth" and person is not None and isinstance(day, str):
        born = person.data.get("birth_date")
        if isinstance(born, str) and day < _plus_years(born, MOTHER_MIN_AGE):
            out.append(_finding(rec, "mother_under_12", day=day, born=born))
    died = deaths.get(who) if isinstance(who, str) else None
    if died is not None and isinstance(day, str) and day > died:
        out.append(_finding(rec, "event_after_death", field=when, day=day, died=died))
    return out


def _plus_years(iso: str, years: int) -> str:
    return f"{int(iso[:4]) + years:04d}{iso[4:]}"


def _duplicate_names(db: Database, people: dict[str, _Rec]) -> list[dict[str, Any]]:
    names: dict[str, set[str]] = {}
    for key, _origin, _rid, name in store.local_names(db):
        if key.startswith("idn:") and isinstance(name, str):
            names.setdefault(key, set()).add(name)
    out = []
    for key, seen in sorted(names.items()):
        if len(seen) > 1 and key in people:
            out.append(_finding(people[key], "duplicate_id_names", n=len(seen)))
    return out


def _stale(people: Any, now_ms: int, months: int) -> list[dict[str, Any]]:
    now = datetime.fromtimestamp(now_ms / 1000, UTC).date()
    total = now.year * 12 + now.month - 1 - months
    cutoff = date(total // 12, total % 12 + 1, min(now.day, 28))
    cutoff_ms = int(datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC).timestamp()) * 1000
    out = []
    for rec in people:
        if rec.retired is None and (rec.last_hlc >> 16) < cutoff_ms:
            last = datetime.fromtimestamp((rec.last_hlc >> 16) / 1000, UTC).date()
            out.append(_finding(rec, "stale_card", since=last.isoformat()))
    return out
