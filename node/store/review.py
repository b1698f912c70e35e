# SPDX-License-Identifier: Apache-2.0
"""The township's review store: its villages' monthly changes, kept for the review window.

Owner of the table ``review_changes`` (migration m016). A township checks each village's
changes every month (信息质量检查, 篇4 第44条) and sends queries back for doubtful
entries; the village's batches are sealed for it for that reason (SPEC.md §6.3.1), but it
may open a batch only until the county acknowledges it (§6.3.2), normally within a
round. So, before it takes its own wrap out of a batch, it copies out of the batch what
the review needs and nothing else (node/review/fields.py chooses; node/review/intake.py
opens and copies), into this table of its encrypted node.db.

That copy is kept only for the review window: the current month and the one before it
by default, ``RENKOU_REVIEW_MONTHS`` (1 to 3) months in all, counted in Asia/Shanghai,
as the change report counts a change's month (by its clock's wall time). A change of an
older month is not taken, and one whose month has left the window is deleted at the
start of every process that opens the store and at the end of every sync round;
secure_delete (node/store/database.py) zeroes the freed pages and the WAL is emptied
into the file, so the deleted rows are not left in old WAL frames either.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, NamedTuple

from sqlite_utils import Database

from node.errors import NodeError

try:  # pragma: no branch - which one depends on the platform (as protocol.fast_payload)
    import orjson
except ImportError:  # pragma: no cover - PyPy, or a platform without an orjson wheel
    orjson = None  # type: ignore[assignment]  # None means: use the standard library

REVIEW_MONTHS_ENV = "RENKOU_REVIEW_MONTHS"
DEFAULT_MONTHS = 2
"""The current month and the one before it: a village's report is due by the 2nd of the
next month and the township's by the 6th (domain.md §3), so the previous month is the
one under review for the first days of a month."""
MAX_MONTHS = 3
"""A township late with its review may keep one month more, never a history."""

ADDED, MODIFIED, RETIRED = "added", "modified", "retired"


def _to_json(fields: Mapping[str, Any]) -> str:
    """A row's ``fields`` as JSON text: compact, keys sorted, UTF-8 as is. orjson where
    it is installed (a dependency: a tenth of the standard encoder's cost, which a
    catch-up pays once per change), the standard library's encoder otherwise."""
    if orjson is None:  # pragma: no cover - PyPy, or a platform without an orjson wheel
        return _stdlib_json(fields)
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode()


_stdlib_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


class ReviewChange(NamedTuple):
    """One change of a village's record, as the township's review keeps it.

    ``fields`` holds only the new values of the fields the review needs
    (node/review/fields.py), and for a retirement only its reason; ``subject`` is the
    id of the person a record is about (the record itself for a card). A named tuple,
    not a frozen dataclass: a catch-up builds one per change, and a tuple is built for a
    fraction of the cost."""

    village: str
    log: str
    seq: int
    op: int
    month: str
    at_ms: int
    kind: str
    record_id: str
    action: str
    subject: str | None
    fields: Mapping[str, Any]


def review_months(environ: Mapping[str, str] | None = None) -> int:
    """The review window in months (``RENKOU_REVIEW_MONTHS``, 1 to 3; 2 when unset).

    Raises:
        NodeError: ``review_months`` when the setting is not a whole number from 1 to 3
            (refused, not stretched: a typo must not keep a year of changes).
    """
    text = (os.environ if environ is None else environ).get(REVIEW_MONTHS_ENV, "").strip()
    if not text:
        return DEFAULT_MONTHS
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_MONTHS:
        raise NodeError(
            f"设置 {REVIEW_MONTHS_ENV}={text!r} 无效：审核保留期应为 1 到 {MAX_MONTHS} 个月",
            f"{REVIEW_MONTHS_ENV}={text!r} is not valid: the review window is 1 to "
            f"{MAX_MONTHS} months",
            code="review_months",
        )
    return int(text)


SHANGHAI_OFFSET_MS = 8 * 3600 * 1000
"""Asia/Shanghai is UTC+8 all year (no daylight saving since 1991): a change's month is
found by arithmetic, not a time-zone conversion per entry (a township takes in tens of
thousands of entries when a village catches up)."""
_DAY_MS = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=1024)
def _month_of_day(day: int) -> str:
    found = date.fromordinal(_EPOCH_ORDINAL + day)
    return f"{found.year:04d}-{found.month:02d}"


