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

A notification's id is derived from the county, the kind, what identifies the event
and the hukou county it goes to, so deriving again after the next merge finds the same
notification, never a second one. What identifies the event is not its merged key,
which changes when another place's record of the same birth joins its group
(county_aggregator/engine.py): a birth is its mother and its same-event signature
(ruleset.SAME_EVENT), anything else its merged key.

Every derive also re-derives what is not sent yet from the current merged records
(:meth:`ExchangeStore.refresh_unsent`): a notification whose event was withdrawn or whose
woman no longer qualifies is withdrawn, one whose card changed is rebuilt from the card
as it is now, and a corrected hukou county is a new notification to that county. So a
push never seals her data for a county the current records do not name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from county_aggregator.ruleset import SAME_EVENT
from county_aggregator.store_exchange import (
    BY_HAND_RECORD,
    ExchangeStore,
    Sent,
    erased_cards,
    floating_in_events,
    merged_card,
)
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
    """Add the notifications the merged events call for and bring the unsent ones in line
    with the merged records (withdraw, rebuild); returns how many are new."""
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
                "id": new_notification_id(
                    f"{county}/{ev.kind}/{event_identity(ev.kind, key, data, person_key)}"
                    f"/{notice.hukou_code[:6]}".encode()),
                "to_county": notice.hukou_code[:6], "kind": ev.notified_as,
                "record_kind": ev.kind, "record_key": key, "person_key": person_key,
                "village": village, "event_date": day,
                "due": due_date("floating_notification", date.fromisoformat(day),
                                calendar).due.isoformat(),
                "body": notice.body(), "made": now,
            })  # fmt: skip
    by_hand = [u for u in store.sent_all(unsent_only=True) if u.record_kind == BY_HAND_RECORD]
    new = store.refresh_unsent(rows, [_by_hand_now(conn, u, county) for u in by_hand])
    # Retention (SPEC §8.11): her data goes with her erased card, and from every row once
    # its statistical year and the next (Table 5's reporting of it) are over.
    store.erase_bodies(erased_cards(conn), first.isoformat())
    return new


def event_identity(kind: str, key: str, data: dict[str, Any], person_key: str) -> str:
    """What names one event across merges: a birth recorded by two places takes a new
    merged key when the second record joins its group, its mother and same-event
    signature stay (twins differ by birth order)."""
    same = SAME_EVENT.get(kind)
    if same is None:
        return key
    return "/".join([person_key, *(str(data.get(f)) for f in same[1])])


def _by_hand_now(conn: Any, u: Sent, county: str) -> tuple[str, dict[str, Any] | None]:
    """An unsent notification made by hand, rebuilt from her card as it is now (None:
    she no longer qualifies, so it is withdrawn)."""
    body = dict(u.body)
    found = by_hand_card(conn, county, str(body.get("id_number")), date.fromisoformat(u.event_date))
    if found is None:
        return u.id, None
    village, card = found
    now = Notification(
        u.kind, card["name"], card["id_number"], card["residence_address"],
        card["residence_code"], card["hukou_address"], card["hukou_code"], u.event_date,
        str(body.get("details", "")),
    )  # fmt: skip
    return u.id, {"to_county": now.hukou_code[:6], "village": village, "body": now.body()}


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


def by_hand_card(
    conn: Any, county: str, id_number: str, day: date
) -> tuple[str, dict[str, Any]] | None:
    """Her live merged card (village, data) if she is a woman aged 18-49 on ``day`` who
    floated in from another county, else None: checked when the notification is made
    and again before it is sent (derive.py)."""
    found = merged_card(conn, f"idn:{id_number}")
    card = found[1] if found is not None else {}
    born = card.get("birth_date")
    ok = (
        found is not None and card.get("sex") == "F"
        and card.get("floating_status") == "flowed_in"
        and isinstance(card.get("hukou_code"), str) and card["hukou_code"][:6] != county
        and isinstance(born, str) and _aged(born, day.isoformat())
        and all(isinstance(card.get(f), str) for f in _CARD_FIELDS)
    )  # fmt: skip
    return found if ok else None


_CARD_FIELDS = ("name", "id_number", "residence_address", "residence_code", "hukou_address")
