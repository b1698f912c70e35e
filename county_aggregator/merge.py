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

Revocations: entries of a revoked node's logs beyond ``valid_through`` are rejected.
The county node stores entries without the serial that signed them, so a log a
revocation does not name is judged by the node's newest certificate: rejected if that
one is revoked, kept if the node was enrolled again since. When the revocation list
changes, the next :func:`merge_new` rebuilds, because entries merged earlier may now be
rejected.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from county_aggregator import store
from county_aggregator.engine import Engine
from county_aggregator.local import dumps
from county_aggregator.store import EntryRow, content_hash
from node.identity import key_dir, load_certificate
from protocol import Entry, LogId, NodeId, RevocationList, decode_revocations

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

CHUNK = 50_000
CRL_FILE = "revocations.signed"


@dataclass(frozen=True, slots=True)
class MergeStats:
    """What one merge run did."""

    entries: int
    applied: int
    rejected: int
    rebuilt: bool


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
            store.set_meta(merged_db, "revocations", _fingerprint(limits or {}))
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
        from county_aggregator.parallel import rebuild_parallel

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
    with merged_db.atomic():
        store.clear(merged_db)
        store.set_meta(merged_db, "county", p.county)
        store.set_meta(merged_db, "revocations", p.fingerprint)
    engine = Engine(merged_db, p.county, limits=p.limits, complete=True)
    with gc_paused():
        total = merge_logs(county_node_db, merged_db, engine, p.logs, p.own, chunk, defer=True)
        with merged_db.atomic():
            engine.flush()
    return MergeStats(total, engine.applied, engine.rejected, True)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a merge of a county node's logs works from."""

    own: str | None
    county: str
    logs: dict[str, int]
    limits: dict[str, int]
    fingerprint: str


def plan(county_node_db: Database, revocations: RevocationList | None, county: str | None) -> Plan:
    """The county node's logs (with their last seq) and the revocation limits on them."""
    own = store.county_node(county_node_db)
    if county is None:
        if own is None:
            raise ValueError("the county code is unknown: pass county= or a county node's db")
        county = NodeId.parse(own).code
    logs = store.source_logs(county_node_db, own)
    limits = revocation_limits(revocations, store.certificate_rows(county_node_db), logs)
    return Plan(own, county, logs, limits, _fingerprint(limits))


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
    with merged_db.atomic():
        if rebuilt:
            store.clear(merged_db)
        store.set_meta(merged_db, "county", p.county)
        store.set_meta(merged_db, "revocations", p.fingerprint)
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


def merge_logs(
    county_node_db: Database,
    merged_db: Database,
    engine: Engine,
    logs: dict[str, int],
    own: str | None,
    chunk: int,
    *,
    defer: bool = False,
) -> int:
    """Merge what ``logs`` hold beyond the cursor, ``chunk`` entries per transaction.

    With ``defer`` (a rebuild's complete engine only) entries are still read and applied
    ``chunk`` at a time, but nothing is derived or written: the caller flushes once, at
    the end, in one transaction: each record is derived once, and the rows go in in key
    order (see ``Engine._derived``). A crash loses the whole run instead of a chunk,
    which a rebuild can afford: the merged database stays empty, and the next merge
    starts over.
    """
    if defer and not engine.complete:
        raise ValueError("only a complete engine (an empty merged database) can defer")
    done = store.cursor(merged_db)
    total = 0
    pending: list[EntryRow] = []
    for log in sorted(logs):
        after = done.get(log, 0)
        while after < logs[log]:
            rows = store.entries_after(county_node_db, log, after, own, chunk - len(pending))
            if not rows:
                break
            pending += rows
            after = rows[-1][1]
            if len(pending) >= chunk:
                total += _merge_chunk(merged_db, engine, pending, defer)
                pending = []
    if pending:
        total += _merge_chunk(merged_db, engine, pending, defer)
    return total


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while merging.

    The merge keeps hundreds of thousands of small objects alive (the local records of
    the run), and every full collection walks all of them: a fifth of a rebuild's time.
    They form no reference cycles, so nothing waits for a collection meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What the run left alive sits in the youngest generation, and the first
        # collection after the pause would walk all of it (seconds, at a county's
        # scale). Moved to the oldest generation instead (in constant time), it is
        # walked only by the rare full collections, as if it had aged there.
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def _fingerprint(limits: dict[str, int]) -> str:
    return hashlib.sha256(dumps(sorted(limits.items())).encode()).hexdigest()


def _merge_chunk(merged_db: Database, engine: Engine, rows: list[EntryRow], defer: bool) -> int:
    if defer:
        engine.apply(rows)  # a complete engine reads nothing back: no transaction needed
        return len(rows)
    with merged_db.atomic():
        engine.apply(rows)
        engine.flush()
    return len(rows)


def revocation_limits(
    crl: RevocationList | None, certificates: Iterable[tuple[str, int]], logs: Iterable[str]
) -> dict[str, int]:
    """``{log: last valid seq}`` for the logs of revoked nodes (see the module docstring)."""
    if crl is None:
        return {}
    newest: dict[str, int] = {}
    for node, serial in certificates:
        newest[node] = max(newest.get(node, 0), serial)
    named: dict[str, int] = {}
    revoked_nodes: dict[str, set[int]] = {}
    for item in crl.revoked.values():
        revoked_nodes.setdefault(str(item.node), set()).add(item.serial)
        for through_log, seq in item.valid_through.items():
            named[str(through_log)] = min(seq, named.get(str(through_log), seq))
    limits: dict[str, int] = {}
    for log in logs:
        node = str(LogId.parse(log).node)
        if log in named:
            limits[log] = named[log]
        elif node in revoked_nodes and newest.get(node, 0) <= max(revoked_nodes[node]):
            limits[log] = 0
    return limits


def load_revocations(data_dir: Path) -> RevocationList | None:
    """The county node's revocation list (``keys/revocations.signed``), verified, if any."""
    path = key_dir(data_dir) / CRL_FILE
    root = load_certificate(data_dir, "root.cert")
    if not path.exists() or root is None:
        return None
    return decode_revocations(path.read_bytes(), root)
