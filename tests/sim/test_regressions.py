# SPDX-License-Identifier: Apache-2.0
"""Seeds that failed once, and each known bug pinned as a small hand-written scenario.

``test_regression_seed`` runs tests/sim/seeds.py's ``BUG_SEEDS`` (strict xfails until
the bug is fixed; then move the seed to ``REGRESSION_SEEDS``) and ``REGRESSION_SEEDS``,
those that ``test_seed`` does not run already (outside ``CI_SEEDS``).
The ``test_bug_*`` scenarios state the invariant the simulation found broken, in the
fewest steps that break it; each is a strict xfail naming the code at fault until the
bug is fixed, and then stays as a regression test saying what fixed it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from node.store.holdings import Holdings
from node.store.outbox import Outbox
from protocol import LogId
from tests.sim.invariants import (
    alert_violations,
    check_seed,
    final_violations,
    merged_hashes,
    report,
)
from tests.sim.seeds import BUG_SEEDS, CI_SEEDS, REGRESSION_SEEDS
from tests.sim.transport import Armed
from tests.sim.world import COUNTY, DAY, World

V1, V2, T = "440104001001", "440104001002", "440104001"


@pytest.mark.seeds(sorted((set(BUG_SEEDS) | set(REGRESSION_SEEDS)) - set(CI_SEEDS)))
def test_regression_seed(seed: int, sim_root: Path) -> None:
    world, problems = check_seed(seed, sim_root)
    assert not problems, report(world, problems)


def _healed(w: World) -> list[str]:
    w.heal()
    return final_violations(w)


def test_bug_a_relay_restored_from_a_backup_forwards_a_batch_the_county_cannot_take(
    sim_root: Path,
) -> None:
    """Fixed: the county takes a batch that overlaps its head when the entries it holds
    match (SPEC.md §9.2, node/sync/receive.py _beyond_held) and stores the rest."""
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


@pytest.mark.parametrize("fault", ["client_crash_after", "duplicate"])
def test_bug_b_county_ack_of_a_forwarded_batch_is_never_passed_down(
    sim_root: Path, fault: str
) -> None:
    """The township dies right after the county committed its forward (or the answer it
    sees is the 401 replay of a duplicated request); its next round found the county's
    head covering the envelope and never handed the county's ack to the village.

    Fixed: a relay holding entries the parent has not acknowledged to it asks for the
    full state and sends the covered envelope again, for a fresh ack to pass down
    (client._ask_ack); a 401 replay is retried with a fresh counter (client.call)."""
    w = World.scenario(sim_root, villages=[1])
    try:
        v, t = w.node(V1), w.node(T)
        w.sync(t)  # the township's own log is up: its next POST is the forward
        w.write(v, 3)
        w.sync(v)
        w.network.armed.append(Armed(T, "/envelopes", fault))
        w.sync(t)
        want = "crashed" if fault == "client_crash_after" else "pushed=0 fwd=1"
        assert t.last.startswith(want), t.last  # a replay is retried, not a failure
        problems = _healed(w)
        assert problems == [], problems  # F5: the village's county ack stays at None
    finally:
        w.close()


def test_bug_c_a_kept_client_never_introduces_a_certificate_the_county_lost(
    sim_root: Path,
) -> None:
    """Fixed: a client introduces certificates again every round, and once more when
    the parent refuses a forward with bad_certificate (node/sync/client.py)."""
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


def test_bug_e_relay_restored_from_a_backup_numbers_the_outbox_below_the_cursor(
    sim_root: Path,
) -> None:
    """One entry per batch, so bug A cannot interfere: the village pulled 4 outbox items
    before the township went back to an empty outbox; the new ack is item 1.

    Fixed: the parent's state names its outbox item at the child's cursor (its mark);
    a child whose cursor is beyond the outbox, or whose last item is not that one,
    reads the outbox again from the start (client._reset_inbox_if_renumbered)."""
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


def test_bug_e_outbox_regrown_to_the_cursor_is_read_again(sim_root: Path) -> None:
    """The restored township's outbox grows back to the village's cursor before the
    village syncs again: the sizes agree, the items differ; the village must notice."""
    w = World.scenario(sim_root, villages=[1], batch=1)
    try:
        v, t = w.node(V1), w.node(T)
        w.sync(t)
        w.write(v, 1)
        w.sync(v)  # the township holds the village's 1..2
        w.backup(t)
        w.sync(t)  # item 1: the county's ack through 2
        w.sync(v)  # the village has read item 1
        w.write(v, 1)
        w.sync(v)
        w.sync(t)  # item 2: the county's ack through 3, not read yet
        w.restore(t)  # the village's 1..2, an empty outbox, no county ack kept
        w.sync(t)  # asks the county for its ack again: item 1 is now the ack through 3
        assert Outbox(t.store.db).last(str(v.node_id)) == 1
        w.sync(v)
        assert "renumbered" in " ".join(v.client.report.notes), v.client.report
        problems = _healed(w)
        assert problems == [], problems
    finally:
        w.close()


def test_bug_g_a_revoked_log_the_restored_relay_lost_keeps_the_round_idle(
    sim_root: Path,
) -> None:
    """A township restored from a backup lost a revoked village's log, which the county
    holds and which nobody can send the township again: the state digests differed for
    ever, so every round cost the full state exchange.

    Fixed: a revoked log counts in the relay's digest at the parent's last reported
    head once the parent holds all of it it will take (revoked.revoked_wanted)."""
    w = World.scenario(sim_root, villages=[2])
    try:
        v, t = w.node(V1), w.node(T)
        w.sync(t)
        w.backup(t)  # before the village's log reached it
        w.write(v, 3)
        w.sync(v)
        w.sync(t)  # the county holds 1..4
        w.revoke(v)  # valid through 4
        w.restore(t)
        problems = _healed(w)
        assert problems == [], problems
        w.sync(t)
        assert t.last == "idle", t.last
        w.write(w.node(V2), 2)  # the other village goes on
        w.sync(w.node(V2))
        w.sync(t)
        assert "fwd=1" in t.last, t.last
        w.sync(t)
        assert t.last == "idle", t.last
    finally:
        w.close()


def test_a_county_restored_before_it_knew_a_revoked_village_takes_its_valid_entries(
    sim_root: Path,
) -> None:
    """Seed 1168: the county is restored from a backup older than a village's
    certificate, then the village is revoked through what the county held. The county
    refused to be introduced to the revoked certificate, so it could never take the
    entries that are still valid (F2, F3). Fixed: /certs keeps a revoked certificate
    (Trust.check revoked_ok); each batch is judged against valid_through."""
    w = World.scenario(sim_root, villages=[2])
    try:
        v, t, c = w.node(V1), w.node(T), w.node(COUNTY)
        w.backup(c)
        w.write(v, 3)
        w.sync(v)
        w.sync(t)  # the county holds 1..4
        w.revoke(v)  # valid through 4
        w.write(v, 2)
        w.restore(c)
        problems = _healed(w)
        assert problems == [], problems
        held = w.db(COUNTY).execute("SELECT MAX(seq) FROM received_entries WHERE log = ?", [v.log])
        assert held.fetchone()[0] == 4
    finally:
        w.close()


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


def test_bug_h_a_dead_pcs_entries_the_township_held_past_their_expiry_are_lost(
    sim_root: Path,
) -> None:
    """Found by the village restores of issue 12 (seed 615): a township acknowledges a
    village's batch, cannot reach the county for more than the batch's 7 days, and
    meanwhile the village PC dies and is restored from a backup older than the batch.
    The township, finding its copy expired (SPEC §6.5: never handed on as fresh), drops
    it and takes its head back so that the child sends the range again; the restored PC
    does not hold it. Acknowledged entries are lost (F3), and nothing alerts anyone.

    Fixed: a relay never drops a copy the county has not acknowledged; it hands it back
    to its origin through the outbox (node/sync/relay.py _lost), and the origin, which
    no longer holds those entries, checks the batch is its own and sends it again as it
    signed it, under a fresh hop (node/sync/returned.py; SPEC §6.5)."""
    w = World.scenario(sim_root, villages=[1], village_restore=True)
    try:
        v, t = w.node(V1), w.node(T)
        w.write(v, 2)
        w.sync(v)
        w.sync(t)
        w.backup(v)
        w.write(v, 3)
        w.sync(v)  # the township acknowledged them; the county has not got them
        w.time.advance(8 * DAY)
        w.restore(v)
        problems = _healed(w)
        assert not problems, report(w, problems)
    finally:
        w.close()


def test_a_restored_township_whose_copy_expired_gets_the_county_ack_again(
    sim_root: Path,
) -> None:
    """Seed 1466 (found before the sim drew withholding townships for it; replay it with
    tests/sim/world.py WITHHOLDING_FROM raised): a township forwards a village's batch,
    the county acknowledges it, and the township is put back from a backup taken before
    the forward, so it holds the batch but not the county's acknowledgement. It asks
    for it again by resending its copy (client._ask_ack), but the copy expired while the
    township was down, and a relay never hands on an expired copy (SPEC §6.5): it asked
    the full state every round for ever (F1) and the village never got the county's
    acknowledgement (F5).

    Fixed: the township hands the expired copy back to the village (node/sync/relay.py
    _ask_ack), which sends it again fresh (node/sync/returned.py); the township takes the
    fresh copy in place of its own (a duplicate of a copy handed back: receive.py) and
    gets the county's acknowledgement with it."""
    w = World.scenario(sim_root, villages=[1])
    try:
        v, t = w.node(V1), w.node(T)
        w.sync(t)  # the township's own log is up
        w.write(v, 2)
        w.sync(v)  # the township holds the village's 1..3
        w.backup(t)
        w.sync(t)  # the county holds 1..3; its ack waits in the village's outbox
        w.restore(t)  # the township holds 1..3 again, without the county's ack
        w.time.advance(8 * DAY)  # past the village's 7 days
        w.sync(t)  # its copy expired: handed back to the village for a fresh one
        log = str(v.log)
        assert [r[1:3] for r in Holdings(w.db(T)).returned_ranges()] == [(1, 3)]
        assert len(Outbox(w.db(T)).items(f"village:{V1}")) == 1
        w.sync(v)  # takes it back
        w.sync(v)  # sends it fresh: the township keeps the fresh copy in place of its own
        assert Holdings(w.db(T)).returned_ranges() == []
        assert Holdings(w.db(T)).head(LogId.parse(log)) is not None
        problems = _healed(w)
        assert problems == [], report(w, problems)
    finally:
        w.close()