def month_of(ms: int) -> str:
    """The month ('YYYY-MM', Asia/Shanghai) of the UTC instant ``ms``."""
    return _month_of_day((ms + SHANGHAI_OFFSET_MS) // _DAY_MS)


def month_start_ms(month: str) -> int:
    """The UTC instant (ms) at which ``month`` ('YYYY-MM') begins in Asia/Shanghai."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    return (first.toordinal() - _EPOCH_ORDINAL) * _DAY_MS - SHANGHAI_OFFSET_MS


def first_month(now_ms: int, months: int | None = None) -> str:
    """The oldest month still inside the review window at ``now_ms``."""
    span = review_months() if months is None else months
    current = month_of(now_ms)
    index = int(current[:4]) * 12 + int(current[5:7]) - 1 - (span - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def in_window(month: str, now_ms: int, months: int | None = None) -> bool:
    """Is ``month`` ('YYYY-MM') inside the review window at ``now_ms`` (and not ahead)?"""
    return first_month(now_ms, months) <= month <= month_of(now_ms)


class ReviewStore:
    """The ``review_changes`` table of one node's database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def keep(self, changes: Iterable[ReviewChange], now_ms: int) -> int:
        """Keep ``changes`` (a change already kept, the same log, seq and op, is kept
        once); return how many rows were new."""
        # A change's first ten fields are the first ten columns, in their order.
        rows = [(*c[:10], _to_json(c.fields), now_ms) for c in changes]
        before = self.db.conn.total_changes
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO review_changes (village, log, seq, op, month, at_ms, kind,"
            " record_id, action, subject, fields, taken_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return int(self.db.conn.total_changes - before)

    def villages(self, month: str) -> list[str]:
        """The villages with changes kept for ``month``, by code."""
        rows = self.db.execute(
            "SELECT DISTINCT village FROM review_changes WHERE month = ? ORDER BY village",
            [month],
        )
        return [str(v) for (v,) in rows]

    def changes(self, village: str, month: str) -> list[ReviewChange]:
        """The kept changes of ``village`` in ``month``, in the order it wrote them."""
        rows = self.db.execute(
            "SELECT village, log, seq, op, month, at_ms, kind, record_id, action, subject,"
            " fields FROM review_changes WHERE village = ? AND month = ?"
            " ORDER BY at_ms, log, seq, op",
            [village, month],
        )
        return [_change(row) for row in rows]

    def names(self, village: str) -> dict[str, str]:
        """The name each card of ``village`` kept in the window last carried, by id:
        a change of another record names the person it is about by these."""
        rows = self.db.execute(
            "SELECT record_id, json_extract(fields, '$.name') FROM review_changes"
            " WHERE village = ? AND kind = 'person' AND json_extract(fields, '$.name')"
            " IS NOT NULL ORDER BY at_ms, log, seq, op",
            [village],
        )
        return {str(rid): str(name) for rid, name in rows}

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM review_changes").fetchone()[0])

    def clear(self) -> None:
        """Delete every kept change (a backup's copy carries none, node/store/backup.py)."""
        self.db.execute("DELETE FROM review_changes")

    def purge_before(self, month: str) -> int:
        """Delete the changes of months before ``month``; return how many.

        When any were deleted the WAL is written into the database file, whose freed
        pages secure_delete zeroes, and truncated: the deleted rows stay neither in a
        free page nor in an old WAL frame. Nothing is written when nothing is due, so a
        store opened read-only still opens.
        """
        due = self.db.execute(
            "SELECT 1 FROM review_changes WHERE month < ? LIMIT 1", [month]
        ).fetchall()  # all: a statement left unfinished would lock the table below
        if not due:
            return 0
        with self.db.atomic():
            deleted = self.db.execute(
                "DELETE FROM review_changes WHERE month < ?", [month]
            ).rowcount
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return int(deleted)


def purge_expired(db: Database, now_ms: int) -> int:
    """Delete the review changes whose month has left the window at ``now_ms``."""
    return ReviewStore(db).purge_before(first_month(now_ms))


def _change(row: tuple[Any, ...]) -> ReviewChange:
    village, log, seq, op, month, at_ms, kind, record_id, action, subject, fields = row
    return ReviewChange(
        village, log, seq, op, month, at_ms, kind, record_id, action, subject, json.loads(fields)
    )
