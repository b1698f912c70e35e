# SPDX-License-Identifier: Apache-2.0
"""Evidence a receiver keeps of what it refused: quarantined batches and alerts.

Owner of ``quarantine`` (signed, valid batches that must not apply now: SPEC.md §7) and
``alerts`` (what the administrator must see: a fork, a hop that extended an origin's
expiry, with its proof). Each refused batch is kept once, however often it is sent
again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database


@dataclass(frozen=True)
class Quarantined:
    code: str
    log: str
    first_seq: int
    last_seq: int
    at: int


@dataclass(frozen=True)
class Alert:
    at: int
    kind: str
    log: str
    detail: str


class Evidence:
    """The ``quarantine`` and ``alerts`` tables of one database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def quarantine(
        self, at: int, log: str, first: int, last: int, code: str, reason: str, raw: bytes
    ) -> bool:
        """Keep a quarantined batch unless the same range is held with the same code;
        True if it was new."""
        seen = self.db.execute(
            "SELECT 1 FROM quarantine WHERE log = ? AND first_seq = ? AND last_seq = ?"
            " AND code = ?",
            [log, first, last, code],
        ).fetchone()
        if seen is not None:
            return False
        self.db.execute(
            "INSERT INTO quarantine (at, log, first_seq, last_seq, code, reason, raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [at, log, first, last, code, reason, raw],
        )
        return True

    def quarantined(self, limit: int) -> tuple[int, list[Quarantined]]:
        """How many batches are kept, and the ``limit`` newest."""
        kept = int(self.db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])
        rows = self.db.execute(
            "SELECT code, log, first_seq, last_seq, at FROM quarantine ORDER BY at DESC LIMIT ?",
            [limit],
        ).fetchall()
        return kept, [Quarantined(*row) for row in rows]

    def alert(
        self,
        at: int,
        kind: str,
        log: str,
        message_id: str,
        detail: dict[str, Any],
        proof: bytes,
    ) -> bool:
        """Keep an alert (``fork``, ``expiry_extended``) with its evidence, once per kind
        and refused message; True if new."""
        seen = self.db.execute(
            "SELECT 1 FROM alerts WHERE kind = ? AND log = ?"
            " AND json_extract(detail, '$.message_id') = ?",
            [kind, log, message_id],
        ).fetchone()
        if seen is not None:
            return False
        self.db.execute(
            "INSERT INTO alerts (at, kind, log, detail, proof) VALUES (?, ?, ?, ?, ?)",
            [
                at,
                kind,
                log,
                json.dumps({**detail, "message_id": message_id}, ensure_ascii=False),
                proof,
            ],
        )
        return True

    def alerts(self) -> list[Alert]:
        return [
            Alert(*row)
            for row in self.db.execute("SELECT at, kind, log, detail FROM alerts ORDER BY at")
        ]
