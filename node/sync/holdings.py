# SPDX-License-Identifier: Apache-2.0
"""What a node holds of other nodes' logs: per-log heads, envelopes to relay, entries.

Heads advance only inside the transaction that stores what they cover, so after a
crash the head never claims more than the disk holds (CouchDB's checkpoint lesson).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlite_utils import Database

from protocol import Entry, Frontier, Head, LogId, canonical
from protocol.crypto import sha256


def frontier(db: Database, logs: list[LogId] | None = None) -> Frontier:
    rows = db.execute("SELECT log, seq, head FROM frontier").fetchall()
    heads = {LogId.parse(log): Head(seq, head) for log, seq, head in rows}
    if logs is not None:
        heads = {k: v for k, v in heads.items() if k in logs}
    return Frontier(heads)


def subtree_frontier(db: Database, code_prefix: str) -> Frontier:
    """Heads of every log whose node code starts with ``code_prefix`` (a peer's subtree)."""
    heads = {}
    for log, seq, head in db.execute("SELECT log, seq, head FROM frontier"):
        parsed = LogId.parse(log)
        if parsed.node.code.startswith(code_prefix):
            heads[parsed] = Head(seq, head)
    return Frontier(heads)


def set_head(db: Database, log: LogId, seq: int, head: bytes, now_ms: int) -> None:
    db.execute(
        "INSERT INTO frontier (log, seq, head, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (log) DO UPDATE SET seq = excluded.seq, head = excluded.head,"
        " updated_at = excluded.updated_at",
        [str(log), seq, head, now_ms],
    )


def store_entries(db: Database, entries: list[Entry]) -> None:
    db.conn.executemany(
        "INSERT INTO received_entries (log, seq, hlc, ruleset, flags, payload, payload_hash,"
        " entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (str(e.log), e.seq, e.hlc, e.ruleset, e.flags, e.payload, e.payload_hash, e.hash)
            for e in entries
        ],
    )


def state_digest(heads: Frontier, outbox_seen: int) -> str:
    """What one side believes the pair should hold; equal digests mean nothing to do."""
    body = {"v": 1, "heads": heads.to_json(), "outbox": outbox_seen}
    return sha256(canonical.encode(body)).hex()[:32]


def pending_envelopes(db: Database) -> Iterator[tuple[bytes, str, int, int, bytes]]:
    """Relayed envelopes the parent has not acknowledged yet, in log order."""
    yield from db.execute(
        "SELECT message_id, log, first_seq, last_seq, raw FROM inbound"
        " WHERE forwarded_at IS NULL ORDER BY log, first_seq"
    )


def outbox_max(db: Database, child: str) -> int:
    row = db.execute("SELECT MAX(n) FROM outbox WHERE child = ?", [child]).fetchone()
    return int(row[0] or 0)


def add_to_outbox(db: Database, child: str, raw: bytes) -> None:
    n = outbox_max(db, child) + 1
    db.execute("INSERT INTO outbox (child, n, raw) VALUES (?, ?, ?)", [child, n, raw])
