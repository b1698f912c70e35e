# SPDX-License-Identifier: Apache-2.0
"""What a node holds of other nodes' logs: per-log heads, envelopes to relay, entries.

Heads advance only inside the transaction that stores what they cover, so after a
crash the head never claims more than the disk holds (CouchDB's checkpoint lesson).

``sync_rejections`` is the sender's side of a refusal: per (peer, log) the last batch a
peer refused and why, kept until that peer acknowledges the range. A relay writes one
when its parent refuses a child's batch and passes it down, so the village sees
"rejected by county: <code>" in ``renkou node status``. The store's migration m003
creates the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice

from sqlite_utils import Database

from protocol import (
    HEADER_VIEW_OFFSET,
    HEADER_VIEW_SIZE,
    BatchHeader,
    Entry,
    Frontier,
    Head,
    LogId,
    NodeId,
    RevocationList,
    decode_header_view,
    item_mark,
)


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
    """Keep one verified run of a log: consecutive entries, each one's ``prev_hash`` the
    hash of the one before (``open_envelope`` checked the chain to the signed head).

    So every entry's hash but the last is already in hand as its successor's
    ``prev_hash``; hashing each header again was a tenth of the county's receipt.

    The chain itself is the caller's to have checked (hashing it again is what this
    avoids); the run's shape is checked here.

    Raises:
        ValueError: ``entries`` is not a run of consecutive seqs of one log.
    """
    if not entries:
        return
    first = entries[0]
    if [e.seq for e in entries] != list(range(first.seq, first.seq + len(entries))) or any(
        e.log != first.log for e in entries
    ):
        raise ValueError("store_entries takes one run of consecutive entries of one log")
    last = entries[-1]
    log = str(first.log)
    hashes = [e.prev_hash for e in islice(entries, 1, None)]
    hashes.append(last.hash)
    db.conn.executemany(
        "INSERT INTO received_entries (log, seq, hlc, ruleset, flags, payload, payload_hash,"
        " entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (log, e.seq, e.hlc, e.ruleset, e.flags, e.payload, e.payload_hash, h)
            for e, h in zip(entries, hashes, strict=True)
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
        [HEADER_VIEW_OFFSET + 1, HEADER_VIEW_SIZE, str(log), seq, seq],
    ).fetchone()
    return None if row is None else decode_header_view(bytes(row[0]))


def envelopes_after(db: Database, log: LogId, seq: int) -> list[tuple[bytes, int, int, bytes]]:
    """Relayed envelopes of ``log`` that reach beyond ``seq``, in order: what to forward."""
    return _envelopes(db, log, "last_seq > ?", seq)


def envelopes_through(db: Database, log: LogId, seq: int) -> list[tuple[bytes, int, int, bytes]]:
    """Relayed envelopes of ``log`` that end at or below ``seq``, in order."""
    return _envelopes(db, log, "last_seq <= ?", seq)


def _envelopes(
    db: Database, log: LogId, bound: str, seq: int
) -> list[tuple[bytes, int, int, bytes]]:
    return [
        (bytes(mid), first, last, bytes(raw))
        for mid, first, last, raw in db.execute(
            "SELECT message_id, first_seq, last_seq, raw FROM inbound"
            f" WHERE log = ? AND {bound} ORDER BY first_seq",
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


def outbox_mark(db: Database, child: str, n: int) -> str:
    """The mark of ``child``'s outbox item ``n``; "" when there is none."""
    row = db.execute("SELECT raw FROM outbox WHERE child = ? AND n = ?", [child, n]).fetchone()
    return item_mark(bytes(row[0])) if row is not None else ""


def get_meta(db: Database, key: str) -> str | None:
    """A value the sync layer keeps in ``node_meta`` (None if unset)."""
    row = db.execute("SELECT value FROM node_meta WHERE key = ?", [key]).fetchone()
    return str(row[0]) if row else None


def set_meta(db: Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
        " DO UPDATE SET value = excluded.value",
        [key, value],
    )


_INBOX_MARK = "inbox_mark:{peer}"


def inbox_mark(db: Database, peer: str) -> str:
    """The mark of the last item we took from ``peer``'s outbox ("" if unknown)."""
    return get_meta(db, _INBOX_MARK.format(peer=peer)) or ""


def set_inbox(db: Database, peer: str, n: int, mark: str) -> None:
    """We have taken ``peer``'s outbox through item ``n``, whose mark is ``mark``."""
    db.execute(
        "INSERT INTO inbox_cursor (peer, n) VALUES (?, ?) ON CONFLICT (peer)"
        " DO UPDATE SET n = excluded.n",
        [peer, n],
    )
    set_meta(db, _INBOX_MARK.format(peer=peer), mark)


