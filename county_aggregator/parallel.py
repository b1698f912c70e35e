# SPDX-License-Identifier: Apache-2.0
"""A rebuild on several cores: the logs split by origin, one process each, then reconciled.

Why this is exact: everything a merged row depends on stays inside one origin (a
record's refs name records of its own node; a person's key is her own card's ID number),
except the two things identity resolution joins across origins: a person on the cards
of two villages, and one birth recorded by two places. So each worker merges its share
of the origins into the same database, as if it were alone (a ``complete`` engine that
never reads back), and afterwards one engine re-derives every key with more than one
record, every key whose row a worker removed, and every same-event group of more than
one birth, from all of their records. The result is the sequential rebuild's, byte for
byte (tests/county_aggregator/test_parallel.py holds them equal).

SQLite takes one writer at a time; a worker decodes and derives its whole share first
and then writes it in one transaction, in key order (``merge_logs(defer=True)``), so
the lock is held only for that final write. Until the reconciliation commits, the
database carries ``meta.rebuild``, and a later ``merge_new`` starts over rather than
build on half-reconciled rows.

Workers are forked (Linux); where fork is missing, or a database is in memory,
:func:`rebuild_parallel` returns None and the caller rebuilds sequentially.
"""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

from sqlite_utils import Database

from county_aggregator import store
from county_aggregator.engine import Engine
from county_aggregator.merge import MergeStats, gc_paused, merge_logs, plan
from protocol import LogId, RevocationList

_KEEP: list[Any] = []
"""A worker's engine, kept so that the process exits without freeing it object by object."""


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
    with merged_db.atomic():
        store.clear(merged_db)
        store.set_meta(merged_db, "county", p.county)
        store.set_meta(merged_db, "revocations", p.fingerprint)
        store.set_meta(merged_db, "rebuild", "parallel")
    shares = partition(p.logs, workers)
    results = _run(
        [(node_path, merged_path, p.own, p.county, p.limits, share, chunk) for share in shares]
    )
    engine = Engine(merged_db, p.county, limits=p.limits, complete=False)
    with gc_paused(), merged_db.atomic():
        engine.refresh(store.keys_to_reconcile(merged_db), store.sigs_to_reconcile(merged_db))
        engine.flush()
        store.drop_orphans(merged_db)
        merged_db.execute("DELETE FROM meta WHERE key = 'rebuild'")
    return MergeStats(
        sum(r[0] for r in results), sum(r[1] for r in results), sum(r[2] for r in results), True
    )


def partition(logs: dict[str, int], workers: int) -> list[dict[str, int]]:
    """Split the logs into up to ``workers`` shares of about equal size, by origin node."""
    by_origin: dict[str, dict[str, int]] = {}
    for log, last in logs.items():
        by_origin.setdefault(str(LogId.parse(log).node), {})[log] = last
    shares: list[dict[str, int]] = [{} for _ in range(max(1, min(workers, len(by_origin))))]
    sizes = [0] * len(shares)
    for _origin, own in sorted(by_origin.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        i = sizes.index(min(sizes))
        shares[i].update(own)
        sizes[i] += sum(own.values())
    return [s for s in shares if s]


def _run(jobs: list[tuple[Any, ...]]) -> list[tuple[int, int, int]]:
    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[Any] = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(results, *job), daemon=True) for job in jobs]
    for proc in procs:
        proc.start()
    out: list[tuple[int, int, int]] = []
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
            out.append(item[1:])
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
    try:
        node_db = Database(node_path)
        merged_db = store.open_merged(merged_path)
        merged_db.execute("PRAGMA busy_timeout = 600000")
        engine = Engine(merged_db, county, limits=limits, complete=True)
        with gc_paused():
            # Deferred: each worker writes its share once, in key order, at the end (see
            # merge_logs); the meta.rebuild mark already makes a cut-off run start over.
            total = merge_logs(node_db, merged_db, engine, logs, own, chunk, defer=True)
        merged_db.close()
        results.put(("ok", total, engine.applied, engine.rejected))
        _KEEP.append(engine)
    except BaseException as exc:  # reported to the parent, which raises
        results.put(("error", repr(exc)))
