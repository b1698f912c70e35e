# SPDX-License-Identifier: Apache-2.0
"""The audit trail: the SQL of ``audit`` (who read or wrote which record, when, why).

Every read of a person's card leaves a row (domain.md §5), at a village and, for what
the county's commands show of people, at the county (issue 13, fact 9). A row is
worth only as much as the trail is whole, so each row carries ``chain``: SHA-256 over
the previous row's chain and this row's fields (migration m011). A row changed or
removed from the middle of the trail breaks every chain after it, and
:func:`first_break` finds the first. (Whoever can write the database can still cut
rows off its end, or forge a whole new tail; ``renkou node status`` shows the head, so
a head noted elsewhere earlier gives that away.)

Appending takes the write lock first (the row is inserted, then its chain computed
from the row before it), so two writers never chain onto the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from node.store.audit_chain import AUDIT_FIELDS, GENESIS, link
from node.store.holdings import immediate


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str
    action: str
    kind: str
    record_id: str
    purpose: str

    def fields(self) -> list[str]:
        return [self.at, self.actor, self.action, self.kind, self.record_id, self.purpose]


def append(db: Database, entries: Sequence[AuditEntry]) -> int:
    """Add ``entries`` to the trail, chained; return the row id of the last one.

    In the caller's transaction when there is one (the rows go with what they record,
    or not at all), else in its own write transaction.
    """
    if not entries:
        return 0
    first, *rest = entries
    with immediate(db):
        rowid = _insert(db, first, None)  # holds the write lock from here on
        chain = link(_chain_before(db, rowid), first.fields())
        db.execute("UPDATE audit SET chain = ? WHERE rowid = ?", [chain, rowid])
        for entry in rest:
            chain = link(chain, entry.fields())
            rowid = _insert(db, entry, chain)
    return rowid


def _insert(db: Database, entry: AuditEntry, chain: bytes | None) -> int:
    cur = db.execute(
        f"INSERT INTO audit ({AUDIT_FIELDS}, chain) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [*entry.fields(), chain],
    )
    return int(cur.lastrowid or 0)


def _chain_before(db: Database, rowid: int) -> bytes:
    row = db.execute(
        "SELECT chain FROM audit WHERE rowid < ? ORDER BY rowid DESC LIMIT 1", [rowid]
    ).fetchone()
    return GENESIS if row is None or row[0] is None else bytes(row[0])


def first_break(db: Database) -> int | None:
    """The row id of the first row whose chain does not follow from the rows before it
    (changed, or a row before it removed), or None when the trail is whole."""
    prev = GENESIS
    for rowid, chain, *fields in db.execute(
        f"SELECT rowid, chain, {AUDIT_FIELDS} FROM audit ORDER BY rowid"
    ):
        prev = link(prev, fields)
        if chain is None or bytes(chain) != prev:
            return int(rowid)
    return None


def head(db: Database) -> tuple[int, bytes]:
    """How many rows the trail has, and the chain of its last (GENESIS when empty)."""
    (count,) = db.execute("SELECT COUNT(*) FROM audit").fetchone()
    return int(count), _chain_before(db, 1 << 62)