def test_an_epoch_both_its_holders_lost_to_restores_is_not_owed(sim_root: Path) -> None:
    """Seed 1521: a township PC restored from a backup opens epoch 2 and sends its first
    entry to the county; then the county, and the township PC again, are put back from
    backups older than epoch 2. A township's own log goes straight to the county, so
    nobody holds epoch 2 any more, and nothing could bring it back: the invariants
    counted it owed (F3, F7) because the county had acknowledged it to the lost PC.

    Decided: not a loss to fix but one the invariants accept (must_reach, _honoured):
    an acknowledgement binds its peer only while the peer has not itself lost the
    entries to a restore from an older backup. Both holders lost it legitimately
    (SPEC §6.3.2: a county put back from a backup gets back only what someone still
    holds); a peer that drops entries by itself still owes them (test_bug_h)."""
    w = World.scenario(sim_root, villages=[1], town_writes=True)
    try:
        t, c = w.node(T), w.node(COUNTY)
        w.sync(t)
        w.backup(t)
        w.backup(c)
        w.restore(t)  # epoch 2
        w.sync(t)  # the county holds township #2 1..1 and acknowledged it
        epoch2 = t.log
        w.restore(c)  # back before epoch 2
        w.restore(t)  # back before epoch 2: epoch 3
        problems = _healed(w)
        assert problems == [], report(w, problems)
        held = w.db(COUNTY).execute("SELECT COUNT(*) FROM frontier WHERE log = ?", [epoch2])
        assert held.fetchone()[0] == 0  # lost to both restores: nobody holds it
        assert t.store is not None and t.store.changelog.log.epoch == 3
    finally:
        w.close()


