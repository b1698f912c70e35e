# SPDX-License-Identifier: Apache-2.0
"""Retention (domain.md section 4): only what the rules allow is deleted, and deleting
erases the payloads in the change log too (SPEC §5.4), the chain still verifying."""

from __future__ import annotations

from datetime import date
from typing import Any

from node.recording import add_record
from node.retention import delete_expired, due_for_deletion
from node.store.store import NodeStore
from protocol import NodeId
from tests.node.domain.examples import example, woman_card

TODAY = date(2026, 11, 28)
VILLAGE = NodeId.for_code("440104001002")


def card(store: NodeStore, **changes: Any) -> str:
    data = woman_card(
        hukou_code="440104001002", floating_status="resident", floating_since=None,
        floating_place=None, spouse_ref=None, **changes,
    )  # fmt: skip
    return add_record(store, "person", data, today=TODAY)


def test_aged_out_card_listed_then_erased(store: NodeStore) -> None:
    """domain.md 4: cards of women who aged out are kept 2 years, then destroyed under control."""
    old = card(store, birth=date(1977, 3, 1), name="刘老妇")
    young = card(store, name="陈青年")
    assert due_for_deletion(store, date(2028, 11, 28)) == []
    expired = due_for_deletion(store, date(2029, 3, 1))
    assert [e.record_id for e in expired] == [old]
    assert delete_expired(store, [old, young], date(2029, 3, 1)) == 1
    assert store.record("person", old) is None
    assert store.record("person", young) is not None
    assert store.records_hash() == store.rebuild_hash()
    assert store.verify_log() == store.changelog.head_seq


def test_floating_out_card_is_never_due_hukou_moved_away_is(store: NodeStore) -> None:
    """Issue 12 item 9, domain.md 4: a floating-out (流出) woman's card is never due, her
    hukou is still here; a woman whose hukou moved away (迁出) is due after 2 years."""
    floating = card(store, name="外出女", birth=date(1995, 1, 1))
    add_record(store, "floating", example("floating", person_ref=floating,
                                          event_date="2020-05-01"), today=TODAY)  # fmt: skip
    moved = card(store, name="迁走女", birth=date(1996, 2, 2))
    add_record(store, "move", example("move", person_ref=moved, direction="out",
                                      move_date="2024-11-01", from_code="440104001002",
                                      to_code="440106001001"), today=TODAY)  # fmt: skip
    assert store.record("person", moved)["_retired"] == "moved_away"
    assert store.record("person", floating)["floating_status"] == "flowed_out"
    assert due_for_deletion(store, date(2026, 10, 31)) == []
    (expired,) = due_for_deletion(store, date(2026, 11, 1))
    assert (expired.record_id, expired.since) == (moved, date(2024, 11, 1))
    # Six years away, still not due: she is her hukou village's responsibility.
    assert [e.record_id for e in due_for_deletion(store, date(2040, 1, 1))] == [moved]


def test_floating_out_card_is_never_due_even_past_the_childbearing_age(store: NodeStore) -> None:
    """Issue 12 item 9, domain.md 4: "a floating-out woman's card is never due", also
    once she is past 50: her hukou is still here. A resident of the same age is due."""
    entered = date(2016, 1, 1)  # both were 45
    cards = [
        add_record(store, "person", woman_card(
            birth=born, name=name, hukou_code="440104001002", floating_status="resident",
            floating_since=None, floating_place=None, spouse_ref=None), today=entered)
        for name, born in (("外出老妇", date(1970, 1, 1)), ("在家老妇", date(1970, 2, 2)))
    ]  # fmt: skip
    away, home = cards
    add_record(store, "floating", example("floating", person_ref=away,
                                          event_date="2015-05-01"), today=entered)  # fmt: skip
    assert [e.record_id for e in due_for_deletion(store, date(2035, 1, 1))] == [home]
    assert delete_expired(store, [away, home], date(2035, 1, 1)) == 1
    assert store.record("person", away) is not None


def test_a_current_benefit_recipient_is_not_due(store: NodeStore) -> None:
    old = card(store, birth=date(1960, 1, 1), card_type="family", name="王桂兰")
    add_record(store, "benefit", example("benefit", person_ref=old, effective_date="2021-01-01"),
               today=TODAY)  # fmt: skip
    assert due_for_deletion(store, TODAY) == []


def test_deletion_erases_her_records_and_their_payloads(store: NodeStore) -> None:
    """Issue 16 item 5, SPEC §5.4: the card and the records about her are retired with
    reason retention in one entry; every earlier payload that concerned only them is
    erased (headers kept, the chain verifies); the stock's hand-out stays."""
    old = card(store, birth=date(1977, 3, 1), name="刘老妇", phone="13911112222")
    other = card(store, name="陈青年")
    add_record(store, "marriage", example("marriage", woman_ref=old, husband_name="赵老汉"),
               today=TODAY)  # fmt: skip
    add_record(store, "supply_receipt", example("supply_receipt"), today=TODAY)
    handout = add_record(store, "supply_handout", example("supply_handout", person_ref=old),
                         today=TODAY)  # fmt: skip
    head = store.changelog.head_seq
    assert delete_expired(store, [old], date(2029, 3, 1)) == 1
    retire = list(store.entries(head + 1))[0]
    assert retire.payload is not None and b"retention" in retire.payload
    payloads = b"".join(e.payload or b"" for e in store.entries())
    for secret in ("刘老妇", "赵老汉", "13911112222"):
        assert secret.encode() not in payloads
    assert "陈青年".encode() in payloads  # not hers: kept
    assert store.record("supply_handout", handout) is not None
    assert store.records_hash() == store.rebuild_hash()
    assert store.verify_log() == store.changelog.head_seq
    raw = (store.data_dir / "node.db").read_bytes()
    assert "赵老汉".encode() not in raw and "刘老妇".encode() not in raw
    assert store.record("person", other) is not None
