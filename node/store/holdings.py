# SPDX-License-Identifier: Apache-2.0
"""What a node holds of other nodes' logs: per-log heads, relayed envelopes, entries.

Owner of the tables ``frontier`` (per log: the highest seq held contiguously and its
hash), ``inbound`` (the envelopes a relay keeps to forward: sealed as they came until
the county acknowledges them, then without the relay's own wrap, then, once expired,
their headers alone; SPEC.md §6.3.2) and ``received_entries`` (the entries a node that
opens batches, the county, keeps).

Heads advance only inside the transaction that stores what they cover, so after a
crash the head never claims more than the disk holds (CouchDB's checkpoint lesson).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice

from sqlite_utils import Database

from node.store.database import OPERATIONAL_ERRORS
from protocol import (
    HEADER_VIEW_OFFSET,
    HEADER_VIEW_SIZE,
    BatchHeader,
    Entry,
    Frontier,
    Head,
    LogId,
    decode_header_view,
)

EXPIRES_OFFSET = HEADER_VIEW_OFFSET - 8
"""Offset of ``expires_ms`` (u64) in an envelope, the last of its hop fields (SPEC §6.1)."""

Held = tuple[bytes, int, int, bytes]
"""A relayed envelope we keep: (message id, first seq, last seq, raw bytes)."""

EntryRow = tuple[str, int, int, int, int, bytes | None, bytes]
"""``(log, seq, hlc, ruleset, flags, payload, payload_hash)``: an entry as the county's
merge reads it (no hashes it does not need, no Entry objects: a rebuild reads millions)."""


@contextmanager
def immediate(db: Database) -> Iterator[None]:
    """A write transaction that takes the write lock first (``BEGIN IMMEDIATE``).

    Two requests carrying the same batch (a client retrying after a timeout) then
    queue behind each other, and the second sees the first's head: a duplicate, not a
    "database is locked" 500 from a stale read snapshot. Inside an open transaction it
    is a savepoint of that one.
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


