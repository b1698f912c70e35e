# SPDX-License-Identifier: Apache-2.0
"""Recovery from upstream at the node: the cards that came back, and requests on their way.

A PC that got its village's cards back from the county (SPEC.md §8.10) holds records
that no entry of its own log makes: the snapshot's cards are the view of the logs the
county holds. So the cards are kept as the **base** of this store (``recovered_records``,
the same columns as ``records``), and from then on the records are the base with the
entries of the epoch started from it applied on top (:meth:`Recovery.replay_into`):
backups and the carry-over of node/store/carry.py rebuild them that way.

Owner of ``recovered_records``, ``recovery_requests`` (a relay keeps its children's
requests until it has handed them up) and the ``recovery:*`` keys of ``node_meta``
(the request this node waits for, the base's epoch, one event per recovery, and at a
relay the parent's refusal of a child's request until the child is told).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from sqlite_utils import Database

from node.store.apply import apply_entry, dumps
from protocol import Entry
from protocol.recovery import Card

_COLUMNS = "kind, id, data, versions, retired, created_seq, updated_seq, updated_hlc"
PENDING = "recovery:pending"
BASE_EPOCH = "recovery:base_epoch"
EVENT = "recovery:event:{epoch}"
REFUSED = "recovery:refused:{node}"


@dataclass(frozen=True, slots=True)
class RecoveryEvent:
    """One snapshot taken: when, from whom, how many cards, and the epoch it started."""

    at: int
    """UTC ms."""
    county: str
    epoch: int
    records: int
    heads: dict[str, int]
    """Through which seq of each log the cards are (the county's heads)."""
    dropped_install: bool = False
    """A new PC's own install entry, never sent, was dropped."""
    rewritten: int = 0
    """Entries this PC wrote that the county never had (typed before the recovery on a
    PC whose log is another history of ours), written again in the new epoch."""


class Recovery:
    """The recovery tables and keys of one node's database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the request this node waits for -------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM node_meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def pending(self) -> bytes | None:
        """The request we sent and wait for an answer to (None if none)."""
        value = self._meta(PENDING)
        return bytes.fromhex(value) if value else None

    def set_pending(self, raw: bytes) -> None:
        self._set_meta(PENDING, raw.hex())

    def clear_pending(self) -> None:
        self.db.execute("DELETE FROM node_meta WHERE key = ?", [PENDING])

    # -- the base the records are built on ------------------------------------------------

    def base_epoch(self) -> int:
        """The epoch started from the base (0: no recovery; the log makes the records)."""
        value = self._meta(BASE_EPOCH)
        return int(value) if value else 0

    def install(self, cards: Iterable[Card], epoch: int) -> int:
        """Make ``cards`` the base and the records (inside the caller's transaction);
        return how many. ``epoch`` is the one about to start from them."""
        rows = [
            (c.kind, c.id, dumps(c.data), dumps(c.versions), c.retired, c.created_seq,
             c.updated_seq, c.updated_hlc)
            for c in cards
        ]  # fmt: skip
        marks = ", ".join("?" * 8)
        for table in ("records", "recovered_records"):
            self.db.execute(f"DELETE FROM {table}")
            self.db.conn.executemany(f"INSERT INTO {table} ({_COLUMNS}) VALUES ({marks})", rows)
        self._set_meta(BASE_EPOCH, str(epoch))
        return len(rows)

    def replay_into(self, target: Database, entries: Iterable[Entry]) -> None:
        """The records as the base and ``entries`` make them, written into ``target``'s
        (empty) records table: entries of epochs before the base's are covered by it."""
        first = self.base_epoch()
        if first:
            rows = self.db.execute(f"SELECT {_COLUMNS} FROM recovered_records").fetchall()
            target.conn.executemany(
                f"INSERT INTO records ({_COLUMNS}) VALUES ({', '.join('?' * 8)})", rows
            )
        for entry in entries:
            if entry.log.epoch >= first:
                apply_entry(target, entry)

    # -- what happened ---------------------------------------------------------------------

    def record(self, event: RecoveryEvent) -> None:
        self._set_meta(EVENT.format(epoch=event.epoch), json.dumps(asdict(event), sort_keys=True))

    def events(self) -> list[RecoveryEvent]:
        rows = self.db.execute("SELECT value FROM node_meta WHERE key LIKE 'recovery:event:%'")
        return sorted((RecoveryEvent(**json.loads(v)) for (v,) in rows), key=lambda e: e.epoch)

    # -- a relay's children's requests ---------------------------------------------------

    def keep_request(self, request_id: str, node: str, raw: bytes, at: int) -> None:
        """Keep a child's checked request until it is handed up (the same request again
        is kept once)."""
        self.db.execute(
            "INSERT INTO recovery_requests (id, node, raw, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            [request_id, node, raw, at],
        )

    def waiting_requests(self) -> Iterator[tuple[str, str, bytes]]:
        """``(id, node, raw)`` of every request not yet handed up, oldest first."""
        for rid, node, raw in self.db.execute(
            "SELECT id, node, raw FROM recovery_requests ORDER BY at, id"
        ).fetchall():
            yield str(rid), str(node), bytes(raw)

    def handed_up(self, request_id: str) -> None:
        self.db.execute("DELETE FROM recovery_requests WHERE id = ?", [request_id])

    def refused(self, node: str, request_id: str, code: str, status: int) -> None:
        """Our parent refused ``node``'s request: keep why until the child asks again
        (only the newest refusal per child; it asks with one request at a time)."""
        body = {"id": request_id, "code": code, "status": status}
        self._set_meta(REFUSED.format(node=node), json.dumps(body, sort_keys=True))

    def take_refusal(self, node: str, request_id: str) -> tuple[str, int] | None:
        """``(code, status)`` of the parent's refusal of this very request, forgotten
        once read (the child told, a retry goes up again); None if there is none."""
        key = REFUSED.format(node=node)
        value = self._meta(key)
        if value is None:
            return None
        body = json.loads(value)
        if body.get("id") != request_id:
            return None
        self.db.execute("DELETE FROM node_meta WHERE key = ?", [key])
        return str(body["code"]), int(body["status"])
