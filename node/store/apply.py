# SPDX-License-Identifier: Apache-2.0
"""Applying one entry's ops to the ``records`` table.

The same function serves the write path and the rebuild from the log, which is what
makes "the tables are a view of the log" checkable rather than hoped for.

A record keeps, per field, the *version* that wrote its value, and the version that
last touched it (``updated_epoch``, ``updated_seq``): a later write sends them as the
base versions the officer saw (SPEC §10.3). A version is the writing entry's seq in
epoch 1 (every store until its first new epoch, so their rows stay as they were) and
``"<epoch>:<seq>"`` after it: a bare seq would be read as one of the log being written,
and after ``new-epoch`` a card recorded in the old epoch is edited in the new one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlite_utils import Database

from protocol import Entry, EpochStart, LogId, NodeId, Retire, Suite, Upsert, decode_payload
from protocol.entries import FLAG_EPOCH_START, rebuilt_entry

ERASING_REASONS = frozenset({"retention"})
"""Retire reasons that also erase the record's fields (controlled deletion)."""


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


Version = int | str
"""How ``records.versions`` names the entry that wrote a value (see the module)."""


def version_of(epoch: int, seq: int) -> Version:
    """The version entry ``seq`` of ``epoch`` gives the values it writes."""
    return seq if epoch == 1 else f"{epoch}:{seq}"


def parse_version(version: Version) -> tuple[int, int]:
    """``(epoch, seq)`` of a stored version (``(1, 0)``: none)."""
    if isinstance(version, int):
        return 1, version
    epoch, _, seq = version.partition(":")
    return int(epoch), int(seq)


At = tuple[int, int, int]
"""``(epoch, seq, hlc)`` of the entry being applied."""


def apply_entry(db: Database, entry: Entry, ops: list[Any] | None = None) -> None:
    """Apply the ops of ``entry`` (decoded from its payload unless given)."""
    if ops is None:
        if entry.payload is None:
            return
        ops = decode_payload(entry.payload)
    _apply_ops(db, (entry.log.epoch, entry.seq, entry.hlc), ops)


def _apply_ops(db: Database, at: At, ops: list[Any]) -> None:
    for op in ops:
        if isinstance(op, Upsert):
            _upsert(db, at, op)
        elif isinstance(op, Retire):
            _retire(db, at, op)


def _upsert(db: Database, at: At, op: Upsert) -> None:
    epoch, seq, hlc = at
    row = db.execute(
        "SELECT data, versions FROM records WHERE kind = ? AND id = ?", [op.kind, op.id]
    ).fetchone()
    data, versions = (json.loads(row[0]), json.loads(row[1])) if row else ({}, {})
    version = version_of(epoch, seq)
    for name, (value, _base) in op.fields.items():
        data[name] = value
        versions[name] = version
    if row:
        db.execute(
            "UPDATE records SET data = ?, versions = ?, updated_seq = ?, updated_hlc = ?,"
            " updated_epoch = ? WHERE kind = ? AND id = ?",
            [dumps(data), dumps(versions), seq, hlc, epoch, op.kind, op.id],
        )
    else:
        db.execute(
            "INSERT INTO records (kind, id, data, versions, retired, created_seq, updated_seq,"
            " updated_hlc, updated_epoch) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?)",
            [op.kind, op.id, dumps(data), dumps(versions), seq, seq, hlc, epoch],
        )


def _retire(db: Database, at: At, op: Retire) -> None:
    epoch, seq, hlc = at
    erase = op.reason in ERASING_REASONS
    db.execute(
        "UPDATE records SET retired = ?, updated_seq = ?, updated_hlc = ?, updated_epoch = ?"
        + (", data = '{}', versions = '{}'" if erase else "")
        + " WHERE kind = ? AND id = ?",
        [op.reason, seq, hlc, epoch, op.kind, op.id],
    )


def epoch_cuts(db: Database) -> dict[int, int]:
    """``{epoch: last kept seq}`` for each epoch a later epoch's first entry names below
    its head (SPEC §3.5: the first entry names the last head the node keeps).

    A store that wrote on a stale copy forks its log; the new epoch then starts from
    the last entry the parent is known to hold, and what the copy wrote past it is
    carried into the new epoch (node/store/carry.py), not kept in the old one.
    """
    heads = log_heads(db)
    out: dict[int, int] = {}
    for epoch in heads:
        row = db.execute(
            "SELECT payload FROM log WHERE epoch = ? AND seq = 1 AND flags & ?"
            " AND payload IS NOT NULL",
            [epoch, FLAG_EPOCH_START],
        ).fetchone()
        if row is None:
            continue
        first = decode_payload(bytes(row[0]))[0]
        if isinstance(first, EpochStart) and first.prev_epoch > 0:
            out[first.prev_epoch] = min(first.prev_seq, out.get(first.prev_epoch, 2**62))
    return {e: s for e, s in out.items() if s < heads.get(e, 0)}


def log_heads(db: Database) -> dict[int, int]:
    """``{epoch: last seq}`` of every epoch the node's own log holds, oldest first.

    Found by seeking the primary key epoch by epoch: a log holds a few epochs and tens
    of thousands of entries, and ``GROUP BY epoch`` (or ``WHERE seq = 1``) reads every
    entry's page, payloads included, each one decrypted (SQLCipher), at every sync
    round (``epoch_cuts`` runs in ``ChangeLog.closed_heads``): a catch-up of 20,000
    entries spent a tenth of its time there.
    """
    heads: dict[int, int] = {}
    epoch = db.execute("SELECT MIN(epoch) FROM log").fetchone()[0]
    while epoch is not None:
        last = db.execute("SELECT MAX(seq) FROM log WHERE epoch = ?", [epoch]).fetchone()[0]
        heads[int(epoch)] = int(last)
        epoch = db.execute("SELECT MIN(epoch) FROM log WHERE epoch > ?", [epoch]).fetchone()[0]
    return heads


def kept_rows(db: Database) -> Iterator[Entry]:
    """The entries the records are a view of (every epoch, less the stretches past a
    cut): ``ChangeLog.kept_entries``, read without a ChangeLog (a migration's)."""
    meta = dict(db.execute("SELECT key, value FROM node_meta").fetchall())
    node, suite = NodeId.parse(meta["node"]), Suite(int(meta["suite"]))
    cuts = epoch_cuts(db)
    rows = db.execute(
        "SELECT epoch, seq, prev_hash, hlc, ruleset, payload_hash, payload_len, payload, flags"
        " FROM log ORDER BY epoch, seq"
    )
    for epoch, seq, prev, hlc, ruleset, digest, length, payload, flags in rows:
        if seq <= cuts.get(epoch, seq):
            log = LogId(node, epoch)
            yield rebuilt_entry(suite, log, seq, prev, hlc, ruleset, digest, length, payload, flags)


def replay_records(
    db: Database, replay: Callable[[Database, Iterable[Entry]], None] | None = None
) -> None:
    """Make ``records`` again from the entries it is a view of; ``replay`` puts them in
    (a recovered store's, node/store/recovery.py: its base first), else one by one."""
    db.execute("DELETE FROM records")
    if replay is not None:
        replay(db, kept_rows(db))
        return
    for entry in kept_rows(db):
        apply_entry(db, entry)
