# SPDX-License-Identifier: Apache-2.0
"""What the county's merge made of our entries (its outcome notices, SPEC.md §8.6).

Owner of ``county_outcomes`` (one row per entry and field that did not simply apply)
and ``county_outcome_ranges`` (per log: how far the county merged it). A notice
replaces whatever an earlier one said about the same range, so one told twice is taken
once in effect.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    log: str
    seq: int
    field: str
    outcome: str
    code: str
    record: str
    conflict: str


@dataclass(frozen=True, slots=True)
class MergedRange:
    log: str
    last_seq: int
    applied: int
    at: int


class CountyOutcomes:
    """The ``county_outcomes`` and ``county_outcome_ranges`` tables of one database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def replace(
        self, log: str, first: int, last: int, rows: list[OutcomeRow], applied: int, at: int
    ) -> None:
        """What a notice for ``log`` ``first..last`` says, in place of what we held."""
        with self.db.atomic():
            self.db.execute(
                "DELETE FROM county_outcomes WHERE log = ? AND seq BETWEEN ? AND ?",
                [log, first, last],
            )
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO county_outcomes"
                " (log, seq, field, outcome, code, record, conflict, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.log, r.seq, r.field, r.outcome, r.code, r.record, r.conflict, at)
                    for r in rows
                ],
            )
            self.db.execute(
                "INSERT INTO county_outcome_ranges (log, last_seq, applied, at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (log) DO UPDATE SET"
                " last_seq = max(last_seq, excluded.last_seq), applied = excluded.applied,"
                " at = excluded.at",
                [log, last, applied, at],
            )

    def ranges(self) -> list[MergedRange]:
        return [
            MergedRange(*row)
            for row in self.db.execute(
                "SELECT log, last_seq, applied, at FROM county_outcome_ranges ORDER BY log"
            )
        ]

    def rows(self, log: str | None = None, limit: int = -1) -> list[OutcomeRow]:
        """What did not simply apply, of one log or of all, by log, seq and field."""
        where, args = ("WHERE log = ?", [log]) if log is not None else ("", [])
        return [
            OutcomeRow(*row)
            for row in self.db.execute(
                "SELECT log, seq, field, outcome, code, record, conflict FROM county_outcomes"
                f" {where} ORDER BY log, seq, field LIMIT ?",
                [*args, limit],
            )
        ]
