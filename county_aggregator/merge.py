# SPDX-License-Identifier: Apache-2.0
"""Merging the county node's logs into the merged database: rebuild, merge_new, apply.

The merged database is a pure function of the set of entries the county holds
(design.md): :func:`rebuild` starts from nothing, :func:`merge_new` continues from the
``merged_upto`` cursor, and both feed the same :class:`~county_aggregator.engine.Engine`
in chunks. :func:`merge_new` commits each chunk in one transaction together with the
cursor it advances: a crash mid-merge loses at most the chunk in flight, and the next
run redoes exactly it. :func:`rebuild` derives everything first and writes it once, in
key order (a crash leaves the store empty, and the next merge starts over): at a
county's scale the store outgrows SQLite's page cache, and chunk by chunk, each commit
rewrote pages of most of ``merged_records`` again (random keys).

Revocations (county_aggregator/feed.py): entries of a revoked node's logs beyond
``valid_through`` are rejected; when the revocation list changes, the next
:func:`merge_new` rebuilds, because entries merged earlier may now be rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlite_utils import Database

from county_aggregator import store
from county_aggregator.engine import Engine
from county_aggregator.feed import (
    CHUNK,
    MergeStats,
    begin,
    fingerprint,
    gc_paused,
    merge_logs,
    plan,
    revocation_limits,
)
from county_aggregator.parallel import rebuild_parallel
from county_aggregator.store import EntryRow, content_hash
from node.sync.trust import held_revocations
from protocol import Entry, RevocationList

__all__ = [
    "MergeStats",
    "apply_entries",
    "content_hash",
    "entry_row",
    "load_revocations",
    "lost_logs",
    "merge_logs",
    "merge_new",
    "plan",
    "rebuild",
    "revocation_limits",
]


def entry_row(entry: Entry) -> EntryRow:
    """The row form the merge reads (as in the county node's ``received_entries``)."""
    return (
        str(entry.log),
        entry.seq,
        entry.hlc,
        entry.ruleset,
        entry.flags,
        entry.payload,
        entry.payload_hash,
    )


def apply_entries(
    merged_db: Database,
    entries: Iterable[Entry | EntryRow],
    *,
    county: str,
    limits: dict[str, int] | None = None,
) -> None:
    """Merge ``entries`` (any order, duplicates allowed) in one transaction.

    ``limits`` (``{log: last valid seq}``, see :func:`revocation_limits`) rejects entries
    of revoked logs; None keeps the revocation state the database was merged under.
    """
    rows = [entry_row(e) if isinstance(e, Entry) else e for e in entries]
    with gc_paused(), merged_db.atomic():
        engine = Engine(merged_db, county, limits=limits, complete=store.is_empty(merged_db))
        store.set_meta(merged_db, "county", county)
        if limits is not None or store.get_meta(merged_db, "revocations") is None:
            # Keep what merge_new recorded: an advisory merged here must not make the
            # next merge_new think the revocation list changed.
            store.set_meta(merged_db, "revocations", fingerprint(limits or {}))
        engine.apply(rows)
        engine.flush()


def rebuild(
    county_node_db: Database,
    merged_db: Database,
    *,
    revocations: RevocationList | None = None,
    county: str | None = None,
    chunk: int = CHUNK,
    workers: int = 1,
) -> MergeStats:
    """Recreate the merged store from every entry the county node holds.

    Entries are read and applied ``chunk`` at a time, but derived and written once, at
    the end (``merge_logs(defer=True)``).

    With ``workers`` > 1 (and both databases in files, on a system that can fork) the
    logs are merged by that many processes at once (county_aggregator/parallel.py); the
    result is byte for byte the same.
    """
    if workers > 1:
        stats = rebuild_parallel(
            county_node_db,
            merged_db,
            revocations=revocations,
            county=county,
            chunk=chunk,
            workers=workers,
        )
        if stats is not None:
            return stats
    p = plan(county_node_db, revocations, county)
    begin(merged_db, p, clear=True)
    engine = Engine(merged_db, p.county, limits=p.limits, complete=True)
    with gc_paused():
        total = merge_logs(county_node_db, merged_db, engine, p.logs, p.own, chunk, defer=True)
        with merged_db.atomic():
            engine.flush()
    return MergeStats(total, engine.applied, engine.rejected, True)


def merge_new(
    county_node_db: Database,
    merged_db: Database,
    *,
    revocations: RevocationList | None = None,
    county: str | None = None,
    chunk: int = CHUNK,
) -> MergeStats:
    """Merge the entries not merged yet, chunk by chunk, resuming after a crash.

    Starts over from nothing when the revocation limits changed since the last merge,
    when a parallel rebuild was cut off before it reconciled its workers' results, or
    when the county node holds less of a log than was merged (:func:`lost_logs`).

    Args:
        county_node_db: the county node's store (``received_entries`` and its own log).
        merged_db: the merged database (:func:`store.open_merged`).
        revocations: the county's revocation list, if any (:func:`load_revocations`).
        county: the county's 6-digit code; by default the county node's own.
        chunk: entries per transaction.
    """
    p = plan(county_node_db, revocations, county)
    held = store.get_meta(merged_db, "revocations")
    rebuilt = (
        (held is not None and held != p.fingerprint)
        or store.get_meta(merged_db, "rebuild") is not None
        or bool(lost_logs(store.cursor(merged_db), p.logs))
    )
    begin(merged_db, p, clear=rebuilt)
    engine = Engine(merged_db, p.county, limits=p.limits, complete=store.is_empty(merged_db))
    with gc_paused():
        total = merge_logs(county_node_db, merged_db, engine, p.logs, p.own, chunk)
    return MergeStats(total, engine.applied, engine.rejected, rebuilt)


def lost_logs(cursor: dict[str, int], logs: dict[str, int]) -> list[str]:
    """Logs merged further than the county node now holds them (none, normally).

    That happens when the county node was restored from an older backup: the merged
    database still holds entries the node lost, and merging on from the cursor would
    keep them, while a rebuild (which reads only what the node holds) would not. The
    merged database must be a function of what the node holds, so the caller rebuilds.

    Comparing seqs is enough: a log's entries are hash-chained and signed, so whatever
    the node holds at a seq is the entry merged there; and a restored node writes its
    own entries in a new epoch, i.e. a new log, never over seqs it already used.
    """
    return sorted(log for log, seq in cursor.items() if logs.get(log, 0) < seq)


def load_revocations(data_dir: Path) -> RevocationList | None:
    """The county node's revocation list (``keys/revocations.signed``), verified against
    the root or the county's issuing key (as every node verifies it), if any."""
    return held_revocations(data_dir)
