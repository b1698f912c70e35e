# SPDX-License-Identifier: Apache-2.0
"""What happened when this PC's database was put back (issue 12 item 6).

A restore from a backup, a copy put back by hand and found out at sync, or a new epoch
after a fork each leave changes this PC once held (or its lost copy sent upstream) that
it no longer has. The officer must be told: when, from which backup, which changes of
which log this PC lacks now (they are upstream: the county holds them), and how many
changes written on the stale copy were written again. ``renkou node status`` and the
sync status page show every event; nothing personal is kept, only logs and seqs.

Owner of the ``restore:<epoch>`` keys of ``node_meta`` (one event per epoch opened).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from sqlite_utils import Database

KEY = "restore:{epoch}"


@dataclass(frozen=True, slots=True)
class RestoreEvent:
    """One new epoch opened because this PC's database was older than its log."""

    at: int
    """UTC ms."""
    how: str
    """``restore`` (renkou node restore), ``hand_copy`` (found at sync), ``fork``, or
    ``handed_back`` (only :attr:`carried`: the epoch opened for another reason)."""
    epoch: int
    """The epoch opened."""
    log: str
    """The log this PC lacks entries of."""
    kept: int
    """The last entry of ``log`` this PC holds (and the new epoch continues from)."""
    lost_last: int
    """The last entry of ``log`` the lost copy held (0 if unknown): this PC lacks
    ``kept + 1 .. lost_last``."""
    source: str = ""
    """The backup's file name, for a restore."""
    rewritten: int = 0
    """Changes written on the stale copy that were written again in the new epoch."""
    carried: int = 0
    """Changes of ``carried_log`` a parent handed back that could never go up in it (its
    cut left a gap before them), written again in this epoch (node/store/carry.py)."""
    carried_log: str = ""
    carried_first: int = 0
    carried_last: int = 0
    """The seqs of ``carried_log`` the carried changes were handed back as."""
    nowhere_first: int = 0
    nowhere_last: int = 0
    """Entries of ``carried_log`` before the carried ones that no node holds and the
    county never acknowledged: lost (node/sync/push.py ``_nowhere``); 0 if none."""


class Restores:
    """The restore events kept in one node's ``node_meta``."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, event: RestoreEvent) -> None:
        self.db.execute(
            "INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET value = excluded.value",
            [KEY.format(epoch=event.epoch), json.dumps(asdict(event), sort_keys=True)],
        )

    def add_carried(self, at: int, epoch: int, log: str, seqs: tuple[int, int], n: int) -> None:
        """Count ``n`` more changes of ``log`` (handed back as ``seqs``, first and last)
        written again in ``epoch``, on that epoch's event (a ``handed_back`` one if the
        epoch opened without one)."""
        event = self._event(at, epoch, log)
        same = event.carried_log == log and event.carried > 0
        first = min(seqs[0], event.carried_first) if same else seqs[0]
        last = max(seqs[1], event.carried_last) if same else seqs[1]
        self.record(replace(event, carried=event.carried + n, carried_log=log,
                            carried_first=first, carried_last=last))  # fmt: skip

    def add_nowhere(self, at: int, epoch: int, log: str, seqs: tuple[int, int]) -> None:
        """Keep that entries ``seqs`` (first, last) of ``log`` are lost, on ``epoch``'s
        event, for the status's alert."""
        event = self._event(at, epoch, log)
        self.record(replace(event, carried_log=log, nowhere_first=seqs[0],
                            nowhere_last=seqs[1]))  # fmt: skip

    def _event(self, at: int, epoch: int, log: str) -> RestoreEvent:
        row = self.db.execute(
            "SELECT value FROM node_meta WHERE key = ?", [KEY.format(epoch=epoch)]
        ).fetchone()
        if row is not None:
            return RestoreEvent(**json.loads(row[0]))
        return RestoreEvent(at, "handed_back", epoch, log, 0, 0)

    def events(self) -> list[RestoreEvent]:
        """Every event, oldest first."""
        rows = self.db.execute("SELECT value FROM node_meta WHERE key LIKE 'restore:%'")
        found = [RestoreEvent(**json.loads(value)) for (value,) in rows]
        return sorted(found, key=lambda e: (e.epoch, e.at))
