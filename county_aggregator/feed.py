# SPDX-License-Identifier: Apache-2.0
"""Feeding the county node's logs to an :class:`~county_aggregator.engine.Engine`.

What every merge run shares, the sequential one (merge.py) and the parallel rebuild
(parallel.py) alike: the :class:`Plan` of a run (which logs, how far, the revocation
limits on them) and :func:`merge_logs`, the loop that reads entries after the cursor
and applies them chunk by chunk. Here, below both, so that neither imports the other's
caller.

Revocations: entries of a revoked node's logs beyond ``valid_through`` are rejected.
The county node stores entries without the serial that signed them, so a log a
revocation does not name is judged by the node's newest certificate: rejected if that
one is revoked, kept if the node was enrolled again since. When the revocation list
changes, the next ``merge_new`` rebuilds, because entries merged earlier may now be
rejected.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlite_utils import Database

from county_aggregator import store
from county_aggregator.engine import Engine
from county_aggregator.local import dumps
from county_aggregator.store import EntryRow
from node.store.certs import Certs
from node.store.changelog import epoch_heads, own_rows
from node.store.holdings import Holdings
from node.store.store import stored_node
from protocol import LogId, NodeId, RevocationList

CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class MergeStats:
    """What one merge run did."""

    entries: int
    applied: int
    rejected: int
    rebuilt: bool


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
    own = stored_node(county_node_db)
    if county is None:
        if own is None:
            raise ValueError("the county code is unknown: pass county= or a county node's db")
        county = NodeId.parse(own).code
    logs = source_logs(county_node_db, own)
    limits = revocation_limits(revocations, Certs(county_node_db).serials(), logs)
    return Plan(own, county, logs, limits, fingerprint(limits))


def source_logs(county_node_db: Database, own: str | None) -> dict[str, int]:
    """Every log the county node holds (received and its own), with its last seq."""
    logs = Holdings(county_node_db).received_heads()
    if own is not None:
        for epoch, seq in epoch_heads(county_node_db).items():
            logs[f"{own}#{epoch}"] = seq
    return logs


def entries_after(
    county_node_db: Database, log: str, after: int, own: str | None, limit: int
) -> list[EntryRow]:
    """Up to ``limit`` entries of ``log`` after seq ``after``, in seq order."""
    if own is not None and log.rpartition("#")[0] == own:
        return own_rows(county_node_db, log, after, limit)
    return Holdings(county_node_db).received_rows(log, after, limit)


def begin(merged_db: Database, p: Plan, *, clear: bool, rebuild_mark: str = "") -> None:
    """Record what the run merges under (county, revocation fingerprint), one transaction.

    ``clear`` first deletes every merged row (a rebuild); ``rebuild_mark`` leaves
    ``meta.rebuild`` set until the caller removes it, so a run cut off before it ends
    makes the next merge start over.
    """
    with merged_db.atomic():
        if clear:
            store.clear(merged_db)
        store.set_meta(merged_db, "county", p.county)
        store.set_meta(merged_db, "revocations", p.fingerprint)
        if rebuild_mark:
            store.set_meta(merged_db, "rebuild", rebuild_mark)


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
            rows = entries_after(county_node_db, log, after, own, chunk - len(pending))
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


def fingerprint(limits: dict[str, int]) -> str:
    """A digest of revocation limits: when it changes, what was merged must be redone."""
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
