# SPDX-License-Identifier: Apache-2.0
"""What peers told us of our batches: signed acknowledgements and refusals.

Owner of ``peer_acks`` (per peer and log, the newest acknowledgement we verified: a
sender advances its record of a peer only from these, SPEC.md §8.4) and
``sync_rejections`` (per peer and log, the last batch the peer refused and why, kept
until that peer acknowledges the range; ``renkou node status`` shows it). A refusal we
only heard of from a relay names the relay in ``told_by``: it is the relay's word.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from protocol import Head, LogId


@dataclass(frozen=True)
class Rejection:
    peer: str
    log: str
    first_seq: int
    last_seq: int
    code: str
    reason: str
    at: int
    told_by: str | None = None
    """The relay whose signed notice told us of this refusal; None when ``peer``
    refused to our face (an authenticated answer of our own session)."""


@dataclass(frozen=True)
class KeptAck:
    peer: str
    log: str
    seq: int
    at: int


class PeerAcks:
    """The ``peer_acks`` and ``sync_rejections`` tables of one database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def head(self, peer: str, log: LogId) -> Head | None:
        """How far ``peer``'s acknowledgement of ``log`` that we keep reaches."""
        row = self.db.execute(
            "SELECT seq, head FROM peer_acks WHERE peer = ? AND log = ?", [peer, str(log)]
        ).fetchone()
        return Head(int(row[0]), bytes(row[1])) if row else None

    def keep(self, raw: bytes, peer: str, log: str, seq: int, head: bytes, at: int) -> None:
        """Keep a verified acknowledgement unless we hold a further one; an ack ends the
        refusals of that peer up to its seq."""
        self.db.execute(
            "INSERT INTO peer_acks (peer, log, seq, head, raw, at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (peer, log) DO UPDATE SET seq = excluded.seq, head = excluded.head,"
            " raw = excluded.raw, at = excluded.at WHERE excluded.seq >= peer_acks.seq",
            [peer, log, seq, head, raw, at],
        )
        self.db.execute(
            "DELETE FROM sync_rejections WHERE peer = ? AND log = ? AND last_seq <= ?",
            [peer, log, seq],
        )

    def kept(self) -> list[KeptAck]:
        """Every acknowledgement we keep, by log and peer."""
        return [
            KeptAck(*row)
            for row in self.db.execute(
                "SELECT peer, log, seq, at FROM peer_acks ORDER BY log, peer"
            )
        ]

    def record_rejection(self, r: Rejection) -> bool:
        """Keep the newest refusal per (peer, log); True if it is news (not already held)."""
        row = self.db.execute(
            "SELECT first_seq, last_seq, code FROM sync_rejections WHERE peer = ? AND log = ?",
            [r.peer, r.log],
        ).fetchone()
        if row is not None and tuple(row) == (r.first_seq, r.last_seq, r.code):
            return False
        self.db.execute(
            "INSERT INTO sync_rejections (peer, log, first_seq, last_seq, code, reason, at,"
            " told_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (peer, log) DO UPDATE SET"
            " first_seq = excluded.first_seq, last_seq = excluded.last_seq,"
            " code = excluded.code, reason = excluded.reason, at = excluded.at,"
            " told_by = excluded.told_by",
            [r.peer, r.log, r.first_seq, r.last_seq, r.code, r.reason, r.at, r.told_by],
        )
        return True

    def settle(self, logs: list[str]) -> None:
        """Forget the refusals of ``logs``: a recovery from upstream replaced them (SPEC
        §8.10), so a refusal of the PC's old history is no longer anything to act on."""
        for log in logs:
            self.db.execute("DELETE FROM sync_rejections WHERE log = ?", [log])

    def rejections(self) -> list[Rejection]:
        return [
            Rejection(*row)
            for row in self.db.execute(
                "SELECT peer, log, first_seq, last_seq, code, reason, at, told_by"
                " FROM sync_rejections"
                " ORDER BY log, peer"
            )
        ]
