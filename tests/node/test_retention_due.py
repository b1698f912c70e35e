# SPDX-License-Identifier: Apache-2.0
"""Retention listing and deletion, and open items with their deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime

from node.deadlines import WorkCalendar
from node.open_items import open_items
from node.recording import add_record
from node.retention import delete_expired, due_for_deletion
from node.store.store import NodeStore
from tests.node.domain.examples import example, woman_card


def test_aged_out_card_listed_then_erased(store: NodeStore) -> None:
    """domain.md 4: cards of women who aged out are kept 2 years, then destroyed under control."""
    old = add_record(
        store,
        "person",
        woman_card(birth=date(1977, 3, 1), spouse_ref=None),
        today=date(2026, 11, 28),
    )
    young = add_record(store, "person", woman_card(spouse_ref=None), today=date(2026, 11, 28))
    assert due_for_deletion(store, date(2028, 11, 28)) == []
    expired = due_for_deletion(store, date(2029, 3, 1))
    assert [e.record_id for e in expired] == [old]
    assert delete_expired(store, [old, young], date(2029, 3, 1)) == 1
    assert store.record("person", old) == {"_retired": "retention"}
    assert store.record("person", young) is not None
    assert store.records_hash() == store.rebuild_hash()


def test_open_birth_registration_deadlines(store: NodeStore) -> None:
    """domain.md 3: village opinion within 3 working days, to the township within 5."""
    w = add_record(store, "person", woman_card(spouse_ref=None), today=date(2026, 11, 28))
    reg = example(
        "birth_registration",
        mother_ref=w,
        registered_date="2025-09-29",
        village_opinion_date=None,
        forwarded_date=None,
    )
    rid = add_record(store, "birth_registration", reg, today=date(2026, 11, 28))
    items = {
        d.item.rule: d
        for d in open_items(store, date(2025, 9, 30), WorkCalendar())
        if d.record_id == rid
    }
    opinion = items["birth_registration_village_opinion"].item
    # 2025-09-30 is a working day, 10-01..10-08 the National Day holiday: due 2025-10-10.
    assert opinion.due.due == date(2025, 10, 10)
    assert opinion.is_overdue(datetime(2025, 10, 11, 4, tzinfo=UTC))
    assert "birth_registration_to_township" in items