def _hand_copied(sim_root: Path) -> World:
    """Issue 12's first bug, in the simulation: the village PC's database is copied back
    by hand from an older copy, and the copy writes on in the log the lost period had
    continued (two changes; a new card there gets an id the lost period gave another
    woman)."""
    w = World.scenario(sim_root, villages=[1], hand_copies=True)
    v = w.node(V1)
    w.write(v, 1)
    w.sync(v)
    w.backup(v)
    w.write(v, 3)
    w.sync(v)  # the township holds the lost period's cards, and acknowledged them
    w.copy_back(v)
    w.write(v, 2)
    return w


def test_a_pc_copied_back_by_hand_is_refused_and_its_officer_mends_it(sim_root: Path) -> None:
    """The fork is refused and recorded, the officer runs the new-epoch the status asks
    for, and every entry the copy wrote reaches the county (H1), none merged onto
    another woman's card (P1)."""
    w = _hand_copied(sim_root)
    try:
        problems = _healed(w)
        assert problems == [], report(w, problems)
        assert w.events["copy_back"] == 1 and w.events["new_epoch_by_officer"] == 1
        v = w.node(V1)
        assert v.store is not None and v.store.changelog.log.epoch == 2
    finally:
        w.close()


def test_an_epoch_the_officer_opened_on_a_copy_thrown_away_is_opened_again(
    sim_root: Path,
) -> None:
    """Seed 1864: the officer of a PC copied back by hand runs the new-epoch the fork's
    refusal asks for (epoch 2), and before anything of epoch 2 is sent the database is
    copied back by hand again; the next new-epoch opens epoch 2 again (nobody ever saw
    the first). The checker crashed (IndexError): it took the first epoch 2 the ledger
    recorded as the one owed, found the county holding the other, and had nothing left
    to compare the township's frontier with.

    Decided: the product is right (an epoch nobody received may be opened again, SPEC
    §3.5: only a log the parent holds must not be reused); the invariants count, at a
    seq where a died copy wrote another entry, the one the county holds (_written), and
    what peers had acknowledged to a store thrown away must still be at the county with
    the hash acknowledged (F2, _binding)."""
    w = _hand_copied(sim_root)
    try:
        v = w.node(V1)
        w.sync(v)  # refused: the officer opens epoch 2 and writes the two changes again
        assert v.log.endswith("#2") and w.events["new_epoch_by_officer"] == 1, w.trace
        w.copy_back(v)  # the same old copy, by hand, again: epoch 2 died unsent
        w.write(v, 1)
        problems = _healed(w)
        assert problems == [], report(w, problems)
        assert w.events["new_epoch_by_officer"] == 2, w.trace
        assert v.log.endswith("#2")  # opened again
        assert len(w.ledger.logs[v.log][1]) == 2  # two different first entries
    finally:
        w.close()


