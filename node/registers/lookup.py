# SPDX-License-Identifier: Apache-2.0
"""Read-only queries the registers share: records of a month, and cards by reference.

Only reads: building a register never writes, so printing last month's register twice
gives the same paper. Auditing the print (PIPL: every read of a card audited) is the
caller's job, because only the caller knows who printed it and why.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from node.registers.model import MonthRange


class RecordLookup:
    """Cached lookups of records by kind and id, for joining cards into rows."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[tuple[str, str], dict[str, Any] | None] = {}

    def get(self, kind: str, record_id: Any) -> dict[str, Any] | None:
        """A record's fields, retired or not: a register of March still names the
        woman whose card was later closed. None if the id names nothing."""
        if not isinstance(record_id, str):
            return None
        key = (kind, record_id)
        if key not in self._cache:
            row = self.db.execute(
                "SELECT data FROM records WHERE kind = ? AND id = ?", [kind, record_id]
            ).fetchone()
            self._cache[key] = json.loads(row[0]) if row else None
        return self._cache[key]

    def in_month(
        self, kind: str, date_field: str, month: MonthRange
    ) -> list[tuple[str, dict[str, Any]]]:
        """Live records of ``kind`` whose ``date_field`` falls in ``month``.

        Ordered by that date, then by when the record was created, so the 序号 of a
        printed line does not change between two prints of the same month.
        """
        path = f"$.{date_field}"
        rows = self.db.execute(
            "SELECT id, data FROM records WHERE kind = ? AND retired IS NULL"
            " AND json_extract(data, ?) BETWEEN ? AND ?"
            " ORDER BY json_extract(data, ?), created_seq, id",
            [kind, path, month.first.isoformat(), month.last.isoformat(), path],
        )
        return [(record_id, json.loads(data)) for record_id, data in rows]

    def live_until(
        self, kind: str, date_field: str, last_day: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """Live records of ``kind`` dated on or before ``last_day``, in date order."""
        path = f"$.{date_field}"
        rows = self.db.execute(
            "SELECT id, data FROM records WHERE kind = ? AND retired IS NULL"
            " AND typeof(json_extract(data, ?)) = 'text' AND json_extract(data, ?) <= ?"
            " ORDER BY json_extract(data, ?), created_seq, id",
            [kind, path, path, last_day, path],
        )
        return [(record_id, json.loads(data)) for record_id, data in rows]
