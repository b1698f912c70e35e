# SPDX-License-Identifier: Apache-2.0
"""What a node holds of other nodes' logs: per-log heads, envelopes to relay, entries.

Heads advance only inside the transaction that stores what they cover, so after a
crash the head never claims more than the disk holds (CouchDB's checkpoint lesson).

``sync_rejections`` is the sender's side of a refusal: per (peer, log) the last batch a
peer refused and why, kept until that peer acknowledges the range. A relay writes one
when its parent refuses a child's batch and passes it down, so the village sees
"rejected by county: <code>" in ``renkou node status``. The table is created here (IF
NOT EXISTS) rather than by a store migration because only the sync client writes it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlite_utils import Database

from protocol import BatchHeader, Entry, Frontier, Head, LogId, Suite, canonical, decode_header
from protocol.crypto import sha256

# An envelope's batch header sits at a fixed offset (SPEC.md §6.1): magic, hop suite,
# message id, from, to, sent, expires.
HEADER_OFFSET = 4 + 1 + 16 + 14 + 14 + 8 + 8
HEADER_SIZE = 128
MAX_SIGNATURE = max(suite.signature_size for suite in Suite)


@contextmanager
def immediate(db: Database) -> Iterator[None]:
    """A write transaction that takes the write lock first (``BEGIN IMMEDIATE``).

    Two requests carrying the same batch (a client retrying after a timeout) then
    queue behind each other, and the second sees the first's head: a duplicate, not a
    "database is locked" 500 from a stale read snapshot.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def frontier(db: Database, logs: list[LogId] | None = None) -> Frontier:
    if logs is not None and len(logs) == 1:
        row = db.execute("SELECT seq, head FROM frontier WHERE log = ?", [str(logs[0])]).fetchone()
        return Frontier({logs[0]: Head(row[0], row[1])} if row else {})
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


def known_hash(db: Database, log: LogId, seq: int) -> bytes | None:
    """The entry hash we hold (the county) or a kept header claims (a relay) for ``seq``."""
    row = db.execute(
        "SELECT entry_hash FROM received_entries WHERE log = ? AND seq = ?", [str(log), seq]
    ).fetchone()
    if row is not None:
        return bytes(row[0])
    held = held_header(db, log, seq)
    return None if held is None else held[0].claims().get(seq)


def held_header(db: Database, log: LogId, seq: int) -> tuple[BatchHeader, bytes] | None:
    """The header and origin signature of a relayed batch we keep that claims ``seq``.

    Reads only those bytes of the stored envelope (they sit at a fixed offset), not the
    whole envelope: this runs for every batch a relay receives.
    """
    row = db.execute(
        "SELECT substr(raw, ?, ?) FROM inbound WHERE log = ?"
        " AND (last_seq = ? OR first_seq = ? + 1) ORDER BY first_seq LIMIT 1",
        [HEADER_OFFSET + 1, HEADER_SIZE + 2 + MAX_SIGNATURE, str(log), seq, seq],
    ).fetchone()
    if row is None:
        return None
    part = bytes(row[0])
    header = decode_header(part[:HEADER_SIZE])
    (sig_len,) = struct.unpack_from(">H", part, HEADER_SIZE)
    return header, part[HEADER_SIZE + 2 : HEADER_SIZE + 2 + sig_len]


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


def envelopes_after(db: Database, log: LogId, seq: int) -> list[tuple[bytes, int, int, bytes]]:
    """Relayed envelopes of ``log`` that reach beyond ``seq``, in order: what to forward."""
    return [
        (bytes(mid), first, last, bytes(raw))
        for mid, first, last, raw in db.execute(
            "SELECT message_id, first_seq, last_seq, raw FROM inbound"
            " WHERE log = ? AND last_seq > ? ORDER BY first_seq",
            [str(log), seq],
        )
    ]


def drop_from(db: Database, log: LogId, first_seq: int, prev_hash: bytes, now_ms: int) -> int:
    """Forget the relayed copies of ``log`` from ``first_seq`` on; return how many.

    For a batch the parent refused as unreadable (it cannot be fixed by resending the
    same bytes): our head goes back to ``first_seq - 1``, so the child's next round
    sends the range again, freshly sealed.
    """
    with immediate(db):
        count = db.execute(
            "DELETE FROM inbound WHERE log = ? AND first_seq >= ?", [str(log), first_seq]
        ).rowcount
        if first_seq <= 1:
            db.execute("DELETE FROM frontier WHERE log = ?", [str(log)])
        else:
            set_head(db, log, first_seq - 1, prev_hash, now_ms)
    return int(count)


def outbox_max(db: Database, child: str) -> int:
    row = db.execute("SELECT MAX(n) FROM outbox WHERE child = ?", [child]).fetchone()
    return int(row[0] or 0)


def add_to_outbox(db: Database, child: str, raw: bytes) -> None:
    n = outbox_max(db, child) + 1
    db.execute("INSERT INTO outbox (child, n, raw) VALUES (?, ?, ?)", [child, n, raw])


# -- refusals the sender keeps ---------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    peer: str
    log: str
    first_seq: int
    last_seq: int
    code: str
    reason: str
    at: int


def ensure_tables(db: Database) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS sync_rejections (peer TEXT NOT NULL, log TEXT NOT NULL,"
        " first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, code TEXT NOT NULL,"
        " reason TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (peer, log)) WITHOUT ROWID"
    )


def record_rejection(db: Database, r: Rejection) -> bool:
    """Keep the newest refusal per (peer, log); True if it is news (not already held)."""
    ensure_tables(db)
    row = db.execute(
        "SELECT first_seq, last_seq, code FROM sync_rejections WHERE peer = ? AND log = ?",
        [r.peer, r.log],
    ).fetchone()
    if row is not None and tuple(row) == (r.first_seq, r.last_seq, r.code):
        return False
    db.execute(
        "INSERT INTO sync_rejections (peer, log, first_seq, last_seq, code, reason, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (peer, log) DO UPDATE SET"
        " first_seq = excluded.first_seq, last_seq = excluded.last_seq, code = excluded.code,"
        " reason = excluded.reason, at = excluded.at",
        [r.peer, r.log, r.first_seq, r.last_seq, r.code, r.reason, r.at],
    )
    return True


def clear_rejections(db: Database, peer: str, log: str, acked_seq: int) -> None:
    """A peer acknowledged ``log`` through ``acked_seq``: refusals up to there are over."""
    ensure_tables(db)
    db.execute(
        "DELETE FROM sync_rejections WHERE peer = ? AND log = ? AND last_seq <= ?",
        [peer, log, acked_seq],
    )


def rejections(db: Database) -> list[Rejection]:
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_rejections'"
    ).fetchone()
    if exists is None:
        return []
    return [
        Rejection(*row)
        for row in db.execute(
            "SELECT peer, log, first_seq, last_seq, code, reason, at FROM sync_rejections"
            " ORDER BY log, peer"
        )
    ]
