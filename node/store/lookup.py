# SPDX-License-Identifier: Apache-2.0
"""Read queries over the node's records for rules, registers and open items.

The store owns every SQL statement on its tables (design.md, "one owner per table"):
the rules in ``node/checks.py``, the registers in ``node/registers`` and the open items
ask these functions, which only read and take every value as a bound parameter (a record
field, an item code or a date typed by an officer never becomes part of a statement).

Nothing here audits: these lookups feed rules and derived views. What a person sees is
audited where it is shown (``NodeStore.read``) or printed (``node.store.archive``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlite_utils import Database

from node.store.database import OPERATIONAL_ERRORS
from node.timeutil import SHANGHAI
from protocol.clock import COUNTER_BITS

# Field names go into a JSON path ('$.<name>'), which SQLite parses; only plain
# identifiers are accepted, so a path can never be more than one key.
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


def _path(field: str) -> str:
    if not isinstance(field, str) or not _FIELD.match(field):
        raise ValueError(f"not a record field name: {field!r}")
    return f"$.{field}"


class RecordLookup:
    """Cached lookups of records by kind and id, for joining cards into register rows."""

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

    def retired(self, kind: str, record_id: str) -> str | None:
        """The retire reason of a record, None while it is live (or unknown)."""
        row = self.db.execute(
            "SELECT retired FROM records WHERE kind = ? AND id = ?", [kind, record_id]
        ).fetchone()
        return None if row is None else row[0]

    def between(
        self, kind: str, date_field: str, first: str, last: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """Live records of ``kind`` whose ``date_field`` falls in ``first..last`` (ISO).

        Ordered by that date, then by when the record was created, so the 序号 of a
        printed line does not change between two prints of the same period.
        """
        path = _path(date_field)
        rows = self.db.execute(
            "SELECT id, data FROM records WHERE kind = ? AND retired IS NULL"
            " AND json_extract(data, ?) BETWEEN ? AND ?"
            " ORDER BY json_extract(data, ?), created_seq, id",
            [kind, path, first, last, path],
        )
        return [(record_id, json.loads(data)) for record_id, data in rows]

    def live_until(
        self, kind: str, date_field: str, last_day: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """Live records of ``kind`` dated on or before ``last_day``, in date order."""
        path = _path(date_field)
        rows = self.db.execute(
            "SELECT id, data FROM records WHERE kind = ? AND retired IS NULL"
            " AND typeof(json_extract(data, ?)) = 'text' AND json_extract(data, ?) <= ?"
            " ORDER BY json_extract(data, ?), created_seq, id",
            [kind, path, path, last_day, path],
        )
        return [(record_id, json.loads(data)) for record_id, data in rows]

    def naming(
        self, kind: str, ref_field: str, record_id: str, *, include_retired: bool = False
    ) -> list[tuple[str, dict[str, Any]]]:
        """Records of ``kind`` whose ``ref_field`` names ``record_id`` (a person's events)."""
        sql = "SELECT id, data FROM records WHERE kind = ? AND json_extract(data, ?) = ?"
        if not include_retired:
            sql += " AND retired IS NULL"
        rows = self.db.execute(
            sql + " ORDER BY created_seq, id", [kind, _path(ref_field), record_id]
        )
        return [(rid, json.loads(data)) for rid, data in rows]


def death_date(db: Database, person_ref: str) -> str | None:
    """The earliest live death date recorded for ``person_ref``, or None."""
    row = db.execute(
        "SELECT MIN(json_extract(data, '$.death_date')) FROM records WHERE kind = 'death'"
        " AND retired IS NULL AND json_extract(data, '$.person_ref') = ?",
        [person_ref],
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def live_cards_with_id_number(db: Database, id_number: str) -> list[str]:
    """Ids of the live person cards holding ``id_number`` (normally none or one)."""
    rows = db.execute(
        "SELECT id FROM records WHERE kind = 'person' AND retired IS NULL"
        " AND json_extract(data, '$.id_number') = ? ORDER BY created_seq, id",
        [id_number],
    )
    return [str(r[0]) for r in rows]


def household_members(db: Database, hukou_address: str) -> list[tuple[str, str, str | None]]:
    """The live person cards registered at ``hukou_address`` (one household, 户) as
    ``(id, name, household_relation)``, oldest card first."""
    rows = db.execute(
        "SELECT id, json_extract(data, '$.name'), json_extract(data, '$.household_relation')"
        " FROM records WHERE kind = 'person' AND retired IS NULL"
        " AND json_extract(data, '$.hukou_address') = ? ORDER BY created_seq, id",
        [hukou_address],
    )
    return [(str(r[0]), str(r[1] or ""), r[2]) for r in rows]


def stock_movements(db: Database, item: str) -> list[tuple[str, int, str]]:
    """Every live receipt (+) and hand-out (-) of ``item`` as ``(date, quantity, id)``.

    Retired records (entered in error) are not stock: a receipt withdrawn never arrived.
    ``item`` is a bound parameter, whatever it holds.
    """
    rows = db.execute(
        "SELECT id, kind, json_extract(data, '$.quantity'),"
        " CASE kind WHEN 'supply_receipt' THEN json_extract(data, '$.received_date')"
        " ELSE json_extract(data, '$.handout_date') END"
        " FROM records WHERE kind IN ('supply_receipt', 'supply_handout')"
        " AND retired IS NULL AND json_extract(data, '$.item') = ?",
        [item],
    )
    out = []
    for record_id, kind, quantity, day in rows:
        if type(quantity) is not int or not isinstance(day, str):
            continue
        out.append((day, quantity if kind == "supply_receipt" else -quantity, str(record_id)))
    return out


def node_name(db: Database) -> str:
    """The node's own name from its metadata ('' on a bare test database)."""
    try:
        row = db.execute("SELECT value FROM node_meta WHERE key = 'name'").fetchone()
    except OPERATIONAL_ERRORS:  # a bare database without node_meta has no name
        return ""
    return str(row[0]) if row else ""


def first_entry_day(db: Database) -> date | None:
    """The Shanghai date of the node's first log entry (its install), None if empty."""
    row = db.execute("SELECT MIN(hlc) FROM log").fetchone()
    if row is None or row[0] is None:
        return None
    ms = int(row[0]) >> COUNTER_BITS
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(SHANGHAI).date()


def log_rows_before(db: Database, end_hlc: int) -> Iterator[tuple[int, int, int, bytes | None]]:
    """``(epoch, seq, hlc, payload)`` of the node's own entries stamped before ``end_hlc``,
    in log order (the monthly change report replays them)."""
    rows = db.execute(
        "SELECT epoch, seq, hlc, payload FROM log WHERE hlc < ? ORDER BY epoch, seq", [end_hlc]
    )
    for epoch, seq, hlc, payload in rows:
        yield int(epoch), int(seq), int(hlc), None if payload is None else bytes(payload)
