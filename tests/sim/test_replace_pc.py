# SPDX-License-Identifier: Apache-2.0
"""A village PC dies with its data dir and a replacement PC recovers the village from
upstream (issue 12 item 7, tests/sim/replace_pc.py), as hand-written scenarios: the
recovered cards are the village's (R1), what the dead PC wrote that nobody took died
with it, what was acknowledged reaches the county (F2, F3), and what the officer typed
on the new PC before recovering reaches it too, under new ids (H1, P1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sim import replace_pc
from tests.sim.invariants import final_violations, report
from tests.sim.world import COUNTY, World

V1, V2, T = "440104001001", "440104001002", "440104001"


def _replaced(root: Path, typed: int) -> World:
    """V1 writes and its cards reach the county; it writes two more changes nobody
    takes; its PC dies; a new PC is enrolled, ``typed`` changes are typed on it, and
    its officer runs ``renkou node recover`` until the cards come (the township hands
    the request up and the snapshot down in between); then the officer writes on."""
    w = World.scenario(root, villages=[2], replace_pcs=True)
    v = w.node(V1)
    w.write(v, 4)
    w.write(w.node(V2), 2)
    w.sync(v)
    w.sync(w.node(V2))
    w.sync(w.node(T))
    w.write(v, 2)  # never sent: dies with the PC
    replace_pc.replace(w, v, typed)
    assert V1 in w.replacing
    w.sync(v)  # the officer asks; the cards have not come
    w.sync(w.node(T))  # the request goes up, the snapshot comes down
    w.sync(v)  # the officer takes them
    assert V1 not in w.replacing and w.events["recovered"] == 1
    w.write(v, 3)
    w.sync(v)
    w.sync(w.node(T))
    return w


def _healed(w: World) -> list[str]:
    w.heal()
    return final_violations(w)


@pytest.mark.parametrize("typed", [0, 1])
def test_a_replacement_pc_recovers_the_village_and_writes_on(sim_root: Path, typed: int) -> None:
    w = _replaced(sim_root, typed)
    try:
        (done,) = w.recoveries
        assert done.event.dropped_install == (typed == 0)
        assert done.event.rewritten == typed
        assert done.cards and done.cards == done.want
        problems = _healed(w)
        assert problems == [], report(w, problems)
        held = w.db(COUNTY).execute(
            "SELECT COUNT(*) FROM received_entries WHERE log = ?", [f"village:{V1}#2"]
        )
        assert held.fetchone()[0] == 1 + typed + 3  # the epoch start, typed again, written on
    finally:
        w.close()


def test_cards_typed_past_the_countys_head_do_not_keep_the_new_pc_from_going_idle(
    sim_root: Path,
) -> None:
    """Seeds 5001, 5008, 5010 (bug I, fixed): the officer typed on the new PC at least
    as many changes as the county holds of the dead PC's log. The recovery writes them
    again in the new epoch and drops them from the old log (node/store/changelog.py
    forget_after): kept there, they were a closed epoch cut at the county's head seq
    with another hash than the county's, the state digest never matched the parent's
    (never idle), and a township that lost the log took that other history."""
    w = _replaced(sim_root, 6)
    try:
        problems = _healed(w)
        assert problems == [], report(w, problems)
    finally:
        w.close()
