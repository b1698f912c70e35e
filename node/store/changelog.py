# SPDX-License-Identifier: Apache-2.0
"""The node's own change log inside its SQLite file.

Appending happens inside the caller's open transaction, together with the record
change it describes: there is no code path that writes one without the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from sqlite_utils import Database

from node.domain.records import RULESET
from node.store.apply import epoch_cuts, log_heads
from node.store.holdings import EntryRow
from protocol import (
    ZERO_HASH,
    Entry,
    EpochStart,
    HybridClock,
    LogId,
    NodeId,
    Suite,
    decode_payload,
    make_entry,
)
from protocol.entries import FLAG_EPOCH_START, rebuilt_entry


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def epoch_heads(db: Database) -> dict[int, int]:
    """``{epoch: last seq}`` of the node's own log, every epoch that holds entries."""
    return {int(e): int(s) for e, s in db.execute("SELECT epoch, max(seq) FROM log GROUP BY epoch")}


def own_rows(db: Database, log: str, after: int, limit: int) -> list[EntryRow]:
    """Up to ``limit`` entries of our own ``log`` (``<node>#<epoch>``) after seq ``after``,
    in seq order, in the row form the county's merge reads (holdings.EntryRow)."""
    epoch = int(log.rpartition("#")[2])
    return db.execute(
        "SELECT ?, seq, hlc, ruleset, flags, payload, payload_hash FROM log"
        " WHERE epoch = ? AND seq > ? ORDER BY seq LIMIT ?",
        [log, epoch, after, limit],
    ).fetchall()


