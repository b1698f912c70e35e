# SPDX-License-Identifier: Apache-2.0
"""What every sync round reads of the big tables: the own log, the relayed copies.

The log holds tens of thousands of entries with their payloads, a relay keeps every
batch it relayed, and SQLCipher decrypts their pages one by one: a statement that scans
the log (``GROUP BY epoch``, ``WHERE seq = 1``) or visits every kept copy reads the
whole history, at every round, and a round gets slower with every month served.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from sqlite_utils import Database

from node.store.holdings import Holdings
from node.store.schema import migrations
from node.store.store import NodeStore
from protocol import LogId


def _plans(db: Database, run: Callable[[], Any]) -> tuple[Any, list[tuple[str, str]]]:
    """What ``run`` returns, and each statement it ran with each step of its plan."""
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        result = run()
    finally:
        db.conn.set_trace_callback(None)
    plans = [
        (sql, row[3])
        for sql in statements
        for row in db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
    ]
    assert plans, statements
    return result, plans


def _written(store: NodeStore, n: int) -> None:
    for i in range(n):
        rid = store.new_id("person")
        store.write([store.upsert_op("person", rid, {"name": f"王{i}"})])


def test_closed_heads_cuts_and_epochs_seek_the_log_and_never_scan_it(store: NodeStore) -> None:
    _written(store, 4)  # epoch 1: the install entry and 4 writes
    kept = next(store.entries(3, 3)).hash
    store.start_epoch("fork", kept=3)  # epoch 2 starts from entry 3: 4 and 5 are cut off
    _written(store, 2)
    epoch_2_head = store.changelog.head_hash
    store.start_epoch("restore", known_epoch=4)  # epoch 5, after epoch 2's head
    _written(store, 1)
    changelog = store.changelog
    (heads, cuts, epochs, new_pc), plans = _plans(
        store.db,
        lambda: (changelog.closed_heads(), changelog.cuts(), changelog.epochs(), store.is_new_pc()),
    )
    assert cuts == {1: 3}
    assert heads == {1: (3, kept), 2: (3, epoch_2_head)}
    assert epochs == [1, 2, 5] and not new_pc
    assert [(sql, plan) for sql, plan in plans if "SCAN" in plan] == []


def test_marking_copies_forwarded_visits_only_those_not_forwarded_yet() -> None:
    """A relay marks, for every log at every round, the copies its parent holds: the
    copies forwarded before are not visited (each visit read the whole envelope, as
    ``forwarded_at`` lies behind ``raw``)."""
    db = Database(memory=True)
    migrations.apply(db)
    holdings, log = Holdings(db), LogId.parse("village:440104001002#1")
    for n in range(6):  # six batches of 100 entries; the first four forwarded before
        header = SimpleNamespace(log=log, first_seq=100 * n + 1, last_seq=100 * n + 100)
        holdings.keep_envelope(bytes([n]) * 16, header, b"\x00" * 5000, 1)
        if n < 4:
            holdings.mark_forwarded(bytes([n]) * 16, 2)
    _, plans = _plans(db, lambda: holdings.mark_forwarded_through(log, 500, 3))
    assert [plan for _, plan in plans] == ["SEARCH inbound USING INDEX inbound_pending (log=?)"]
    forwarded = db.execute("SELECT first_seq, forwarded_at FROM inbound ORDER BY first_seq")
    assert [tuple(row) for row in forwarded] == [
        (1, 2),
        (101, 2),
        (201, 2),
        (301, 2),
        (401, 3),
        (501, None),
    ]
