# SPDX-License-Identifier: Apache-2.0
"""A rebuild on several cores: the logs split by origin, one process each, then reconciled.

Why this is exact: everything a merged row depends on stays inside one origin (a
record's refs name records of its own node; a person's key is her own card's ID number),
except the two things identity resolution joins across origins: a person on the cards
of two villages, and one birth recorded by two places. So each worker merges its share
of the origins into the same database, as if it were alone (a ``complete`` engine that
never reads back), and afterwards one engine re-derives, from all of their records,
every merged key and every same-event group that records of more than one worker belong
to (each worker reports its keys and signatures), and every key whose row a worker
removed. Re-deriving them re-keys what moved and deletes the rows of keys left without
records, as the sequential merge does. The result is the sequential rebuild's, byte for
byte (tests/county_aggregator/test_parallel.py holds them equal).

SQLite takes one writer at a time; a worker decodes and derives its whole share first
(``merge_logs(defer=True)``, then ``Engine.chunks``) and then writes it in one
transaction, in key order, so the lock is held only for that final write. Until the
reconciliation commits, the database carries ``meta.rebuild``, and a later
``merge_new`` starts over rather than build on half-reconciled rows.

Workers are forked (Linux); where fork is missing, or a database is in memory,
:func:`rebuild_parallel` returns None and the caller rebuilds sequentially.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
from typing import Any, NamedTuple

from sqlite_utils import Database

from county_aggregator import store
from county_aggregator.engine import Engine, KindKey
from county_aggregator.feed import MergeStats, begin, gc_paused, merge_logs, plan
from node.store.database import reopen
from protocol import LogId, RevocationList

WRITE_RATIO = 0.25
"""About how long a worker takes to write its share, against deriving it (see
:func:`partition`)."""

_KEEP: list[Any] = []
"""A worker's engine and rows, kept so that the process exits without freeing them
object by object (the parent waits for it)."""


def rebuild_parallel(
    county_node_db: Database,
    merged_db: Database,
    *,
    revocations: RevocationList | None,
    county: str | None,
    chunk: int,
    workers: int,
) -> MergeStats | None:
    """Rebuild with ``workers`` processes; None if this cannot run here (see module)."""
    node_path, merged_path = store.database_file(county_node_db), store.database_file(merged_db)
    if (
        node_path is None
        or merged_path is None
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return None
    p = plan(county_node_db, revocations, county)
    begin(merged_db, p, clear=True, rebuild_mark="parallel")
    shares = partition(p.logs, workers)
    results = _run(
        [(node_path, merged_path, p.own, p.county, p.limits, share, chunk) for share in shares]
    )
    keys = _shared([r.keys for r in results]) | {kk for r in results for kk in r.removed}
    sigs = _shared([r.sigs for r in results])
    engine = Engine(merged_db, p.county, limits=p.limits, complete=False)
    with gc_paused(), merged_db.atomic():
        engine.refresh(sorted(keys), sorted(sigs))
        engine.flush()
        store.delete_meta(merged_db, "rebuild")
    return MergeStats(
        sum(r.entries for r in results),
        sum(r.applied for r in results),
        sum(r.rejected for r in results),
        True,
    )


class Share(NamedTuple):
    """What a worker reports of its share: counts, and what the reconciliation needs."""

    entries: int
    applied: int
    rejected: int
    keys: list[KindKey]
    """Every merged key its records belong to."""
    sigs: list[str]
    """Every same-event signature its records have."""
    removed: list[KindKey]
    """Merged keys whose rows it deleted (a key of another share's records, possibly)."""


def _shared(parts: list[list[Any]]) -> set[Any]:
    """What more than one of ``parts`` holds."""
    seen: set[Any] = set()
    shared: set[Any] = set()
    for part in parts:
        shared.update(seen.intersection(part))
        seen.update(part)
    return shared


def partition(logs: dict[str, int], workers: int) -> list[dict[str, int]]:
    """Split the logs into up to ``workers`` shares by origin node, staggered in size.

    SQLite takes one writer at a time. Shares of equal size finish deriving together,
    and then all but one worker wait in line with their cores idle; so each share is
    larger than the one before by :data:`WRITE_RATIO`, and each worker finishes deriving
    about when the one before it finishes writing.
    """
    by_origin: dict[str, dict[str, int]] = {}
    for log, last in logs.items():
        by_origin.setdefault(str(LogId.parse(log).node), {})[log] = last
    n = max(1, min(workers, len(by_origin)))
    shares: list[dict[str, int]] = [{} for _ in range(n)]
    sizes = [0] * n
    weights = [(1 + WRITE_RATIO) ** i for i in range(n)]
    for _origin, own in sorted(by_origin.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        i = min(range(n), key=lambda j: sizes[j] / weights[j])
        shares[i].update(own)
        sizes[i] += sum(own.values())
    return [s for s in shares if s]


def _run(jobs: list[tuple[Any, ...]]) -> list[Share]:
    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[Any] = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(results, *job), daemon=True) for job in jobs]
    for proc in procs:
        proc.start()
    out: list[Share] = []
    try:
        while len(out) < len(procs):
            try:
                item = results.get(timeout=1)
            except queue.Empty:
                if any(proc.exitcode not in (None, 0) for proc in procs):
                    raise RuntimeError("a merge worker died") from None
                continue
            if item[0] != "ok":
                raise RuntimeError(f"a merge worker failed: {item[1]}")
            out.append(item[1])
    finally:
        for proc in procs:
            if out and len(out) == len(procs):
                proc.join()
            else:
                proc.kill()
                proc.join()
    return out


def _worker(
    results: Any,
    node_path: str,
    merged_path: str,
    own: str | None,
    county: str,
    limits: dict[str, int],
    logs: dict[str, int],
    chunk: int,
) -> None:
    # The worker exits when done: the cyclic collector would only walk its share's
    # objects (which form no cycles, see merge.gc_paused) on the way out.
    gc.disable()
    try:
        node_db = reopen(node_path)  # the county node's file, under the key it was opened with
        merged_db = store.open_merged(merged_path, busy_timeout_ms=600_000)
        engine = Engine(merged_db, county, limits=limits, complete=True)
        # Deferred: each worker writes its share once, in key order, at the end (see
        # merge_logs); the meta.rebuild mark already makes a cut-off run start over.
        total = merge_logs(node_db, merged_db, engine, logs, own, chunk, defer=True)
        # Derived in full before the write lock is taken: a worker that derived while
        # holding it kept the other waiting with its CPU idle.
        chunks = list(engine.chunks())
        with merged_db.atomic():
            engine.write(chunks)
        merged_db.close()
        removed = [kk for c in chunks for kk in c.merged_deletes]
        share = Share(
            total, engine.applied, engine.rejected, engine.held_keys(), engine.held_sigs(), removed
        )
        results.put(("ok", share))
        _KEEP.append((engine, chunks))
    except BaseException as exc:  # reported to the parent, which raises
        results.put(("error", repr(exc)))
