# SPDX-License-Identifier: Apache-2.0
"""What a person's card page shows, gathered in one place from the store.

The card's own fields (in the schema's order, so fields the domain adds appear), the
people of the same household, the records that name her (events and services), her
open items with their due dates, the history of every change from the log, and who
looked at the card. The view is audited by the caller (``NodeStore.read``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from node.calendar_store import METADATA_DIR, node_calendar
from node.checks import EVENT_DATE
from node.domain.codes import HEAD
from node.open_items import Due, open_items
from node.pages.history import Change
from node.pages.labels import field_label, kind_label, schema_fields, value_label
from node.pages.people_index import PeopleIndex, PersonHit
from node.pages.refs_index import RefIndex
from node.store.queries import AuditRow, audit_of
from node.store.store import NodeStore
from node.timeutil import SHANGHAI

EVENT_KINDS = ("marriage", "pregnancy", "birth", "birth_registration", "death", "move")
OTHER_DATES = {
    "supply_receipt": "received_date",
    "complaint": "received_date",
    "only_child_certificate": "issued_date",
}


@dataclass(frozen=True, slots=True)
class Fact:
    name: str
    label: str
    value: Any
    link: str | None = None  # the record id a reference names


@dataclass(frozen=True, slots=True)
class Related:
    kind: str
    record_id: str
    kind_label: str
    day: str
    summary: str
    retired: str | None


@dataclass(frozen=True, slots=True)
class DueRow:
    kind: str
    record_id: str
    item: str
    due: date
    provisional: bool
    overdue: bool
    days_left: int


@dataclass
class CardView:
    record_id: str
    data: dict[str, Any]
    retired: str | None
    facts: list[Fact]
    household: list[PersonHit]
    head: PersonHit | None = None  # of the household, when another member is its head
    events: list[Related] = field(default_factory=list)
    services: list[Related] = field(default_factory=list)
    due: list[DueRow] = field(default_factory=list)
    history: list[Change] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)


def facts_of(kind: str, data: dict[str, Any]) -> list[Fact]:
    """The record's fields in schema order, labelled and shown as officers read them."""
    out = []
    for name in schema_fields(kind) or data:
        value = data.get(name)
        link = value if name.endswith("_ref") and isinstance(value, str) else None
        out.append(Fact(name, field_label(kind, name), value_label(kind, name, value), link))
    return out


def _summary(kind: str, data: dict[str, Any], skip: str) -> str:
    parts = []
    for name in schema_fields(kind):
        value = data.get(name)
        if name == skip or name.endswith("_ref") or value in (None, "") or isinstance(value, dict):
            continue
        parts.append(f"{field_label(kind, name)}：{value_label(kind, name, value)}")
    return "；".join(parts[:4])


def _related(
    store: NodeStore, refs: RefIndex, person_id: str
) -> tuple[list[Related], list[Related]]:
    events: list[Related] = []
    services: list[Related] = []
    for kind, rid in refs.naming(person_id):
        found = store.record(kind, rid)
        if kind == "person" or found is None:
            continue
        retired = found.pop("_retired", None)
        data = found
        day_field = EVENT_DATE.get(kind) or OTHER_DATES.get(kind, "")
        row = Related(
            kind,
            rid,
            kind_label(kind),
            str(data.get(day_field) or ""),
            _summary(kind, data, day_field),
            retired,
        )
        (events if kind in EVENT_KINDS else services).append(row)
    events.sort(key=lambda r: r.day, reverse=True)
    services.sort(key=lambda r: r.day, reverse=True)
    return events, services


def due_rows(items: list[Due], now: datetime) -> list[DueRow]:
    from node.deadlines import get_rule

    return [
        DueRow(
            d.kind,
            d.record_id,
            get_rule(d.item.rule).zh_name,
            d.item.due.due,
            d.item.due.provisional,
            d.item.is_overdue(now),
            d.item.days_left(now) or 0,
        )
        for d in items
        if d.item.has_due_date  # a complaint followed until answered has no date
    ]


def noon(day: date) -> datetime:
    """Deadlines are judged at noon in Shanghai of the day (as ``renkou node due`` does)."""
    return datetime.combine(day, time(12), SHANGHAI).astimezone(UTC)


_ITEMS_LOCK = threading.Lock()
_ITEMS: dict[tuple[str, int, int, date, int], list[Due]] = {}


def node_items(store: NodeStore, today: date, actor: str, record_id: str) -> list[Due]:
    """The node's open items, worked out once per state of the log and day.

    Listing every item of a 5,000-resident village costs more than the rest of a card
    view; between two writes the list cannot change, so card views share it (keyed by
    the data dir, the log's epoch and head, and the day). Not audited: this view's
    audit row is the read of the card.
    """
    schedules = store.data_dir / METADATA_DIR  # an imported holiday schedule moves dates
    stamp = schedules.stat().st_mtime_ns if schedules.exists() else 0
    key = (str(store.data_dir), store.changelog.log.epoch, store.changelog.head_seq, today, stamp)
    with _ITEMS_LOCK:
        found = _ITEMS.get(key)
    if found is None:
        found = open_items(
            store,
            today,
            node_calendar(store.data_dir),
            actor=actor,
            purpose=f"card {record_id}",
            audit=False,
        )
        with _ITEMS_LOCK:
            _ITEMS.clear()  # only the newest state is worth keeping
            _ITEMS[key] = found
    return found


def build_card(
    store: NodeStore,
    index: PeopleIndex,
    refs: RefIndex,
    record_id: str,
    data: dict[str, Any],
    today: date,
    actor: str,
) -> CardView:
    retired = data.pop("_retired", None)
    facts = [
        Fact(f.name, f.label, index.name_of(f.link) or f.link, f.link) if f.link else f
        for f in facts_of("person", data)
    ]
    card = CardView(record_id, data, retired, facts, [])
    address = str(data.get("hukou_address") or "")
    if address:
        card.household = [hit for hit in index.household(address) if hit.record_id != record_id]
        card.head = next((h for h in card.household if h.relation == HEAD), None)
    card.events, card.services = _related(store, refs, record_id)
    mine = {record_id} | {r.record_id for r in card.events + card.services}
    items = [d for d in node_items(store, today, actor, record_id) if d.record_id in mine]
    card.due = due_rows(items, noon(today))
    card.audit = audit_of(store.db, "person", record_id, limit=20)
    return card
