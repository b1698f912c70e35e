# SPDX-License-Identifier: Apache-2.0
"""Erasing payloads at the end of retention (SPEC §5.4), wherever a node holds them.

Deleting a record at the end of its retention is a log entry of its own: a retire with
reason ``retention`` (node/retention.py), which travels like any change. Every holder
that receives it erases the payloads of the earlier entries of that node that concern
only records so deleted: the village in its own ``log``, the county in the entries it
``received``. Headers stay (hash, length, chain), so every log still verifies, and an
erased entry counts for continuity but carries no ops (SPEC §5.4).

An entry that also changed a record that is not deleted keeps its payload: erasing it
would lose that record. Records are written so that one entry concerns one person (an
event and its effects on her card), so this is the rare case (and the deleted records'
rows then stay, emptied, so that the records table is still a replay of the log).

SQLite does not overwrite freed pages by default, and WAL frames keep old pages until
a checkpoint: erasure turns ``secure_delete`` on and checkpoints, so the data is gone
from the file, not only from the tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from protocol import LogId, Retire, Upsert, decode_payload

ERASING_REASON = "retention"
_MARK = b'"reason":"retention"'
RecordKey = tuple[str, str]
EntryKey = tuple[Any, int]
"""``(epoch or log, seq)``: where an entry sits in the table being erased."""


def mentions_retention(payload: bytes | None) -> bool:
    """A cheap test (no decoding) of whether a payload may hold a retention retire.

    The canonical encoding escapes every quote inside a string, so the exact bytes
    ``"reason":"retention"`` occur only as a retire's reason, never in a field's text.
    """
    return payload is not None and _MARK in payload


def plan_erasure(
    payloads: Iterable[tuple[EntryKey, bytes | None]],
) -> tuple[list[EntryKey], set[RecordKey], set[RecordKey]]:
    """Which entries to erase, given every payload of one node's logs.

    Args:
        payloads: ``(entry key, payload)`` for every entry (None: already erased).

    Returns:
        ``(entry keys to erase, records deleted for retention, deleted records that a
        kept entry still writes)``.
    """
    decoded = [(key, decode_payload(p)) for key, p in payloads if p is not None]
    deleted = {
        (op.kind, op.id)
        for _key, ops in decoded
        for op in ops
        if isinstance(op, Retire) and op.reason == ERASING_REASON
    }
    erase: list[EntryKey] = []
    kept: set[RecordKey] = set()
    if not deleted:
        return erase, deleted, kept
    for key, ops in decoded:
        targets = [op for op in ops if isinstance(op, Upsert | Retire)]
        concern = {(op.kind, op.id) for op in targets}
        retires = any(isinstance(op, Retire) and op.reason == ERASING_REASON for op in targets)
        if targets and len(targets) == len(ops) and concern <= deleted and not retires:
            erase.append(key)
        else:
            kept |= {(op.kind, op.id) for op in targets if isinstance(op, Upsert)} & deleted
    return erase, deleted, kept


def erase_own_log(db: Database) -> int:
    """Erase, in the node's own log, the payloads of records deleted for retention, and
    the deleted records' rows no kept entry writes; return the number of entries erased.

    Must run inside the caller's write transaction (the one that wrote the retires).
    """
    rows = db.execute("SELECT epoch, seq, payload FROM log WHERE payload IS NOT NULL")
    erase, deleted, kept = plan_erasure(
        ((epoch, seq), None if p is None else bytes(p)) for epoch, seq, p in rows
    )
    _secure(db)
    db.conn.executemany("UPDATE log SET payload = NULL WHERE epoch = ? AND seq = ?", erase)
    gone = sorted(deleted - kept)
    db.conn.executemany("DELETE FROM records WHERE kind = ? AND id = ?", gone)
    return len(erase)


def erase_received(db: Database, log: LogId) -> int:
    """Erase, in the entries this node received, the payloads of the records that
    ``log``'s node deleted for retention, across every epoch of that node.

    Must run inside the caller's write transaction (the one that stored the entries).
    """
    logs = [
        str(name)
        for (name,) in db.execute("SELECT DISTINCT log FROM received_entries")
        if LogId.parse(str(name)).node == log.node
    ]
    payloads: list[tuple[EntryKey, bytes | None]] = []
    for name in logs:
        rows = db.execute(
            "SELECT seq, payload FROM received_entries WHERE log = ? AND payload IS NOT NULL",
            [name],
        )
        payloads += [((name, seq), None if p is None else bytes(p)) for seq, p in rows]
    erase, _deleted, _kept = plan_erasure(payloads)
    _secure(db)
    db.conn.executemany(
        "UPDATE received_entries SET payload = NULL WHERE log = ? AND seq = ?", erase
    )
    return len(erase)


def _secure(db: Database) -> None:
    """Overwrite freed space from now on (a per-connection setting, kept on: erasures are
    rare and the node's pages hold personal data)."""
    db.conn.execute("PRAGMA secure_delete = ON")


def checkpoint(db: Database) -> None:
    """Copy the WAL into the database and truncate it, so erased pages leave the WAL too.

    Run after the erasing transaction committed (a checkpoint cannot run inside one).
    """
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
