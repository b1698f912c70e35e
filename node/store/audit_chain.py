"""The audit trail's hash chain, apart from the trail's writer: migration m011 chains
the rows already there, and the schema may import this without importing the store's
transaction helpers (which import the schema)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from sqlite_utils import Database

GENESIS = bytes(32)
"""The chain "before" the first row."""
AUDIT_FIELDS = "at, actor, action, kind, record_id, purpose"


def link(prev: bytes, fields: Sequence[object]) -> bytes:
    """The chain of a row with ``fields`` after a row whose chain is ``prev``."""
    text = json.dumps([str(f) for f in fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(prev + text.encode("utf-8")).digest()


def chain_all(db: Database) -> None:
    """Compute the chain of every row in order (migration m011: rows made before it)."""
    prev = GENESIS
    rows = db.execute(f"SELECT rowid, {AUDIT_FIELDS} FROM audit ORDER BY rowid").fetchall()
    for rowid, *fields in rows:
        prev = link(prev, fields)
        db.execute("UPDATE audit SET chain = ? WHERE rowid = ?", [prev, rowid])