class Holdings:
    """The ``frontier``, ``inbound`` and ``received_entries`` tables of one database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- heads ---------------------------------------------------------------------------

    def frontier(self) -> Frontier:
        """Every log we hold, at its head."""
        rows = self.db.execute("SELECT log, seq, head FROM frontier").fetchall()
        return Frontier({LogId.parse(log): Head(seq, head) for log, seq, head in rows})

    def head(self, log: LogId) -> Head | None:
        row = self.db.execute("SELECT seq, head FROM frontier WHERE log = ?", [str(log)]).fetchone()
        return Head(row[0], bytes(row[1])) if row else None

    def subtree_frontier(self, code_prefix: str) -> Frontier:
        """Heads of every log whose node code starts with ``code_prefix`` (a subtree)."""
        heads = {}
        for log, seq, head in self.db.execute("SELECT log, seq, head FROM frontier"):
            parsed = LogId.parse(log)
            if parsed.node.code.startswith(code_prefix):
                heads[parsed] = Head(seq, head)
        return Frontier(heads)

    def head_times(self) -> dict[LogId, tuple[int, int]]:
        """Every log we hold: (head seq, when the head last moved, UTC ms)."""
        rows = self.db.execute("SELECT log, seq, updated_at FROM frontier").fetchall()
        return {LogId.parse(log): (int(seq), int(at or 0)) for log, seq, at in rows}

    def set_head(self, log: LogId, seq: int, head: bytes, now_ms: int) -> None:
        self.db.execute(
            "INSERT INTO frontier (log, seq, head, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (log) DO UPDATE SET seq = excluded.seq, head = excluded.head,"
            " updated_at = excluded.updated_at",
            [str(log), seq, head, now_ms],
        )

    def unacknowledged_logs(self, peer: str) -> list[LogId]:
        """Logs we hold beyond the acknowledgement of ``peer`` we keep (``peer_acks``)."""
        return [
            LogId.parse(text)
            for (text,) in self.db.execute(
                "SELECT f.log FROM frontier AS f LEFT JOIN peer_acks AS a"
                " ON a.peer = ? AND a.log = f.log WHERE COALESCE(a.seq, 0) < f.seq",
                [peer],
            )
        ]

    # -- entries (a node that opens batches) ---------------------------------------------

    def store_entries(self, entries: list[Entry]) -> None:
        """Keep one verified run of a log: consecutive entries, each one's ``prev_hash``
        the hash of the one before (``open_envelope`` checked the chain to the signed
        head).

        So every entry's hash but the last is already in hand as its successor's
        ``prev_hash``; hashing each header again was a tenth of the county's receipt.
        The chain itself is the caller's to have checked; the run's shape is checked here.

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
        log = str(first.log)
        hashes = [e.prev_hash for e in islice(entries, 1, None)]
        hashes.append(entries[-1].hash)
        self.db.conn.executemany(
            "INSERT INTO received_entries (log, seq, hlc, ruleset, flags, payload,"
            " payload_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (log, e.seq, e.hlc, e.ruleset, e.flags, e.payload, e.payload_hash, h)
                for e, h in zip(entries, hashes, strict=True)
            ],
        )

    def entry_hashes(self, log: LogId, first: int, last: int) -> dict[int, bytes]:
        """The entry hashes we hold of ``log`` for seqs ``first..last``."""
        rows = self.db.execute(
            "SELECT seq, entry_hash FROM received_entries WHERE log = ? AND seq BETWEEN ? AND ?",
            [str(log), first, last],
        )
        return {int(seq): bytes(h) for seq, h in rows}

    def count_entries(self, code_prefix: str = "") -> int:
        """How many entries we hold of logs whose node code starts with ``code_prefix``."""
        like = code_prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        row = self.db.execute(
            "SELECT COUNT(*) FROM received_entries WHERE substr(log, instr(log, ':') + 1)"
            " LIKE ? ESCAPE '!'",
            [like + "%"],
        ).fetchone()
        return int(row[0])

    def received_heads(self) -> dict[str, int]:
        """Every log we hold received entries of, with its last seq."""
        # One seek per log rather than a GROUP BY, which would read every payload page.
        heads: dict[str, int] = {}
        try:
            row = self.db.execute("SELECT min(log) FROM received_entries").fetchone()
        except OPERATIONAL_ERRORS:  # not a node's database (no migrations applied)
            return heads
        while row is not None and row[0] is not None:
            log = row[0]
            heads[log] = self.db.execute(
                "SELECT max(seq) FROM received_entries WHERE log = ?", [log]
            ).fetchone()[0]
            row = self.db.execute(
                "SELECT log FROM received_entries WHERE log > ? ORDER BY log LIMIT 1", [log]
            ).fetchone()
        return heads

    def received_rows(self, log: str, after: int, limit: int) -> list[EntryRow]:
        """Up to ``limit`` received entries of ``log`` after seq ``after``, in seq order."""
        return self.db.execute(
            "SELECT log, seq, hlc, ruleset, flags, payload, payload_hash FROM received_entries"
            " WHERE log = ? AND seq > ? ORDER BY seq LIMIT ?",
            [log, after, limit],
        ).fetchall()

    def entry_hash(self, log: LogId, seq: int) -> bytes | None:
        row = self.db.execute(
            "SELECT entry_hash FROM received_entries WHERE log = ? AND seq = ?", [str(log), seq]
        ).fetchone()
        return None if row is None else bytes(row[0])

    # -- relayed envelopes (a relay) -----------------------------------------------------

    def keep_envelope(
        self, message_id: bytes, header: BatchHeader, raw: bytes, now_ms: int
    ) -> None:
        """Keep a relayed envelope to forward (a second copy of one message is ignored,
        unless the copy we keep was handed back to its origin: the one the origin sent
        again replaces it, and is handed on as any other)."""
        self.db.execute(
            "INSERT INTO inbound (message_id, log, first_seq, last_seq, raw, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET"
            " raw = excluded.raw, received_at = excluded.received_at, forwarded_at = NULL,"
            " unwrapped_at = NULL, cut_at = NULL, returned_at = NULL"
            " WHERE inbound.returned_at IS NOT NULL",
            [message_id, str(header.log), header.first_seq, header.last_seq, raw, now_ms],
        )

    def held_header(self, log: LogId, seq: int) -> tuple[BatchHeader, bytes] | None:
        """The header and origin signature of a relayed batch we keep that claims
        ``seq`` (its last seq, or the seq before its first).

        Reads only those bytes of the stored envelope (protocol.envelope_view), not the
        whole envelope: this runs for every batch a relay receives.
        """
        row = self.db.execute(
            "SELECT substr(raw, ?, ?) FROM inbound WHERE log = ?"
            " AND (last_seq = ? OR first_seq = ? + 1) ORDER BY first_seq LIMIT 1",
            [HEADER_VIEW_OFFSET + 1, HEADER_VIEW_SIZE, str(log), seq, seq],
        ).fetchone()
        return None if row is None else decode_header_view(bytes(row[0]))

    def envelope_covering(self, log: LogId, seq: int) -> bytes | None:
        """The relayed envelope we keep whose range holds ``seq`` strictly inside
        (first seq <= seq < last seq), if any."""
        row = self.db.execute(
            "SELECT raw FROM inbound WHERE log = ? AND first_seq <= ? AND last_seq > ?"
            " AND cut_at IS NULL ORDER BY first_seq LIMIT 1",
            [str(log), seq, seq],
        ).fetchone()
        return None if row is None else bytes(row[0])

    def envelopes_after(self, log: LogId, seq: int) -> list[Held]:
        """Relayed envelopes of ``log`` that reach beyond ``seq``, in order: to forward."""
        return self._envelopes(log, "last_seq > ?", seq)

    def envelopes_through(self, log: LogId, seq: int) -> list[Held]:
        """Relayed envelopes of ``log`` that end at or below ``seq``, in order."""
        return self._envelopes(log, "last_seq <= ?", seq)

    def _envelopes(self, log: LogId, bound: str, seq: int) -> list[Held]:
        return [
            (bytes(mid), first, last, bytes(raw))
            for mid, first, last, raw in self.db.execute(
                "SELECT message_id, first_seq, last_seq, raw FROM inbound WHERE log = ?"
                f" AND {bound} AND cut_at IS NULL AND returned_at IS NULL ORDER BY first_seq",
                [str(log), seq],
            )
        ]

    def readable_through(self, log: LogId, seq: int) -> list[Held]:
        """Relayed envelopes of ``log`` ending at or below ``seq`` that we still keep
        as they came (our own wrap in them), in order."""
        return self._envelopes(log, "unwrapped_at IS NULL AND last_seq <= ?", seq)

    def keep_unwrapped(self, message_id: bytes, raw: bytes, now_ms: int) -> None:
        """Replace a kept envelope by ``raw``, the same batch without our own wrap
        (protocol.without_wrap): the county acknowledged it, we may no longer read it."""
        self.db.execute(
            "UPDATE inbound SET raw = ?, unwrapped_at = ? WHERE message_id = ?",
            [raw, now_ms, message_id],
        )

    def cut_expired(self, now_ms: int) -> int:
        """Cut the unwrapped envelopes past their expiry down to their hop fields, batch
        header and origin signature; return how many.

        Past its expiry a copy is never handed on (SPEC.md §6.5), so its sealed part is
        of no use to anyone here; the header stays for the fork checks (§9.2, §9.3).
        """
        rows = self.db.execute(
            "SELECT message_id, substr(raw, ?, 8), substr(raw, ?, ?) FROM inbound"
            " WHERE unwrapped_at IS NOT NULL AND cut_at IS NULL",
            [EXPIRES_OFFSET + 1, HEADER_VIEW_OFFSET + 1, HEADER_VIEW_SIZE],
        ).fetchall()
        cut = 0
        for message_id, expires, view in rows:
            if int.from_bytes(bytes(expires), "big") > now_ms:
                continue
            header, signature = decode_header_view(bytes(view))
            keep = HEADER_VIEW_OFFSET + len(header.to_bytes()) + 2 + len(signature)
            self.db.execute(
                "UPDATE inbound SET raw = substr(raw, 1, ?), cut_at = ? WHERE message_id = ?",
                [keep, now_ms, message_id],
            )
            cut += 1
        return cut

    def flush_freed(self) -> None:
        """Checkpoint the WAL into the database file and truncate it, so what a relay
        took out of its copies is not left in old WAL frames (best effort: a reader in
        the middle of a transaction leaves it for the next round)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def mark_forwarded(self, message_id: bytes, now_ms: int) -> None:
        self.db.execute(
            "UPDATE inbound SET forwarded_at = ? WHERE message_id = ?", [now_ms, message_id]
        )

    def mark_forwarded_through(self, log: LogId, seq: int, now_ms: int) -> None:
        """Envelopes of ``log`` ending at or below ``seq`` are held upstream: forwarded.

        Runs for every log at every round, so it visits only the envelopes not yet
        forwarded (the partial index of m002): through ``inbound_by_log`` it visited
        every copy of the log ever kept, and ``forwarded_at`` lies behind ``raw`` in the
        row, so each visit read the whole envelope (decrypting each page of it): a cost
        that grew with every month a relay had served.
        """
        self.db.execute(
            "UPDATE inbound INDEXED BY inbound_pending SET forwarded_at = ?"
            " WHERE log = ? AND last_seq <= ? AND forwarded_at IS NULL",
            [now_ms, str(log), seq],
        )

    def drop_from(self, log: LogId, first_seq: int, prev_hash: bytes, now_ms: int) -> int:
        """Forget the relayed copies of ``log`` from ``first_seq`` on; return how many.

        For a batch the parent refused as unreadable (it cannot be fixed by resending
        the same bytes): our head goes back to ``first_seq - 1``, so the child's next
        round sends the range again, freshly sealed.
        """
        with immediate(self.db):
            count = self.db.execute(
                "DELETE FROM inbound WHERE log = ? AND first_seq >= ?", [str(log), first_seq]
            ).rowcount
            if first_seq <= 1:
                self.db.execute("DELETE FROM frontier WHERE log = ?", [str(log)])
            else:
                self.set_head(log, first_seq - 1, prev_hash, now_ms)
        return int(count)

    # -- copies handed back to their origin (SPEC.md §6.5) ---------------------------------

    def return_from(
        self, log: LogId, first_seq: int, prev_hash: bytes, now_ms: int
    ) -> tuple[list[bytes], int]:
        """Our copies of ``log`` from ``first_seq`` on cannot be handed on (one expired, or
        one before them was lost): take our head back to ``first_seq - 1`` and keep them
        as handed back to their origin, not forwarded, not in the frontier. Return the
        copies newly handed back (to put in the origin's outbox, in this transaction)
        and how many copies were dropped (those cut to their headers: nothing to hand
        back).

        A relay never drops a copy its child counts as delivered while the county has
        not acknowledged it: the origin may no longer hold those entries (a PC restored
        from an older backup), and only the origin can send them again as fresh.
        """
        with immediate(self.db):
            rows = self.db.execute(
                "SELECT raw FROM inbound WHERE log = ? AND first_seq >= ? AND cut_at IS NULL"
                " AND returned_at IS NULL ORDER BY first_seq",
                [str(log), first_seq],
            ).fetchall()
            self.db.execute(
                "UPDATE inbound SET returned_at = ? WHERE log = ? AND first_seq >= ?"
                " AND cut_at IS NULL AND returned_at IS NULL",
                [now_ms, str(log), first_seq],
            )
            dropped = self.db.execute(
                "DELETE FROM inbound WHERE log = ? AND first_seq >= ? AND cut_at IS NOT NULL",
                [str(log), first_seq],
            ).rowcount
            if first_seq <= 1:
                self.db.execute("DELETE FROM frontier WHERE log = ?", [str(log)])
            else:
                self.set_head(log, first_seq - 1, prev_hash, now_ms)
        return [bytes(raw) for (raw,) in rows], int(dropped)

    def keep_returned(
        self, message_id: bytes, header: BatchHeader, raw: bytes, now_ms: int
    ) -> None:
        """At the origin: keep a copy of our own batch a relay handed back, to send
        again (node/sync/returned.py)."""
        self.db.execute(
            "INSERT OR IGNORE INTO inbound (message_id, log, first_seq, last_seq, raw,"
            " received_at, returned_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [message_id, str(header.log), header.first_seq, header.last_seq, raw, now_ms, now_ms],
        )

    def returned_copies(self, log: LogId) -> list[Held]:
        """The copies of ``log`` handed back (at a relay) or taken back (at the origin),
        in order."""
        return [
            (bytes(mid), first, last, bytes(raw))
            for mid, first, last, raw in self.db.execute(
                "SELECT message_id, first_seq, last_seq, raw FROM inbound WHERE log = ?"
                " AND returned_at IS NOT NULL ORDER BY first_seq, last_seq",
                [str(log)],
            )
        ]

    def returned_ranges(self) -> list[tuple[LogId, int, int, int]]:
        """Every copy handed back and not yet sent again: (log, first, last, since)."""
        return [
            (LogId.parse(log), int(first), int(last), int(at))
            for log, first, last, at in self.db.execute(
                "SELECT log, first_seq, last_seq, returned_at FROM inbound"
                " WHERE returned_at IS NOT NULL ORDER BY log, first_seq"
            )
        ]

    def returned_envelopes(self, log: LogId) -> list[bytes]:
        """The envelopes of ``log`` handed back and not yet sent again (their wraps say
        whose keys open them)."""
        rows = self.db.execute(
            "SELECT raw FROM inbound WHERE log = ? AND returned_at IS NOT NULL", [str(log)]
        )
        return [bytes(raw) for (raw,) in rows]

    def forget_returned(self, message_id: bytes) -> None:
        """At the origin: a returned copy was sent again and taken."""
        self.db.execute(
            "DELETE FROM inbound WHERE message_id = ? AND returned_at IS NOT NULL", [message_id]
        )

    def replace_returned(self, message_id: bytes, raw: bytes, now_ms: int) -> bool:
        """A relay got again, fresh from its origin, a copy it handed back whose range
        it still counts as held (a duplicate): keep the new copy in its place, to hand
        on. True if there was such a copy."""
        return bool(
            self.db.execute(
                "UPDATE inbound SET raw = ?, received_at = ?, forwarded_at = NULL,"
                " returned_at = NULL WHERE message_id = ? AND returned_at IS NOT NULL",
                [raw, now_ms, message_id],
            ).rowcount
        )

    def hand_back(self, message_id: bytes, now_ms: int) -> bool:
        """Mark a kept copy as handed back to its origin without moving our head (its
        expiry passed before the parent's acknowledgement of it came back); True if it
        was not already."""
        return bool(
            self.db.execute(
                "UPDATE inbound SET returned_at = ? WHERE message_id = ? AND returned_at IS NULL",
                [now_ms, message_id],
            ).rowcount
        )

    def settle_returned(self, log: LogId, seq: int) -> int:
        """Forget the copies of ``log`` handed back that end at or below ``seq``: the
        parent holds the range and acknowledged it to us (from the origin's new copies,
        or from elsewhere), or the origin sent the range to us again; nothing more is
        wanted of them."""
        return int(
            self.db.execute(
                "DELETE FROM inbound WHERE log = ? AND returned_at IS NOT NULL AND last_seq <= ?",
                [str(log), seq],
            ).rowcount
        )
