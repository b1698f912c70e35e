# SPDX-License-Identifier: Apache-2.0
"""Read-only queries the operator pages need over ``records`` and ``audit``.

The pages keep in-memory indexes (people for search, log entries per record for a
card's history) and bring them up to date from what changed since they last looked;
these are the reads that make that cheap. Writing stays with :class:`NodeStore`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from node.domain.records import REF_KINDS
from node.store import audit as audit_trail
from node.store.audit import AuditEntry

PERSON_REFS = tuple(f for f, kind in REF_KINDS.items() if kind == "person")


@dataclass(frozen=True, slots=True)
class AuditRow:
    rowid: int
    at: str
    actor: str
    action: str
    kind: str
    record_id: str
    purpose: str


def records_changed_since(
    db: Database, kind: str, after_seq: int
) -> Iterator[tuple[str, dict[str, Any], str | None, int]]:
    """Records of ``kind`` written after log seq ``after_seq`` (of the current epoch):
    ``(id, data, retired reason, updated_seq)`` in seq order."""
    rows = db.execute(
        "SELECT id, data, retired, updated_seq FROM records WHERE kind = ? AND updated_seq > ?"
        " ORDER BY updated_seq",
        [kind, after_seq],
    )
    for record_id, data, retired, seq in rows:
        yield record_id, json.loads(data), retired, int(seq)


def record_versions(
    db: Database, kind: str, record_id: str
) -> tuple[dict[str, int | str], int] | None:
    """The per-field versions (node/store/apply.py) and the last seq of a record, or None
    if there is none."""
    row = db.execute(
        "SELECT versions, updated_seq FROM records WHERE kind = ? AND id = ?", [kind, record_id]
    ).fetchone()
    return (json.loads(row[0]), int(row[1])) if row else None


def log_search(db: Database, at: str, actor: str, query: str) -> int:
    """Audit a search (who looked for whom) and return its row id, which the result
    links carry so the card view's audit row can say which search led there."""
    return audit_trail.append(db, [AuditEntry(at, actor, "search", "person", "", query)])


def searches_since(db: Database, actor: str, since: str, cap: int) -> int:
    """How many of ``actor``'s last ``cap`` searches were audited at or after ``since``
    (the audit table's time format): enough to tell whether a cap is reached, reading
    at most ``cap`` of that operator's rows, newest first."""
    rows = db.execute(
        "SELECT at FROM audit WHERE action = 'search' AND actor = ? ORDER BY rowid DESC LIMIT ?",
        [actor, cap],
    ).fetchall()
    return sum(1 for (at,) in rows if at >= since)


def audit_row(db: Database, rowid: int) -> AuditRow | None:
    row = db.execute(
        "SELECT rowid, at, actor, action, kind, record_id, purpose FROM audit WHERE rowid = ?",
        [rowid],
    ).fetchone()
    return AuditRow(*row) if row else None


def audit_of(db: Database, kind: str, record_id: str, limit: int = 50) -> list[AuditRow]:
    """The latest audit rows about one record, newest first."""
    rows = db.execute(
        "SELECT rowid, at, actor, action, kind, record_id, purpose FROM audit"
        " WHERE kind = ? AND record_id = ? ORDER BY rowid DESC LIMIT ?",
        [kind, record_id, limit],
    )
    return [AuditRow(*r) for r in rows]


def entry_mark(epoch: int, seq: int) -> str:
    """The audit purpose of a write made through the pages: which log entry it made."""
    return f"entry {epoch}:{seq}"


def writers_of(db: Database, entries: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """Which operator wrote the log entries ``(epoch, seq)``: from the audit rows the
    pages leave for their writes (action record/correct/close, purpose :func:`entry_mark`)."""
    out: dict[tuple[int, int], str] = {}
    for start in range(0, len(entries), 500):
        chunk = [entry_mark(e, s) for e, s in entries[start : start + 500]]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(
            "SELECT actor, purpose FROM audit WHERE action IN ('record', 'correct', 'close')"
            f" AND purpose IN ({marks})",
            chunk,
        )
        for actor, purpose in rows:
            epoch, seq = str(purpose)[6:].split(":")
            out[(int(epoch), int(seq))] = str(actor)
    return out


def kinds_of(db: Database, record_id: str) -> list[str]:
    """The kinds of the records with id ``record_id`` (ids are unique within a node, so
    at most one, unless a record came from elsewhere)."""
    rows = db.execute("SELECT kind FROM records WHERE id = ? ORDER BY kind", [record_id])
    return [str(k) for (k,) in rows]


def all_changed_since(
    db: Database, after_seq: int
) -> Iterator[tuple[str, str, dict[str, Any], str | None]]:
    """Records of every kind written after log seq ``after_seq`` (of the current epoch):
    ``(kind, id, data, retired reason)``, in seq order."""
    rows = db.execute(
        "SELECT kind, id, data, retired FROM records WHERE updated_seq > ? ORDER BY updated_seq",
        [after_seq],
    )
    for kind, record_id, data, retired in rows:
        yield str(kind), str(record_id), json.loads(data), retired
