# SPDX-License-Identifier: Apache-2.0
"""What every sync round reads of the node's own log: each epoch's head and cut, by seeks.

The log holds tens of thousands of entries with their payloads, in pages that SQLCipher
decrypts one by one: a query that scans it (``GROUP BY epoch``, ``WHERE seq = 1``) costs
a read of the whole file, at every round (a tenth of a 20,000-entry catch-up).
"""

from __future__ import annotations

from node.store.store import NodeStore


def _written(store: NodeStore, n: int) -> None:
    for i in range(n):
        rid = store.new_id("person")
        store.write([store.upsert_op("person", rid, {"name": f"王{i}"})])


def test_closed_heads_and_cuts_seek_the_log_and_never_scan_it(store: NodeStore) -> None:
    _written(store, 4)  # epoch 1: the install entry and 4 writes
    kept = next(store.entries(3, 3)).hash
    store.start_epoch("fork", kept=3)  # epoch 2 starts from entry 3: 4 and 5 are cut off
    _written(store, 2)
    epoch_2_head = store.changelog.head_hash
    store.start_epoch("restore", known_epoch=4)  # epoch 5, after epoch 2's head
    _written(store, 1)
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        heads, cuts = store.changelog.closed_heads(), store.changelog.cuts()
    finally:
        store.db.conn.set_trace_callback(None)
    assert cuts == {1: 3}
    assert heads == {1: (3, kept), 2: (3, epoch_2_head)}
    plans = [
        (sql, row[3])
        for sql in statements
        for row in store.db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
    ]
    assert plans and [(sql, plan) for sql, plan in plans if "SCAN" in plan] == []
