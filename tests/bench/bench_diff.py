# SPDX-License-Identifier: Apache-2.0
"""Our diff next to SQLite's own: the session extension's changeset, in one run.

Issue 6 asks for bytes *and* apply speed side by side. The same realistic changes
(tests/bench/changes.py) are carried two ways to an empty receiver:

- as a SQLite session changeset (apsw), zlib-compressed, applied with
  ``Changeset.apply`` to tables shaped like the changes;
- as our signed, sealed envelopes of 5,000 entries, which the receiver decodes,
  verifies (hop, batch signature, every chain link), opens and applies to the node
  store's ``records`` table with the node's own apply function (field versions kept).

The changeset is a diff of end states: several changes to one row fold into one row,
and it carries no signature, no sender, no history. Its figures are the floor of what
moving the same rows costs, not a like-for-like protocol.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import apsw
from sqlite_utils import Database

from node.store.apply import apply_entry
from node.store.schema import migrations
from protocol.batches import sign_batch
from protocol.envelope import address, decode_envelope, open_envelope, seal_batch
from protocol.ids import LogId
from protocol.testing import NOW, ORIGIN_EXPIRES, ORIGIN_SENT, make_node
from tests.bench.bench_protocol import COLUMNS, _apply, build_entries, chunks
from tests.bench.changes import Change, generate

BATCH = 5000


def _changeset(changes: Sequence[Change]) -> bytes:
    db = _tables()
    session = apsw.Session(db, "main")
    session.attach()
    with db:
        for ch in changes:
            _apply(db, ch)
    return session.changeset()


def _tables() -> apsw.Connection:
    db = apsw.Connection(":memory:")
    for kind, cols in COLUMNS.items():
        db.execute(f"CREATE TABLE {kind} (id TEXT PRIMARY KEY, {', '.join(cols)})")
    return db


def run(quick: bool = False) -> Iterator[dict[str, Any]]:
    total = 20_000 if quick else 200_000
    root = make_node("440104")
    town = make_node("440104001", root)
    village = make_node("440104001002", root)
    changes = list(generate(total))
    entries = build_entries(changes, LogId(village.node, 1), village.signing.suite)
    envelopes = []
    for chunk in chunks(entries, BATCH):
        header, sig = sign_batch(
            chunk,
            village.signing,
            village.cert.serial,
            sent_ms=ORIGIN_SENT,
            expires_ms=ORIGIN_EXPIRES,
        )
        sealed = seal_batch(chunk, header, sig, [root.kem.public_key])
        raw = address(sealed, village.signing, village.node, town.node, NOW, NOW + 10**7)
        envelopes.append(raw)

    changeset = _changeset(changes)
    target = _tables()
    t0 = time.perf_counter()
    with target:
        apsw.Changeset.apply(zlib.decompress(zlib.compress(changeset, 9)), target)
    changeset_s = time.perf_counter() - t0
    rows = sum(target.execute(f"SELECT COUNT(*) FROM {k}").fetchall()[0][0] for k in COLUMNS)

    store = Database(memory=True)
    migrations.apply(store)
    keys = {root.kem.public_key.key_id: root.kem}
    vkey = village.signing.verify_key
    t0 = time.perf_counter()
    with store.conn:
        for raw in envelopes:
            env = decode_envelope(raw)
            env.verify_hop(vkey, NOW)
            env.verify_batch(vkey)
            for entry in open_envelope(env, keys):
                apply_entry(store, entry)
    ours_s = time.perf_counter() - t0
    records = store.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    assert records == rows, (records, rows)  # both receivers end with the same rows

    ours_bytes = sum(len(raw) for raw in envelopes)
    changeset_bytes = len(zlib.compress(changeset, 9))
    yield {
        "name": "diff.vs_changeset",
        "ops_per_s": round(total / ours_s),
        "changeset_ops_per_s": round(total / changeset_s),
        "apply_ratio_to_changeset": round(changeset_s / ours_s, 3),
        "bytes_per_op": round(ours_bytes / total, 2),
        "changeset_bytes_per_op": round(changeset_bytes / total, 2),
        "bytes_ratio_to_changeset": round(ours_bytes / changeset_bytes, 3),
        "changes": total,
        "rows": rows,
        "batch": BATCH,
        "ours": "decode+verify+open+apply into records (field versions kept), hybrid suite",
        "changeset": "zlib'd session changeset, Changeset.apply, no signature or history",
    }