def _restored_over_a_hand_copy(sim_root: Path) -> World:
    """Seed 1669: a village PC restored from a backup (epoch 2) writes, and the township
    acknowledges epoch 2; then the database of before epoch 2 is copied back by hand,
    and before it syncs the PC is restored again. Nothing left on the PC knows of epoch
    2 (node/store/backup.py _epoch_of reads the replaced database: the hand copy, which
    never heard of it), so the restore opens epoch 2 again, and writes in it."""
    w = World.scenario(sim_root, villages=[1], village_restore=True, hand_copies=True)
    v = w.node(V1)
    w.write(v, 1)
    w.sync(v)
    w.backup(v)
    w.restore(v)  # epoch 2
    w.write(v, 3)
    w.sync(v)  # the township acknowledges epoch 2 through 4
    w.copy_back(v)
    w.time.advance(DAY)
    w.restore(v)  # epoch 2 again
    w.write(v, 2)
    return w


def test_a_restore_that_opens_an_epoch_again_is_refused_and_mended(sim_root: Path) -> None:
    """The township holds the other epoch 2: sync refuses (``behind_parent``) and the
    status tells the officer to run new-epoch, which carries what was written into
    epoch 3. The county's acknowledgement lagging the township's for the lost epoch 2 is
    no alert of this PC's: those acknowledgements went with the store the restore threw
    away (A1 judged the world's record of them, which kept them: seed 1669)."""
    w = _restored_over_a_hand_copy(sim_root)
    try:
        v = w.node(V1)
        assert w.events["restore_reopened_epoch"] == 1, w.trace
        w.time.advance(4 * DAY)
        assert alert_violations(w) == []
        w.sync(v)
        assert v.last.startswith("failed behind_parent"), v.last
        problems = _healed(w)
        assert problems == [], report(w, problems)
        assert w.events["new_epoch_by_officer"] == 1, w.trace
        assert v.log.endswith("#3")
    finally:
        w.close()


def test_a_copy_put_back_after_an_older_one_keeps_the_date_of_its_township_ack(
    sim_root: Path,
) -> None:
    """Seed 2516: a village PC's database is copied back by hand from a copy older than
    the township's acknowledgement, then from a later copy that holds it (the county
    never acknowledged: its township does not sync). Four days after that ack the
    delivery alert of the PC is right; A1 had forgotten when the ack came (the first
    copy emptied the sim's record of it, and the second could only filter what was
    left), and called the alert false. A put-back store's marks are those of its backup."""
    w = World.scenario(sim_root, villages=[1], hand_copies=True)
    try:
        v = w.node(V1)
        w.write(v, 2)
        w.backup(v)  # no acknowledgement yet
        w.sync(v)  # the township acknowledges 1..2
        w.backup(v)
        old, held = w.backups[V1]
        w.backups[V1] = [old]
        w.copy_back(v)
        w.backups[V1] = [held]
        w.copy_back(v)
        w.time.advance(4 * DAY)
        w.observe()
        assert alert_violations(w) == []
        assert w.events["alert_county_lag"] == 1, w.trace
        problems = _healed(w)
        assert problems == [], report(w, problems)
    finally:
        w.close()


def test_the_simulation_never_asks_a_name_server(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request of a simulated node goes through the simulated network. The
    hourly certificate renewal check (node/keys/renewal.py) used to call requests.get
    itself, so each simulated round asked the machine's name server for "<code>.sim":
    the CI seeds and the slow run waited on it (seconds a lookup when the resolver is
    slow), and a seed's speed depended on the network of the machine it ran on."""
    import socket

    asked: list[str] = []
    real = socket.getaddrinfo

    def lookup(host: object, *args: object, **kwargs: object) -> object:
        asked.append(str(host))
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    world = World.scenario(sim_root, villages=[2])
    try:
        village = world.of_kind("village")[0]
        for _ in range(2):
            world.sync(village)
            world.time.advance(2 * 3_600_000)  # past the hourly renewal bound
    finally:
        world.close()
    assert not [host for host in asked if host.endswith(".sim")], asked
