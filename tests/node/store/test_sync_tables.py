# SPDX-License-Identifier: Apache-2.0
"""The sync tables' owners in node/store/: what the sync layer relies on of each."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from node.store.acks import PeerAcks, Rejection
from node.store.holdings import Holdings
from node.store.outbox import Inbox, Outbox
from node.store.schema import migrations
from node.store.sync_meta import SyncMeta
from protocol import Head, LogId, item_mark

LOG = LogId.parse("village:440104001002#1")


@pytest.fixture
def db() -> Database:
    fresh = Database(memory=True)
    migrations.apply(fresh)
    return fresh


def test_an_acknowledgement_is_kept_only_if_it_reaches_further(db: Database) -> None:
    """SPEC.md §8.4: a sender's record of a peer only advances; an ack ends the refusals
    it covers, and a refusal already held is not news."""
    acks = PeerAcks(db)
    refusal = Rejection("county:440104", str(LOG), 3, 4, "fork", "forked", 1)
    assert acks.record_rejection(refusal) and not acks.record_rejection(refusal)
    acks.keep(b"a5", "county:440104", str(LOG), 5, b"\x05" * 32, 10)
    acks.keep(b"a3", "county:440104", str(LOG), 3, b"\x03" * 32, 11)
    assert acks.head("county:440104", LOG) == Head(5, b"\x05" * 32)
    assert acks.rejections() == []


def test_outbox_numbers_marks_and_pages(db: Database) -> None:
    outbox = Outbox(db)
    assert outbox.last("village:440104001002") == 0 and outbox.mark("village:x", 1) == ""
    for raw in (b"one", b"two" * 10, b"three"):
        outbox.add("village:440104001002", raw)
    assert outbox.last("village:440104001002") == 3
    assert outbox.mark("village:440104001002", 2) == item_mark(b"two" * 10)
    page = outbox.page("village:440104001002", 0, 64, max_bytes=10)
    assert [i.n for i in page] == [1]  # the second would pass the byte budget
    assert [i.n for i in outbox.page("village:440104001002", 1, 64, 10)] == [2]  # always one
    assert [i.n for i in outbox.page("village:440104001002", 1, 1, 1000)] == [2]


def test_inbox_cursor_and_mark(db: Database) -> None:
    inbox = Inbox(db)
    assert (inbox.cursor("township:440104001"), inbox.mark("township:440104001")) == (0, "")
    inbox.set("township:440104001", 7, "ab" * 16)
    assert (inbox.cursor("township:440104001"), inbox.mark("township:440104001")) == (7, "ab" * 16)


def test_sync_meta_prefix_is_literal(db: Database) -> None:
    """``_`` and ``%`` in a prefix are not LIKE wildcards."""
    meta = SyncMeta(db)
    meta.set("parent_heads:a", "1")
    meta.set("parentXheads:b", "2")
    assert meta.values("parent_heads:") == ["1"]


def test_count_entries_by_code_prefix(db: Database) -> None:
    holdings = Holdings(db)
    for log in ("village:440104001002#1", "township:440104001#1", "village:440104002001#1"):
        db.execute(
            "INSERT INTO received_entries (log, seq, hlc, ruleset, flags, payload_hash,"
            " entry_hash) VALUES (?, 1, 1, 1, 0, x'00', x'00')",
            [log],
        )
    assert holdings.count_entries() == 3
    assert holdings.count_entries("440104001") == 2
    assert holdings.count_entries("440104002") == 1
