# SPDX-License-Identifier: Apache-2.0
"""Applying one entry's ops to the ``records`` table.

The same function serves the write path and the rebuild from the log, which is what
makes "the tables are a view of the log" checkable rather than hoped for.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from protocol import Entry, Retire, Upsert, decode_payload

ERASING_REASONS = frozenset({"retention"})
"""Retire reasons that also erase the record's fields (controlled deletion)."""


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def apply_entry(db: Database, entry: Entry, ops: list[Any] | None = None) -> None:
    """Apply the ops of ``entry`` (decoded from its payload unless given)."""
    if ops is None:
        if entry.payload is None:
            return
        ops = decode_payload(entry.payload)
    for op in ops:
        if isinstance(op, Upsert):
            _upsert(db, entry, op)
        elif isinstance(op, Retire):
            _retire(db, entry, op)


def _upsert(db: Database, entry: Entry, op: Upsert) -> None:
    row = db.execute(
        "SELECT data, versions FROM records WHERE kind = ? AND id = ?", [op.kind, op.id]
    ).fetchone()
    data, versions = (json.loads(row[0]), json.loads(row[1])) if row else ({}, {})
    for name, (value, _base) in op.fields.items():
        data[name] = value
        versions[name] = entry.seq
    if row:
        db.execute(
            "UPDATE records SET data = ?, versions = ?, updated_seq = ?, updated_hlc = ?"
            " WHERE kind = ? AND id = ?",
            [dumps(data), dumps(versions), entry.seq, entry.hlc, op.kind, op.id],
        )
    else:
        db.execute(
            "INSERT INTO records (kind, id, data, versions, retired, created_seq, updated_seq,"
            " updated_hlc) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
            [op.kind, op.id, dumps(data), dumps(versions), entry.seq, entry.seq, entry.hlc],
        )


def _retire(db: Database, entry: Entry, op: Retire) -> None:
    erase = op.reason in ERASING_REASONS
    db.execute(
        "UPDATE records SET retired = ?, updated_seq = ?, updated_hlc = ?"
        + (", data = '{}', versions = '{}'" if erase else "")
        + " WHERE kind = ? AND id = ?",
        [op.reason, entry.seq, entry.hlc, op.kind, op.id],
    )
