# SPDX-License-Identifier: Apache-2.0
"""Which merged events become outgoing notifications (篇10 第24条).

The residence place notifies the hukou place, within 5 working days of the event, of
the events built of the eight the old rules named (domain.md §3): a birth, a
contraceptive procedure, a pregnancy, a pregnancy check done here. Doubtful data (⑦)
and anything else (⑧) are an officer's judgement, not derived. Only about a woman who
floated in across the county line, aged 18-49 at the event (篇10 第3条), the event
dated after she came (the hukou place knows what happened before), in this or the last
statistical year (the old rules counted the year's events; a county that joins the
exchange does not flood its peers with its history). Never a pregnancy check of an
unmarried woman (篇7 四(一)): the node refuses to record one, and this is the second
line.

A notification's id is derived from the county, the record and the kind, so deriving
again after the next merge finds the same notification, never a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from county_aggregator.store_exchange import ExchangeStore, floating_in_events
from node.deadlines.rules import due_date, statistical_year, statistical_year_bounds
from node.deadlines.workdays import WorkCalendar
from protocol.exchange import Notification, new_notification_id


@dataclass(frozen=True)
class EventKind:
    kind: str
    """The record kind in merged_records."""
    notified_as: str
    """The notification kind (protocol/exchange.py EVENT_KINDS)."""
    subject: str
    day: str
    check_type: str | None = None


EVENTS = (
    EventKind("birth", "birth", "mother_ref", "birth_date"),
    EventKind("contraceptive_procedure", "contraceptive_procedure", "person_ref", "procedure_date"),
    EventKind("pregnancy", "pregnancy", "woman_ref", "registered_date"),
    EventKind("health_check", "pregnancy_check", "person_ref", "done_date", "pregnancy_check"),
)
FLOATING_AGES = (18, 49)


def derive_notifications(
    merged: Any, store: ExchangeStore, county: str, calendar: WorkCalendar, today: date, now: int
) -> int:
    """Add the notifications the merged events call for; returns how many are new."""
    conn = getattr(merged, "conn", merged)
    first, _ = statistical_year_bounds(statistical_year(today) - 1)
    rows: list[dict[str, Any]] = []
    for ev in EVENTS:
        for key, village, data, person_key, person in floating_in_events(
            conn, ev.kind, ev.subject, county
        ):
            day = data.get(ev.day)
            if not isinstance(day, str) or not first.isoformat() <= day <= today.isoformat():
                continue
            notice = notification(ev, data, person, day)
            if notice is None:
                continue
            rows.append({
                "id": new_notification_id(f"{county}/{ev.kind}/{key}".encode()),
                "to_county": notice.hukou_code[:6], "kind": ev.notified_as,
                "record_kind": ev.kind, "record_key": key, "person_key": person_key,
                "village": village, "event_date": day,
                "due": due_date("floating_notification", date.fromisoformat(day),
                                calendar).due.isoformat(),
                "body": notice.body(), "made": now,
            })  # fmt: skip
    return store.add_notifications(rows)


def notification(
    ev: EventKind, data: dict[str, Any], person: dict[str, Any], day: str
) -> Notification | None:
    """The notification an event of a floating-in woman calls for, or None if none."""
    if ev.check_type is not None and data.get("check_type") != ev.check_type:
        return None
    if ev.check_type is not None and person.get("marital_status") == "unmarried":
        return None  # 篇7 四(一): no organised check of an unmarried woman, so nothing to tell
    since = person.get("floating_since")
    if isinstance(since, str) and day < since:
        return None
    born = person.get("birth_date")
    if not isinstance(born, str) or not _aged(born, day):
        return None
    try:
        return Notification(
            ev.notified_as, person["name"], person["id_number"], person["residence_address"],
            person["residence_code"], person["hukou_address"], person["hukou_code"], day, "",
        )  # fmt: skip
    except KeyError:
        return None  # a card without the fields a notification needs: quality report's job


def _aged(born: str, day: str) -> bool:
    b, d = date.fromisoformat(born), date.fromisoformat(day)
    age = d.year - b.year - ((d.month, d.day) < (b.month, b.day))
    return FLOATING_AGES[0] <= age <= FLOATING_AGES[1]
