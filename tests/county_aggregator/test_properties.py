# SPDX-License-Identifier: Apache-2.0
"""Merge is commutative and idempotent: any order, any duplicates, any batching, one hash.

design.md: "The county's merged store is a pure function of the set of verified logs:
rebuild it from the logs and you get the same bytes, whatever order the batches arrived
in." and "Apply is a guarded upsert: idempotent and commutative; re-applying a shuffled
copy gives the same state hash."
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from county_aggregator.merge import apply_entries, content_hash, rebuild
from county_aggregator.store import init_merged
from protocol import Entry
from tests.county_aggregator.scenario import COUNTY, county_db, scenario

SEEDS = (1, 2, 3)


def fresh() -> Database:
    return init_merged(Database(memory=True))


@functools.cache
def reference(seed: int) -> str:
    db = fresh()
    apply_entries(db, scenario(seed).entries, county=COUNTY)
    return content_hash(db)


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[int, list[list[Entry]]]:
    """A scenario, and its entries shuffled, partly duplicated and cut into batches."""
    seed = draw(st.sampled_from(SEEDS))
    entries = scenario(seed).entries
    order = draw(st.permutations(range(len(entries))))
    extra = draw(st.lists(st.integers(0, len(entries) - 1), max_size=len(entries) // 2))
    stream = [entries[i] for i in order]
    for i in extra:
        stream.insert(draw(st.integers(0, len(stream))), entries[i])
    batches, at = [], 0
    while at < len(stream):
        size = draw(st.integers(1, 40))
        batches.append(stream[at : at + size])
        at += size
    return seed, batches


def _check(seed: int, batches: list[list[Entry]]) -> None:
    db = fresh()
    for batch in batches:
        apply_entries(db, batch, county=COUNTY)
    assert reference(seed) == content_hash(db)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals())
def test_any_order_duplicates_and_batching_give_one_hash(
    case: tuple[int, list[list[Entry]]],
) -> None:
    _check(*case)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals())
def test_any_order_many_cases(case: tuple[int, list[list[Entry]]]) -> None:
    _check(*case)


@pytest.mark.parametrize("seed", SEEDS)
def test_reapplying_everything_changes_nothing(seed: int) -> None:
    db = fresh()
    apply_entries(db, scenario(seed).entries, county=COUNTY)
    apply_entries(db, list(reversed(scenario(seed).entries)), county=COUNTY)
    assert reference(seed) == content_hash(db)


@pytest.mark.parametrize("seed", SEEDS)
def test_rebuild_from_county_node_equals_apply(seed: int, tmp_path: Path) -> None:
    """rebuild() over received_entries (plus the county's own log) gives the same bytes as
    applying the same entries directly, with any chunk size."""
    county = county_db(tmp_path, scenario(seed).entries)
    own = list(county.entries())
    direct = fresh()
    apply_entries(direct, scenario(seed).entries + own, county=COUNTY)
    for chunk in (7, 50_000):
        db = fresh()
        rebuild(county.db, db, chunk=chunk)
        assert content_hash(direct) == content_hash(db)


def test_scenarios_exercise_every_rule() -> None:
    """The property test is only as good as its input: every conflict rule must occur."""
    rules = set()
    for seed in SEEDS:
        db = fresh()
        apply_entries(db, scenario(seed).entries, county=COUNTY)
        rules |= {r[0] for r in db.execute("SELECT DISTINCT rule FROM conflicts")}
        assert db.execute("SELECT count(*) FROM rejected").fetchone()[0] == 4
    assert {"concurrent", "same_event", "authority", "retire"} <= rules
