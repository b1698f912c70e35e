# SPDX-License-Identifier: Apache-2.0
"""A rebuild on several processes gives the sequential rebuild's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from county_aggregator.merge import content_hash, merge_new, rebuild
from county_aggregator.parallel import WRITE_RATIO, partition
from county_aggregator.store import open_merged, set_meta
from tests.county_aggregator.scenario import county_db, scenario


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_rebuild_equals_sequential(seed: int, workers: int, tmp_path: Path) -> None:
    """Floating women on two cards and births recorded twice land in different workers'
    shares; the reconciliation must join them exactly as one process would."""
    county = county_db(tmp_path, scenario(seed).entries)
    sequential = open_merged(tmp_path / "seq.db")
    rebuild(county.db, sequential, chunk=9)
    parallel = open_merged(tmp_path / "par.db")
    stats = rebuild(county.db, parallel, chunk=9, workers=workers)
    assert stats.entries == len(scenario(seed).entries) + 1
    assert content_hash(sequential) == content_hash(parallel)


def test_merge_new_starts_over_after_an_unfinished_parallel_rebuild(tmp_path: Path) -> None:
    county = county_db(tmp_path, scenario(1).entries)
    clean = open_merged(tmp_path / "clean.db")
    rebuild(county.db, clean)
    cut = open_merged(tmp_path / "cut.db")
    rebuild(county.db, cut, workers=2)
    with cut.atomic():
        set_meta(cut, "rebuild", "parallel")  # as if cut off before reconciling
    assert merge_new(county.db, cut).rebuilt
    assert content_hash(clean) == content_hash(cut)


def test_in_memory_databases_rebuild_sequentially(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from county_aggregator.store import init_merged

    county = county_db(tmp_path, scenario(1).entries)
    db = init_merged(Database(memory=True))
    assert rebuild(county.db, db, workers=2).entries == len(scenario(1).entries) + 1


def test_partition_keeps_each_origin_whole_and_balances() -> None:
    logs = {f"village:44010400100{i}#1": 10 * i for i in range(1, 8)}
    logs["village:440104001001#2"] = 5
    shares = partition(logs, 3)
    assert 3 == len(shares)
    owners = [{log.split("#")[0] for log in share} for share in shares]
    assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1 :])
    assert sorted(logs) == sorted(log for share in shares for log in share)


def test_partition_staggers_shares_so_that_writes_do_not_queue() -> None:
    """SQLite writes one share at a time: each share is larger than the one before by
    about the time its predecessor spends writing."""
    logs = {f"village:440104001{i:03d}#1": 100 for i in range(1, 91)}
    sizes = [sum(share.values()) for share in partition(logs, 2)]
    assert sum(sizes) == 9000
    assert sizes[1] / sizes[0] == pytest.approx(1 + WRITE_RATIO, rel=0.05)