def unacknowledged(db: Database, peer: str, crl: RevocationList | None) -> list[str]:
    """Relayed logs we hold beyond the acknowledgement of ``peer`` we keep.

    Logs of revoked nodes do not count: their acknowledgement has nobody to go to (the
    node is refused at the handshake), and the parent refuses them beyond
    ``valid_through``.
    """
    revoked = revoked_through(crl)
    return [
        text
        for (text,) in db.execute(
            "SELECT f.log FROM frontier AS f LEFT JOIN peer_acks AS a"
            " ON a.peer = ? AND a.log = f.log WHERE COALESCE(a.seq, 0) < f.seq",
            [peer],
        )
        if LogId.parse(text).node not in revoked
    ]


# -- revoked children's logs in the state digest ---------------------------------------

_REVOKED_HEADS = "revoked_heads:{peer}"


def revoked_through(crl: RevocationList | None) -> dict[NodeId, dict[LogId, int]]:
    """Per revoked node, how far each of its logs stays valid (0 for a log not named)."""
    out: dict[NodeId, dict[LogId, int]] = {}
    for item in crl.revoked.values() if crl is not None else ():
        logs = out.setdefault(item.node, {})
        for log, seq in item.valid_through.items():
            logs[log] = max(logs.get(log, 0), seq)
    return out


def remember_revoked(db: Database, peer: str, crl: RevocationList | None, theirs: Frontier) -> None:
    """Keep ``peer``'s heads of revoked nodes' logs, from a full state exchange.

    ``theirs`` is the peer's view of our subtree; a revoked log it does not list is
    kept as held through 0. Only logs of nodes our revocation list names are kept.
    """
    revoked = revoked_through(crl)
    if not revoked:
        return
    logs = {log for log, _ in theirs.items() if log.node in revoked}
    logs |= {log for log, _ in frontier(db).items() if log.node in revoked}
    logs |= {log for log in map(LogId.parse, _reported(db, peer)) if log.node in revoked}
    if not logs:
        return  # a village, or a relay without a revoked child
    body = {}
    for log in logs:
        head = theirs.get(log)
        body[str(log)] = [head.seq, head.hash.hex()] if head is not None else [0, ""]
    set_meta(db, _REVOKED_HEADS.format(peer=peer), json.dumps(body, sort_keys=True))


def _reported(db: Database, peer: str) -> dict[str, tuple[int, str]]:
    """The heads of revoked logs ``peer`` last reported (remember_revoked)."""
    value = get_meta(db, _REVOKED_HEADS.format(peer=peer))
    return json.loads(value) if value else {}


def revoked_wanted(db: Database, peer: str, crl: RevocationList | None, ours: Frontier) -> Frontier:
    """``ours`` with each revoked node's log as ``peer`` last reported it, where the peer
    then held all of it that it will ever take from us.

    A revoked log moves only up to its ``valid_through``, and the revoked node cannot
    sync any more. Once the peer holds ``min(our head, valid_through)`` or more, nothing
    can flow either way, but our head may differ from the peer's for ever: we hold more
    (refused beyond valid_through) or less (we were restored from a backup that never
    had all of it). Counting such a log at the peer's head in the state digest lets the
    pair be idle again (one request a round) instead of comparing the full state at
    every round. While the peer lacks valid entries we hold, our own head counts, so the
    digests differ and the forward is retried.
    """
    revoked = revoked_through(crl)
    reported = _reported(db, peer) if revoked else {}
    heads = dict(ours.items())
    for text, (seq, digest) in reported.items():
        log = LogId.parse(text)
        if log.node not in revoked:
            continue
        mine = heads.get(log)
        if seq < min(mine.seq if mine else 0, revoked[log.node].get(log, 0)):
            continue  # the peer lacks valid entries we hold: forward them first
        if seq == 0:
            heads.pop(log, None)
        else:
            heads[log] = Head(seq, bytes.fromhex(digest))
    return Frontier(heads)


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


def record_rejection(db: Database, r: Rejection) -> bool:
    """Keep the newest refusal per (peer, log); True if it is news (not already held)."""
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
    db.execute(
        "DELETE FROM sync_rejections WHERE peer = ? AND log = ? AND last_seq <= ?",
        [peer, log, acked_seq],
    )


def rejections(db: Database) -> list[Rejection]:
    return [
        Rejection(*row)
        for row in db.execute(
            "SELECT peer, log, first_seq, last_seq, code, reason, at FROM sync_rejections"
            " ORDER BY log, peer"
        )
    ]
