# SPDX-License-Identifier: Apache-2.0
"""Conflict advisories: which were taken at the advised node.

Owner of ``advisories_taken`` (at the advised node: one row per advisory op of a county
entry, so it is applied exactly once however often it arrives, with ``applied`` or
``refused`` and why; no values). Which advisories the county sent is the county's own
table (county_aggregator/store_node.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True, slots=True)
class TakenOp:
    """One advisory op as taken here (``outcome`` ``applied`` or ``refused``)."""

    log: str
    seq: int
    i: int
    conflict: str
    kind: str
    record: str
    field: str
    outcome: str
    code: str
    reason: str
    local_log: str
    local_seq: int
    at: int


class Advisories:
    """The ``advisories_taken`` table of one database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def taken(self, log: str, seq: int) -> bool:
        """Was the county's advisory entry ``log``/``seq`` taken (applied or refused)?"""
        row = self.db.execute(
            "SELECT 1 FROM advisories_taken WHERE log = ? AND seq = ?", [log, seq]
        ).fetchone()
        return row is not None

    def keep(self, ops: list[TakenOp]) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO advisories_taken (log, seq, i, conflict, kind, record, field,"
            " outcome, code, reason, local_log, local_seq, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    op.log,
                    op.seq,
                    op.i,
                    op.conflict,
                    op.kind,
                    op.record,
                    op.field,
                    op.outcome,
                    op.code,
                    op.reason,
                    op.local_log,
                    op.local_seq,
                    op.at,
                )
                for op in ops
            ],
        )

    def counts(self) -> dict[str, int]:
        """Advisories (county entries) received, applied and refused here."""
        out = {"received": 0, "applied": 0, "refused": 0}
        for outcome, n in self.db.execute(
            "SELECT outcome, COUNT(*) FROM"
            " (SELECT DISTINCT log, seq, outcome FROM advisories_taken) GROUP BY outcome"
        ):
            out[str(outcome)] = int(n)
            out["received"] += int(n)
        return out

    def refused(self, limit: int) -> list[TakenOp]:
        """The newest refused advisory ops."""
        return [
            TakenOp(*row)
            for row in self.db.execute(
                "SELECT log, seq, i, conflict, kind, record, field, outcome, code, reason,"
                " local_log, local_seq, at FROM advisories_taken WHERE outcome = 'refused'"
                " ORDER BY at DESC, log, seq, i LIMIT ?",
                [limit],
            )
        ]