class ChangeLog:
    """Appends entries to the current epoch's log and reads them back."""

    def __init__(
        self,
        db: Database,
        node: NodeId,
        suite: Suite,
        epoch: int,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.db = db
        self.log = LogId(node, epoch)
        self.suite = suite
        row = db.execute(
            "SELECT seq, entry_hash, hlc FROM log WHERE epoch = ? ORDER BY seq DESC LIMIT 1",
            [epoch],
        ).fetchone()
        self.head_seq: int
        self.head_hash: bytes
        self.head_seq, self.head_hash, last_hlc = row if row else (0, ZERO_HASH, 0)
        self.clock = HybridClock(clock, last_hlc)

    def append(self, payload: bytes, flags: int = 0, prev_hash: bytes | None = None) -> Entry:
        """Add the next entry; must run inside the transaction that changes the records."""
        if not self.db.conn.in_transaction:
            raise RuntimeError("log entries are appended only inside a write transaction")
        seq = self.head_seq + 1
        prev = self.head_hash if prev_hash is None else prev_hash
        entry = make_entry(
            self.suite, self.log, seq, prev, self.clock.tick(), RULESET, payload, flags
        )
        self.db.execute(
            "INSERT INTO log (epoch, seq, hlc, ruleset, flags, prev_hash, payload, payload_hash,"
            " payload_len, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.log.epoch,
                seq,
                entry.hlc,
                entry.ruleset,
                entry.flags,
                entry.prev_hash,
                entry.payload,
                entry.payload_hash,
                entry.payload_len,
                entry.hash,
            ],
        )
        self.head_seq, self.head_hash = seq, entry.hash
        return entry

    def rollback_to(self, seq: int, head: bytes, hlc: int) -> None:
        """Forget in-memory state after a rolled-back transaction."""
        self.head_seq, self.head_hash = seq, head
        self.clock.last = max(self.clock.last, hlc)

    def entries(
        self, first_seq: int = 1, last_seq: int | None = None, *, epoch: int | None = None
    ) -> Iterator[Entry]:
        """Entries of this epoch (or of an earlier ``epoch``) from ``first_seq``, in order."""
        log = self.log if epoch is None else LogId(self.log.node, epoch)
        rows = self.db.execute(
            "SELECT seq, prev_hash, hlc, ruleset, payload_hash, payload_len, payload, flags"
            " FROM log WHERE epoch = ? AND seq >= ? AND seq <= ? ORDER BY seq",
            [log.epoch, first_seq, last_seq if last_seq is not None else 2**62],
        )
        suite = self.suite
        for seq, prev, hlc, ruleset, digest, length, payload, flags in rows:
            # rebuilt_entry: the frozen dataclass __init__ was a sixth of a catch-up push.
            yield rebuilt_entry(suite, log, seq, prev, hlc, ruleset, digest, length, payload, flags)

    def closed_heads(self) -> dict[int, tuple[int, bytes]]:
        """The head (seq, entry hash) of each epoch before this one that holds entries.

        An epoch a later one was cut from (:meth:`cuts`) ends where the cut says: the
        entries past it were abandoned (a fork the parent refused) and are never sent.
        """
        heads = {e: seq for e, seq in log_heads(self.db).items() if e < self.log.epoch}
        for epoch, seq in self.cuts().items():
            if epoch in heads and seq < heads[epoch]:
                heads[epoch] = seq
        out: dict[int, tuple[int, bytes]] = {}
        for epoch, seq in heads.items():
            row = self.db.execute(
                "SELECT entry_hash FROM log WHERE epoch = ? AND seq = ?", [epoch, seq]
            ).fetchone()
            if row is not None:
                out[epoch] = (seq, bytes(row[0]))
        return out

    def cuts(self) -> dict[int, int]:
        """``{epoch: last kept seq}`` of the epochs a later one was cut from
        (node/store/apply.py ``epoch_cuts``)."""
        return epoch_cuts(self.db)

    def kept_entries(self) -> Iterator[Entry]:
        """Every entry the records are a view of, epoch by epoch: all but the abandoned
        stretches past a cut."""
        cuts = self.cuts()
        for epoch in self.epochs():
            yield from self.entries(1, cuts.get(epoch), epoch=epoch)

    def forget_install(self) -> None:
        """Drop epoch 1 of a new PC that holds nothing else: its install entry never
        reached anyone, and the log it began is the lost PC's (a recovery, SPEC §8.10).

        Raises:
            ValueError: the store holds more than that one entry.
        """
        if self.epochs() != [1] or self.head_seq != 1 or self.log.epoch != 1:
            raise ValueError("only a new PC's lone install entry is ever dropped")
        self.db.execute("DELETE FROM log WHERE epoch = 1")

    def forget_after(self, seq: int) -> int:
        """Drop the entries of this log past ``seq``; how many went.

        A recovery from upstream (SPEC §8.10) finds this log another history of one the
        county holds (a replacement PC on which the officer typed first): the records are
        the county's cards, what was typed is written again in the next epoch, and the
        entries that typed it would otherwise stay a closed epoch cut at the county's
        seq with our hash there, not the county's, so the state digest could never
        match the parent's, and a relay that lost the log would take them. The first
        entry of an epoch that names an earlier one is kept: it holds that epoch's cut.
        """
        if self._holds_a_cut(self.log.epoch):
            seq = max(seq, 1)
        cursor = self.db.execute(
            "DELETE FROM log WHERE epoch = ? AND seq > ?", [self.log.epoch, seq]
        )
        if seq < self.head_seq:
            row = self.db.execute(
                "SELECT entry_hash FROM log WHERE epoch = ? AND seq = ?", [self.log.epoch, seq]
            ).fetchone()
            self.head_seq, self.head_hash = seq, bytes(row[0]) if row else ZERO_HASH
        return cursor.rowcount

    def forget_past(self, epoch: int, seq: int) -> None:
        """Drop the entries of our closed ``epoch`` past ``seq``, as :meth:`forget_after`
        does for the open one: another history of a log the county holds otherwise (a
        replacement PC's first log, closed by a restore before it recovered), written
        again in the recovery's new epoch (SPEC §8.10).

        Raises:
            ValueError: ``epoch`` is not closed.
        """
        if epoch >= self.log.epoch:
            raise ValueError("only entries of a closed epoch are ever dropped")
        if self._holds_a_cut(epoch):
            seq = max(seq, 1)
        self.db.execute("DELETE FROM log WHERE epoch = ? AND seq > ?", [epoch, seq])

    def _holds_a_cut(self, epoch: int) -> bool:
        """Whether entry 1 of ``epoch`` starts it from an earlier epoch (and so holds
        that epoch's cut: node/store/apply.py epoch_cuts)."""
        first = next(self.entries(1, 1, epoch=epoch), None)
        if first is None or not first.flags & FLAG_EPOCH_START or first.payload is None:
            return False
        start = decode_payload(first.payload)[0]
        return isinstance(start, EpochStart) and start.prev_epoch > 0

    def epochs(self) -> list[int]:
        """Every epoch this store holds entries of, oldest first (by seeks: ``DISTINCT
        epoch`` read every entry of the log, and every push asks, through is_new_pc)."""
        return list(log_heads(self.db))
