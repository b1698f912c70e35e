# SPDX-License-Identifier: Apache-2.0
"""Seeds that failed once, and each known bug pinned as a small hand-written scenario.

``test_regression_seed`` runs tests/sim/seeds.py's ``BUG_SEEDS`` (strict xfails until
the bug is fixed; then move the seed to ``REGRESSION_SEEDS``) and ``REGRESSION_SEEDS``.
The ``test_bug_*`` scenarios state the invariant the simulation found broken, in the
fewest steps that break it; each is a strict xfail naming the code at fault.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sim.invariants import KNOWN_BUGS, check_seed, final_violations, merged_hashes, report
from tests.sim.seeds import BUG_SEEDS, REGRESSION_SEEDS
from tests.sim.transport import Armed
from tests.sim.world import COUNTY, World

V1, T = "440104001001", "440104001"


@pytest.mark.seeds(sorted(BUG_SEEDS) + REGRESSION_SEEDS)
def test_regression_seed(seed: int, sim_root: Path) -> None:
    world, problems = check_seed(seed, sim_root)
    assert not problems, report(world, problems)


def _healed(w: World) -> list[str]:
    w.heal()
    return final_violations(w)


@pytest.mark.xfail(strict=True, reason=KNOWN_BUGS["A"])
def test_bug_a_relay_restored_from_a_backup_forwards_a_batch_the_county_cannot_take(
    sim_root: Path,
) -> None:
    w = World.scenario(sim_root, villages=[1], batch=5)
    try:
        v, t = w.node(V1), w.node(T)
        w.write(v, 2)
        w.sync(v)  # the township holds 1..3
        w.backup(t)
        w.write(v, 4)
        w.sync(v)  # 4..7
        w.sync(t)  # the county holds 1..7, acknowledged to the village
        w.restore(t)  # back to 1..3
        w.write(v, 2)
        w.sync(v)  # 4..8 and 9, in other boundaries than the county got them
        w.sync(t)
        assert "bad_chain" not in t.last, t.last  # "refused ... 4..8: bad_chain"
        assert _healed(w) == []
    finally:
        w.close()


@pytest.mark.xfail(strict=True, reason=KNOWN_BUGS["B"])
@pytest.mark.parametrize("fault", ["client_crash_after", "duplicate"])
def test_bug_b_county_ack_of_a_forwarded_batch_is_never_passed_down(
    sim_root: Path, fault: str
) -> None:
    """The township dies right after the county committed its forward (or the answer it
    sees is the 401 replay of a duplicated request); its next round finds the county's
    head covering the envelope and never hands the county's ack to the village."""
    w = World.scenario(sim_root, villages=[1])
    try:
        v, t = w.node(V1), w.node(T)
        w.sync(t)  # the township's own log is up: its next POST is the forward
        w.write(v, 3)
        w.sync(v)
        w.network.armed.append(Armed(T, "/envelopes", fault))
        w.sync(t)
        assert t.last.startswith(("crashed", "failed replay")), t.last
        problems = _healed(w)
        assert problems == [], problems  # F5: the village's county ack stays at None
    finally:
        w.close()


@pytest.mark.xfail(strict=True, reason=KNOWN_BUGS["C"])
def test_bug_c_a_kept_client_never_introduces_a_certificate_the_county_lost(
    sim_root: Path,
) -> None:
    w = World.scenario(sim_root, villages=[1], reuse_clients=True)
    try:
        v, t, c = w.node(V1), w.node(T), w.node(COUNTY)
        w.backup(c)  # before it knew the village's certificate
        w.write(v, 2)
        w.sync(v)
        w.sync(t)
        w.restore(c)
        for _ in range(3):
            w.write(v, 1)
            w.sync(v)
            w.sync(t)  # "refused village:…#1 1..3: bad_certificate", every round
        held = (
            w.db(COUNTY)
            .execute("SELECT COUNT(*) FROM received_entries WHERE log = ?", [v.log])
            .fetchone()[0]
        )
        assert held == 6, t.last
    finally:
        w.close()


@pytest.mark.xfail(strict=True, reason=KNOWN_BUGS["D"])
def test_bug_d_merged_db_keeps_entries_the_restored_county_node_lost(sim_root: Path) -> None:
    w = World.scenario(sim_root, villages=[1])
    try:
        v, t, c = w.node(V1), w.node(T), w.node(COUNTY)
        w.backup(c)
        w.write(v, 3)
        w.sync(v)
        w.sync(t)
        w.merge()  # the merged db holds the village's 4 entries
        w.restore(c)  # the county node holds none of them now
        w.merge()
        hashes = merged_hashes(w)
        assert hashes["incremental"] == hashes["rebuild"]
    finally:
        w.close()


@pytest.mark.xfail(strict=True, reason=KNOWN_BUGS["E"])
def test_bug_e_relay_restored_from_a_backup_numbers_the_outbox_below_the_cursor(
    sim_root: Path,
) -> None:
    """One entry per batch, so bug A cannot interfere: the village pulled 4 outbox items
    before the township went back to an empty outbox; the new ack is item 1."""
    w = World.scenario(sim_root, villages=[1], batch=1)
    try:
        v, t = w.node(V1), w.node(T)
        w.sync(t)
        w.backup(t)
        for _ in range(3):
            w.write(v, 1)
            w.sync(v)
            w.sync(t)
            w.sync(v)
        w.restore(t)
        w.write(v, 1)
        problems = _healed(w)
        assert problems == [], problems  # F1 (never idle) and F5 (ack through 4 of 5)
    finally:
        w.close()


@pytest.mark.xfail(
    strict=True,
    reason=(
        "BUG F (tests/sim): the simulation's invariants still assume one log per node; "
        "a restored township now opens a new epoch (node/sync/client.py _open_new_epoch), "
        "and the checks must learn to follow a node across epochs and remember what a "
        "lost copy wrote"
    ),
)
def test_bug_f_a_restored_township_that_writes_again_forks_its_own_log(
    sim_root: Path,
) -> None:
    """Fixed: a store the parent knows to be behind, whose every entry the parent has
    acknowledged, opens a new epoch at its next sync (node/sync/client.py
    _open_new_epoch); what it writes after goes into the new log and reaches the county."""
    w = World.scenario(sim_root, villages=[1], town_writes=True)
    try:
        t = w.node(T)
        w.write(t, 2)
        w.sync(t)
        w.backup(t)
        w.write(t, 2)
        w.sync(t)  # the county holds the township's log 1..5
        w.restore(t)  # 1..3
        w.sync(t)
        assert not t.last.startswith("failed"), t.last
        assert t.store.changelog.log.epoch == 2
        w.write(t, 3)  # 4..6, other entries than the county's 4..5
        problems = _healed(w)
        assert problems == [], problems
    finally:
        w.close()
