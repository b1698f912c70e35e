# SPDX-License-Identifier: Apache-2.0
"""What the office owes, and by when: open items with their deadlines (domain.md section 3).

Derived from the records each time (nothing to keep in step), and an item stays on the
list until what closes it is recorded, however late: the monthly change report of every
month until its sending is recorded (a ``report_submission``), a birth registration until
it is passed on and registered, a complaint until it is answered, a tip-off until it is
investigated, a benefit application until the township has reviewed it, a benefit change
until it is recorded, and every recipient's in-person check every six months.

:func:`open_items` lists them for a person to read (the name of the person concerned,
the item's Chinese name, its due date on the working-day calendar); listing names
people, so it is audited. ``node/closing.py`` closes an item with what was done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from node.deadlines import OpenItem, WorkCalendar, get_rule
from node.deadlines.rules import add_months
from node.domain.codes import ACTIVE_CHANGES
from node.store import lookup
from node.store.store import NodeStore
from protocol import Role

VILLAGE_REPORTS = ("monthly_change_report",)
TOWNSHIP_REPORTS = ("township_monthly_report",)
TOWNSHIP_PERIODIC = (
    ("semiannual_tables_township", "H1"),
    ("annual_tables_township", "Y"),
    ("benefit_fund_stats_april", "H1"),
    ("benefit_fund_stats_october", "Y"),
)


@dataclass(frozen=True)
class Due:
    """One open item as the officer's list shows it.

    ``item_id`` names it for closing (``<rule>/<kind>/<record id>``, or for a report
    ``<rule>/report/<period>``); ``person`` is the name of the person it concerns ('' for
    an office item); ``owner`` says who must act (``village`` or ``township``): a
    township step of a village's registration is shown so the village can follow it up.
    """

    item_id: str
    kind: str
    record_id: str
    person: str
    owner: str
    item: OpenItem

    @property
    def rule(self) -> str:
        return self.item.rule

    @property
    def zh_name(self) -> str:
        return get_rule(self.item.rule).zh_name


def _d(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


class _Lister:
    def __init__(self, store: NodeStore, today: date, calendar: WorkCalendar) -> None:
        self.store, self.today, self.calendar = store, today, calendar
        self.cards = lookup.RecordLookup(store.db)
        self.out: list[Due] = []

    def add(
        self, rule: str, kind: str, record_id: str, event: date, person: str = "", owner: str = ""
    ) -> None:
        who = self.name(person)
        item = OpenItem(rule, event, None, self.calendar)
        owner = owner or ("township" if self.store.node.role is Role.TOWNSHIP else "village")
        self.out.append(Due(f"{rule}/{kind}/{record_id}", kind, record_id, who, owner, item))

    def name(self, person_ref: str) -> str:
        card = self.cards.get("person", person_ref) if person_ref else None
        return str(card.get("name", "")) if card else ""


def open_items(
    store: NodeStore,
    today: date,
    calendar: WorkCalendar,
    *,
    actor: str,
    purpose: str,
    audit: bool = True,
) -> list[Due]:
    """Every open item of the node, earliest due first (items without a date last).

    Args:
        store: the node's store.
        today: the Shanghai date of the list (months up to this one are reported).
        calendar: the node's working-day calendar.
        actor, purpose: who lists them and why (the list names people: audited).
        audit: False only for a caller whose view already left its audit row (a card
            page, whose read of the card is audited, lists that card's items).
    """
    lister = _Lister(store, today, calendar)
    _birth_registrations(lister)
    _complaints(lister)
    _benefits(lister)
    _reports(lister)
    if audit:
        store.audit(actor, "list_open_items", "open_items", today.isoformat(), purpose)
    far = date.max
    return sorted(
        lister.out,
        key=lambda d: (d.item.due.due if d.item.has_due_date else far, d.rule, d.record_id),
    )


def _birth_registrations(lister: _Lister) -> None:
    """The registration is passed on and registered; a floating-in mother's chain at the
    residence place checks with her hukou place first and tells it afterwards (篇10 第15条)."""
    for rid, reg in lister.store.records("birth_registration"):
        received = _d(reg.get("registered_date"))
        if received is None:
            continue
        mother = str(reg.get("mother_ref") or "")
        card = lister.cards.get("person", mother) or {}
        forwarded = _d(reg.get("forwarded_date"))
        registered = _d(reg.get("township_registered_date"))
        steps: tuple[tuple[str, date | None, date | None, str], ...]
        if card.get("floating_status") == "flowed_in":
            steps = (
                ("floating_birth_registration_to_township", received, forwarded, "village"),
                ("floating_birth_registration_township", forwarded, registered, "township"),
                (
                    "floating_birth_registration_notify_hukou",
                    registered,
                    _d(reg.get("hukou_notified_date")),
                    "township",
                ),
            )
        else:
            steps = (
                ("birth_registration_to_township", received, forwarded, "village"),
                ("birth_registration_township_report", forwarded, registered, "township"),
            )
        for rule, start, done, owner in steps:
            if start is not None and done is None:
                lister.add(rule, "birth_registration", rid, start, mother, owner)


def _complaints(lister: _Lister) -> None:
    """A complaint until answered (首问负责); a tip-off until investigated (5 working days)."""
    for rid, complaint in lister.store.records("complaint"):
        received = _d(complaint.get("received_date"))
        if received is None or complaint.get("status") in ("answered", "closed"):
            continue
        if complaint.get("category") == "tip_off":
            if complaint.get("handled_date") is None:
                lister.add("tip_off_investigation", "complaint", rid, received)
        elif complaint.get("answered_date") is None:
            lister.add("complaint_follow_up", "complaint", rid, received)


def _benefits(lister: _Lister) -> None:
    store = lister.store
    recorded = {
        str(b.get("application_ref"))
        for _rid, b in store.records("benefit")
        if b.get("application_ref")
    }
    for rid, app in store.records("benefit_application"):
        who = str(app.get("person_ref") or "")
        notice_end = _d(app.get("notice_until"))
        if app.get("village_result") == "passed" and app.get("township_reviewed_date") is None:
            if notice_end is not None:
                lister.add("benefit_recipient_change", "benefit_application", rid, notice_end, who,
                           "township")  # fmt: skip
        certified = _d(app.get("certificate_date"))
        if certified is not None and app.get("township_result") == "passed" and rid not in recorded:
            lister.add("benefit_change_in_month", "benefit_application", rid, certified, who)
    for person, standing in _recipients(store):
        last = standing["checked"] or standing["since"]
        if last is not None:
            lister.add("benefit_in_person_check", "benefit", standing["record_id"], last, person)
        ended = standing["ended"]
        if ended is not None:
            kind, day = ended
            lister.add("benefit_change_in_month", kind, standing["ended_id"], day, person)


def _recipients(store: NodeStore) -> Iterator[tuple[str, dict[str, Any]]]:
    """Current recipients by (person, programme): since when, the last in-person check,
    and an event that ends the benefit (death, hukou moved away) not yet recorded."""
    standing: dict[tuple[str, str], dict[str, Any]] = {}
    for rid, change in sorted(
        store.records("benefit"), key=lambda r: str(r[1].get("effective_date"))
    ):
        key = (str(change.get("person_ref")), str(change.get("programme")))
        if change.get("change") in ACTIVE_CHANGES:
            standing[key] = {"record_id": rid, "since": _d(change.get("effective_date")),
                             "checked": _d(change.get("checked_in_person_date"))}  # fmt: skip
        else:
            standing.pop(key, None)
    for _rid, check in store.records("benefit_check"):
        key = (str(check.get("person_ref")), str(check.get("programme")))
        day = _d(check.get("checked_date"))
        if key in standing and day is not None:
            held = standing[key]["checked"]
            standing[key]["checked"] = day if held is None else max(held, day)
    for (person, _programme), s in standing.items():
        s["ended"], s["ended_id"] = _ended(store, person)
        yield person, s


def _ended(store: NodeStore, person: str) -> tuple[tuple[str, date] | None, str]:
    died = lookup.death_date(store.db, person)
    if died is not None:
        deaths = lookup.RecordLookup(store.db).naming("death", "person_ref", person)
        return ("death", date.fromisoformat(died)), deaths[0][0] if deaths else person
    moves = [
        (rid, m) for rid, m in lookup.RecordLookup(store.db).naming("move", "person_ref", person)
        if m.get("direction") == "out"
    ]  # fmt: skip
    if moves:
        rid, move = moves[-1]
        return ("move", date.fromisoformat(str(move["move_date"]))), rid
    return None, ""


def _reports(lister: _Lister) -> None:
    """Every month's report from the node's first month to this one, until sent."""
    store = lister.store
    township = store.node.role is Role.TOWNSHIP
    sent = {
        (str(r.get("report")), str(r.get("period")))
        for _rid, r in store.records("report_submission")
    }
    first = lookup.first_entry_day(store.db) or lister.today
    month = first.replace(day=1)
    while month <= lister.today:
        period = month.strftime("%Y-%m")
        for rule in TOWNSHIP_REPORTS if township else VILLAGE_REPORTS:
            if (rule, period) not in sent:
                lister.add(rule, "report", period, month, owner="township" if township else "")
        month = add_months(month, 1)
    if township:
        _periodic(lister, first, sent)


def _periodic(lister: _Lister, first: date, sent: set[tuple[str, str]]) -> None:
    """The township's half-year and statistical-year tables (篇10 第28条, 篇4 第16条)."""
    today = lister.today
    for year in range(first.year, today.year + 2):
        for rule, half in TOWNSHIP_PERIODIC:
            start = date(year - 1, 10, 1)
            end = date(year, 3, 31) if half == "H1" else date(year, 9, 30)
            period = f"{year}{half}"
            if end < first or start > today or (rule, period) in sent:
                continue
            lister.add(rule, "report", period, start, owner="township")
