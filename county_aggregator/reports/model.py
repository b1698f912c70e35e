# SPDX-License-Identifier: Apache-2.0
"""A built report: rows, columns and cells that know which records they counted.

Every figure must trace back to the records it counts (domain.md section 4), so a cell
is its value plus the ``(kind, key)`` of those records. Township and county cells hold a
lazy view over their villages' lists rather than copies: Table 2 of a large county
counts a million people, and copying each key three times would triple the memory for
lists nobody drills into.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from county_aggregator.reports.periods import Period
from node.errors import NotFoundError

RecordRef = tuple[str, str]
"""``(kind, key)`` of a row of ``merged_records``."""

LEVEL_LABELS = {"county": "县（市、区）合计", "township": "乡镇（街道）", "village": "村（居）"}


class RecordsView(Sequence[RecordRef]):
    """The concatenation of several record lists, deduplicated, built on first use."""

    def __init__(self, parts: Sequence[Sequence[RecordRef]], *, dedup: bool = False) -> None:
        self._parts = tuple(parts)
        self._dedup = dedup
        self._flat: list[RecordRef] | None = None

    def _items(self) -> list[RecordRef]:
        if self._flat is None:
            chained = itertools.chain.from_iterable(self._parts)
            self._flat = list(dict.fromkeys(chained) if self._dedup else chained)
        return self._flat

    def __len__(self) -> int:
        if self._flat is None and not self._dedup:
            return sum(len(p) for p in self._parts)
        return len(self._items())

    @overload
    def __getitem__(self, index: int) -> RecordRef: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[RecordRef]: ...
    def __getitem__(self, index: int | slice) -> RecordRef | Sequence[RecordRef]:
        return self._items()[index]

    def __iter__(self) -> Iterator[RecordRef]:
        return iter(self._items())

    def __repr__(self) -> str:
        return f"RecordsView({len(self)} records)"


@dataclass(frozen=True, slots=True)
class Cell:
    """A figure (an int, or a string such as "62.5") and the records it was counted from."""

    value: int | str
    records: Sequence[RecordRef]


@dataclass(frozen=True, slots=True)
class ReportRow:
    """A printed row: an area (county, township, village) or one record of a list."""

    key: str
    level: str
    label: str


@dataclass(frozen=True, slots=True)
class ReportColumn:
    key: str
    heading: str


@dataclass
class Report:
    """A built report; ``cells[(row_key, column_key)]`` is every figure with its records.

    ``lead`` are the columns that name a row (code, name), printed before the figures.
    ``source`` is the database the report was built from, kept for :func:`drill_down`.
    """

    name: str
    title: str
    period: Period
    lead: tuple[ReportColumn, ...]
    columns: tuple[ReportColumn, ...]
    rows: tuple[ReportRow, ...]
    cells: dict[tuple[str, str], Cell]
    lead_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: str = ""
    source: Any = field(default=None, repr=False, compare=False)

    def value(self, row: str, column: str) -> int | str:
        return self.cells[(row, column)].value

    def as_rows(self) -> list[dict[str, Any]]:
        """The report as one dict per printed row, keyed by column key (style rule 28)."""
        out = []
        for row in self.rows:
            line = dict(self.lead_values.get(row.key, {}))
            line.update({c.key: self.cells[(row.key, c.key)].value for c in self.columns})
            out.append(line)
        return out

    def figures(self) -> dict[str, Any]:
        """The figures as canonical-JSON-ready data: column keys and one list per row.

        Rows are lists, not objects, because row keys (village codes, record keys such
        as ``idn:…``) are not valid canonical-JSON object keys, and lists keep a county
        of 500 villages well inside the signed-object size bound.
        """
        return {
            "columns": [c.key for c in self.columns],
            "rows": [
                [_nfc(row.key), *(_nfc(self.cells[(row.key, c.key)].value) for c in self.columns)]
                for row in self.rows
            ],
        }


def _nfc(value: int | str) -> int | str:
    """Canonical JSON takes NFC strings only; a name typed in another form still signs."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class MergedRecord:
    """One row of ``merged_records`` with its JSON decoded, as drill-down returns it."""

    kind: str
    key: str
    data: dict[str, Any]
    origins: list[str]
    village: str
    retired: str | None
    first_hlc: int
    last_hlc: int


def drill_down(
    report: Report, row: str, column: str, *, db: sqlite3.Connection | None = None
) -> list[MergedRecord]:
    """Return the records behind one figure, in the order they were counted.

    Args:
        report: a built report.
        row: a row key (village, township or county code; a record key in a list).
        column: a column key.
        db: the merged database; by default the one the report was built from.

    Raises:
        NotFoundError: the report has no such row or column.
    """
    cell = report.cells.get((row, column))
    if cell is None:
        raise NotFoundError(
            f"报表 {report.name} 中没有行 {row!r} 列 {column!r}",
            f"Report {report.name} has no row {row!r} and column {column!r}.",
        )
    conn = db if db is not None else report.source
    if conn is None:
        raise ValueError("drill_down needs the database the report was built from")
    return fetch_records(conn, list(cell.records))


def fetch_records(conn: Any, refs: list[RecordRef]) -> list[MergedRecord]:
    """Read the given records from ``merged_records`` (the exchange's from its view,
    plan.source_of), keeping the order of ``refs``."""
    from county_aggregator.reports.plan import source_of

    conn = getattr(conn, "conn", conn)  # a sqlite_utils Database wraps its connection
    found: dict[RecordRef, MergedRecord] = {}
    by_kind: dict[str, list[str]] = {}
    for kind, key in refs:
        by_kind.setdefault(kind, []).append(key)
    for kind, keys in by_kind.items():
        for i in range(0, len(keys), 500):  # below SQLite's bound on parameters
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            sql = (
                "SELECT kind, key, data, origins, village, retired, first_hlc, last_hlc "
                f"FROM {source_of(kind)} WHERE kind = ? AND key IN ({marks})"
            )
            for r in conn.execute(sql, [kind, *chunk]):
                found[(r[0], r[1])] = MergedRecord(
                    r[0], r[1], json.loads(r[2]), json.loads(r[3]), r[4], r[5], r[6], r[7]
                )
    return [found[ref] for ref in refs if ref in found]
