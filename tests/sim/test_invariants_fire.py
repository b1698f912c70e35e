# SPDX-License-Identifier: Apache-2.0
"""Meta-tests: each invariant fires when the fault it is there for is planted.

An invariant that cannot fail proves nothing: the simulation's loss check once compared
the county with the node's own store, and its merge check compared the engine with
itself, so a store that lost a write, a county that kept a hash but dropped its
payload, and a merge that skipped seq 2 of every log all ran green. Each test here runs
one small county with a fault planted (a store that loses or doubles a write, a county
that lost an acknowledged entry or a payload, a merge that skips entries or ranks by
the wrong clock) and asserts that the invariant named for it reports it; the same
county without the plant is clean (``test_without_a_plant_the_county_is_clean``).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from county_aggregator import lines, nodes
from county_aggregator.engine import Engine
from county_aggregator.store import EntryRow
from node.store.store import NodeStore
from node.sync.delivery import Delivery
from protocol import Entry, Op
from tests.sim.invariants import alert_violations, final_violations
from tests.sim.world import COUNTY, DAY, World

V1, V2, T = "440104001001", "440104001002", "440104001"


def _run(root: Path, after_heal: Callable[[World], None] | None = None) -> list[str]:
    """Two villages write, update and sync twice, the county merges, then heal."""
    w = World.scenario(root, villages=[2])
    try:
        for _ in range(2):
            for code in (V1, V2):
                w.write(w.node(code), 4)
                w.sync(w.node(code))
            w.sync(w.node(T))
            w.merge()
        w.heal()
        if after_heal is not None:
            after_heal(w)
        return final_violations(w)
    finally:
        w.close()


def _codes(problems: Iterable[str]) -> set[str]:
    return {p.split()[0] for p in problems}


def test_without_a_plant_the_county_is_clean(sim_root: Path) -> None:
    assert _run(sim_root) == []


# -- the node's store ----------------------------------------------------------------


class _Undo(Exception):
    pass


def _plant_in_write(
    monkeypatch: pytest.MonkeyPatch, plant: Callable[[NodeStore, list[Op], Any], Entry]
) -> None:
    """Replace NodeStore.write: the third write of village V1 goes through ``plant``.

    The ledger wraps whatever ``write`` the store class has when the world opens it, so
    it records what the plant returns: what the officer was told was saved."""
    real = NodeStore.write
    count = itertools.count(1)

    def write(self: NodeStore, ops: list[Op]) -> Entry:
        if self.node.code != V1 or next(count) != 3:
            return real(self, ops)
        return plant(self, ops, real)

    monkeypatch.setattr(NodeStore, "write", write)


def test_a_write_the_store_lost_is_found(sim_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store rolls a write back but reports it saved. Everything upstream agrees
    with the store, so only the ledger can tell (L2), and the county then holds
    another entry at that seq than the one the officer saved (F3)."""

    def lose(store: NodeStore, ops: list[Op], real: Any) -> Entry:
        log = store.changelog
        saved = (log.head_seq, log.head_hash, log.clock.last)
        try:
            with store.db.atomic():
                entry: Entry = real(store, ops)
                raise _Undo
        except _Undo:
            log.rollback_to(*saved)
        return entry

    _plant_in_write(monkeypatch, lose)
    problems = _run(sim_root)
    assert {"L2", "F3"} <= _codes(problems), problems


def test_a_write_stored_twice_is_found(sim_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store commits one write as two entries (a retry that wrote again): the
    county holds the same change twice, once as an entry nobody saved (L1, F3)."""

    def double(store: NodeStore, ops: list[Op], real: Any) -> Entry:
        entry: Entry = real(store, ops)
        real(store, ops)
        return entry

    _plant_in_write(monkeypatch, double)
    problems = _run(sim_root)
    assert {"L1", "F3"} <= _codes(problems), problems


# -- the county's holdings -----------------------------------------------------------


def test_an_acknowledged_entry_the_county_lost_is_found(sim_root: Path) -> None:
    """The county loses the head entry of a village's log after acknowledging it."""

    def lose_head(w: World) -> None:
        db, log = w.db(COUNTY), w.node(V1).log
        seq = db.execute("SELECT seq FROM frontier WHERE log = ?", [log]).fetchone()[0]
        db.execute("DELETE FROM received_entries WHERE log = ? AND seq = ?", [log, seq])
        prev = db.execute(
            "SELECT entry_hash FROM received_entries WHERE log = ? AND seq = ?", [log, seq - 1]
        ).fetchone()[0]
        db.execute("UPDATE frontier SET seq = ?, head = ? WHERE log = ?", [seq - 1, prev, log])

    problems = _run(sim_root, lose_head)
    assert {"S2", "F2", "F3"} <= _codes(problems), problems
    assert any("acknowledged entries lost" in p for p in problems), problems


def test_a_payload_the_county_dropped_keeping_its_hash_is_found(sim_root: Path) -> None:
    """Counts, seqs and entry hashes all still match: only the payload is gone."""

    def drop_payload(w: World) -> None:
        w.db(COUNTY).execute(
            "UPDATE received_entries SET payload = NULL WHERE log = ? AND seq = 2", [w.node(V1).log]
        )

    problems = _run(sim_root, drop_payload)
    assert any(p.startswith("F3") and "payload dropped, its hash kept" in p for p in problems), (
        problems
    )


# -- the county's merge --------------------------------------------------------------


def _plant_in_merge(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[list[EntryRow]], list[EntryRow]]
) -> None:
    """Every way the county merges (incremental, rebuild, from the origins) goes through
    Engine.apply: a plant there makes all of them agree with each other (F7 stays
    quiet), so only the reference merge can tell."""
    real = Engine.apply

    def apply(self: Engine, rows: Iterable[EntryRow]) -> None:
        real(self, change(list(rows)))

    monkeypatch.setattr(Engine, "apply", apply)


def test_a_merge_that_skips_seq_2_of_every_log_is_found(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plant_in_merge(monkeypatch, lambda rows: [r for r in rows if r[1] != 2])
    problems = _run(sim_root)
    assert "M1" in _codes(problems), problems
    assert "F7" not in _codes(problems), problems


def test_a_merge_that_lets_the_oldest_value_win_is_found(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong merge: versions ranked by an inverted clock, so the oldest value of a
    field wins; every engine run agrees with every other."""
    top = 2**62
    _plant_in_merge(monkeypatch, lambda rows: [(r[0], r[1], top - r[2], *r[3:]) for r in rows])
    problems = _run(sim_root)
    assert any(p.startswith("M1") and "data" in p for p in problems), problems
    assert "F7" not in _codes(problems), problems


# -- what else the heal phase must leave behind --------------------------------------


def _drop_town_frontier(w: World) -> None:
    w.db(T).execute("DELETE FROM frontier WHERE log = ?", [w.node(V1).log])


def _drop_county_ack(w: World) -> None:
    w.db(V1).execute("DELETE FROM peer_acks WHERE peer = 'county:440104'")


def _keep_a_stranger(w: World) -> None:
    raw = w.db(T).execute("SELECT raw FROM certs LIMIT 1").fetchone()[0]
    w.db(T).execute(
        "INSERT INTO certs (node, serial, raw) VALUES (?, ?, ?)",
        ["village:440104001099", 99, bytes(raw) + b"x"],
    )


def _raise_an_alert(w: World) -> None:
    w.db(COUNTY).execute(
        "INSERT INTO alerts (at, kind, log, detail) VALUES (0, 'fork', ?, 'planted')",
        [w.node(V1).log],
    )


def _edit_a_record(w: World) -> None:
    w.db(V2).execute("UPDATE records SET data = '{}' WHERE kind = 'person'")


def _edit_the_merged_store(w: World) -> None:
    w.merged.execute("UPDATE merged_records SET retired = 'planted'")


@pytest.mark.parametrize(
    ("plant", "fires"),
    [
        (_drop_town_frontier, "F4"),
        (_drop_county_ack, "F5"),
        (_keep_a_stranger, "F6"),
        (_raise_an_alert, "F8"),
        (_edit_a_record, "F9"),
        (_edit_the_merged_store, "F7"),
    ],
    ids=["F4-township-lost-a-log", "F5-ack-never-came-back", "F6-stranger", "F8-alert",
         "F9-records-not-the-log", "F7-merges-disagree"],
)  # fmt: skip
def test_each_final_invariant_fires(
    sim_root: Path, plant: Callable[[World], None], fires: str
) -> None:
    problems = _run(sim_root, plant)
    assert fires in _codes(problems), problems


def test_a_local_id_given_to_two_people_is_found(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new card gets the local id of an earlier card of the village (as a copy of the
    PC put back by hand once did): the county merges two women's entries into one
    record. Every engine and the reference merge agree (they merge by card); only what
    the officer meant by each write tells (P1)."""
    real = NodeStore.new_id
    issued: list[str] = []

    def new_id(self: NodeStore, kind: str) -> str:
        rid = real(self, kind)
        if self.node.code != V1:
            return rid
        issued.append(rid)
        return issued[0] if len(issued) == 2 else rid

    monkeypatch.setattr(NodeStore, "new_id", new_id)
    problems = _run(sim_root)
    assert "P1" in _codes(problems), problems
    assert "M1" not in _codes(problems), problems


def _reused_ids(root: Path, after_heal: Callable[[World], None] | None = None) -> list[str]:
    """A village PC dies; an earlier release restores its backup and gives the cards it
    writes next the ids the lost period already gave other women (issue 12)."""
    w = World.scenario(root, villages=[2], village_restore=True)
    try:
        v, t = w.node(V1), w.node(T)
        w.write(v, 3)
        w.sync(v)
        w.backup(v)
        w.write(v, 6)  # the lost period: new cards P4.. among them
        w.sync(v)
        w.sync(t)
        w.merge()
        v.reuses_ids = True
        w.restore(v)
        w.write(v, 10)
        assert w.events["id_reused"] > 0, w.trace
        w.heal()
        if after_heal is not None:
            after_heal(w)
        return final_violations(w)
    finally:
        w.close()


def test_ids_reused_by_an_earlier_release_stay_apart_at_the_county(sim_root: Path) -> None:
    """The county keeps each woman's writes in her own record (county_aggregator/lines.py),
    and the reference merge, written from the rule, agrees."""
    assert _reused_ids(sim_root) == []


def test_a_merge_that_joins_records_by_local_id_alone_is_found(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plant: every write of a local id is one record, whichever history wrote it
    (the county before issue 12). Every engine agrees with every other; P1 tells."""
    monkeypatch.setattr(lines, "line_name", lambda card, root_log: card)
    problems = _reused_ids(sim_root)
    assert "P1" in _codes(problems), problems
    assert "F7" not in _codes(problems), problems


def _withheld(root: Path) -> tuple[list[str], Counter[str]]:
    """The township acknowledges V1's changes and hands none of them up: after 4 days
    the county's acknowledgement lags (A1's condition), after 36 more days of V1 going on
    writing into the void the county has not heard from V1 (A2's). Returns what the
    alert invariants say at each of those moments, with what the sim saw of the alerts."""
    w = World.scenario(root, villages=[2], withholding=True)
    try:
        v, other, t = w.node(V1), w.node(V2), w.node(T)
        w.write(v, 2)
        w.sync(v)
        w.sync(t)
        w.withheld[V1] = (T, w.time.now + 60 * DAY)
        w.write(v, 2)
        w.sync(v)  # the township confirms them...
        w.sync(t)  # ...and keeps them
        w.observe()
        problems = alert_violations(w)
        w.time.advance(4 * DAY)
        w.sync(v)
        w.observe()
        problems += alert_violations(w)
        for _ in range(4):
            w.time.advance(9 * DAY)
            w.write(other, 1)
            w.sync(other)
            w.sync(t)
            w.sync(v)
            w.observe()
            problems += alert_violations(w)
        events = Counter(w.events)
        w.heal()
        return problems + final_violations(w), events
    finally:
        w.close()


def test_a_withholding_township_raises_both_alerts(sim_root: Path) -> None:
    problems, events = _withheld(sim_root)
    assert problems == []
    assert events["alert_county_lag"] == 1 and events["alert_not_heard"] >= 1, events


def test_a_delivery_alert_that_never_fires_is_found(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Delivery, "lagging", lambda self, now_ms, days=3: False)
    problems, _ = _withheld(sim_root)
    assert "A1" in _codes(problems), problems


def test_a_silence_alert_that_counts_too_many_days_is_found(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nodes, "DAY_MS", 2 * nodes.DAY_MS)
    problems, _ = _withheld(sim_root)
    assert "A2" in _codes(problems), problems


def test_h1_fires_when_a_hand_copied_pc_is_never_told_of_its_fork(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plant: sync keeps quiet about a log it cannot push (no ``fork`` or
    ``behind_parent`` refusal recorded, none raised), so the officer never runs
    new-epoch and what the copy wrote never leaves the PC. H1 names each entry."""
    from node.sync.push import OwnLogPush
    from tests.sim.test_regressions import _hand_copied

    monkeypatch.setattr(OwnLogPush, "_refused", lambda *_args: None)
    w = _hand_copied(sim_root)
    try:
        w.heal()
        problems = final_violations(w)
    finally:
        w.close()
    h1 = [p for p in problems if p.startswith("H1 ")]
    assert len(h1) == 2, problems  # the two changes the copy wrote
    assert all("no fork refusal told the officer" in p for p in h1)


def test_h1_fires_when_a_restore_opens_an_epoch_again_and_nobody_is_told(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seed 1669's story (test_regressions.py): a restore opened an epoch a lost copy
    had written. The plant silences the refusal: what the restored PC wrote in the
    reopened epoch never leaves it, and H1 names it."""
    from node.sync.push import OwnLogPush
    from tests.sim.test_regressions import _restored_over_a_hand_copy

    monkeypatch.setattr(OwnLogPush, "_refused", lambda *_args: None)
    w = _restored_over_a_hand_copy(sim_root)
    try:
        w.heal()
        problems = final_violations(w)
    finally:
        w.close()
    h1 = [p for p in problems if p.startswith("H1 ")]
    assert len(h1) == 3, problems  # the restore's first entry and the two changes


def _thrown_away_ack(w: World) -> None:
    """The county lost the entries the township had acknowledged to a store that a hand
    copy threw away (the restored PC's own store never held that acknowledgement)."""
    log = "village:440104001001#2"
    w.db(COUNTY).execute("DELETE FROM received_entries WHERE log = ?", [log])
    w.db(COUNTY).execute("DELETE FROM frontier WHERE log = ?", [log])


def test_an_acknowledgement_a_thrown_away_store_held_still_binds(sim_root: Path) -> None:
    """F2 judges acknowledgements the live store holds; the ones a store thrown away
    held bind too (_binding): the county must hold the entry they name, whichever entry
    of that seq the ledger lists first."""
    from tests.sim.test_regressions import _restored_over_a_hand_copy

    w = _restored_over_a_hand_copy(sim_root)
    try:
        w.heal()
        assert final_violations(w) == []
        _thrown_away_ack(w)
        problems = final_violations(w)
    finally:
        w.close()
    assert any(p.startswith("F2 ") and "was thrown away" in p for p in problems), problems


def test_a_revoked_villages_earlier_epoch_is_judged_through_its_valid_through(
    sim_root: Path,
) -> None:
    """A revocation names each log of the node the county held (SPEC §8.3); a log it
    does not name is valid through 0 (seed 1745: a township lost its copies of epoch 1
    before handing them up, the PC was restored, then stolen and revoked: the county
    may never take epoch 1, and F2/F3/F4 counted it owed). The relaxation is only for
    what the revocation leaves out: an earlier epoch it names, lost by the county, is
    still found (F3)."""
    w = World.scenario(sim_root, villages=[2], village_restore=True)
    try:
        v, t = w.node(V1), w.node(T)
        w.write(v, 3)
        w.sync(v)
        w.sync(t)
        w.backup(v)
        w.restore(v)  # epoch 2
        w.write(v, 2)
        w.sync(v)
        w.sync(t)
        w.revoke(v)
        revoked = w.revoked[V1]
        assert revoked.through == {"village:440104001001#1": 4, "village:440104001001#2": 3}
        w.heal()
        assert final_violations(w) == []
        w.db(COUNTY).execute(
            "DELETE FROM received_entries WHERE log = 'village:440104001001#1' AND seq = 4"
        )
        w.db(COUNTY).execute("UPDATE frontier SET seq = 3 WHERE log = 'village:440104001001#1'")
        problems = final_violations(w)
    finally:
        w.close()
    assert any(p.startswith("F3 ") and "#1" in p and "(revoked)" in p for p in problems), problems


# -- "nobody holds it": the excuse for acknowledged entries no holder has (_binding) ---

LOG1 = "village:440104001001#1"


def _relay_drops(w: World) -> None:
    """The plant: the township drops its copies of V1's log by itself (no restore, no
    lost disk the sim knows of): the acknowledgement it gave still binds it."""
    w.db(T).execute("DELETE FROM inbound WHERE log = ?", [LOG1])


def _lost_then_put_back(
    root: Path, story: str, plant: Callable[[World], None] | None = None
) -> list[str]:
    """The township's disk loses V1's copies (a loss the excuse knows), and later V1's PC
    is restored from a backup older than what the township acknowledged.

    ``lost``: the township loses every copy it had not handed on and the PC is put back
    before anyone noticed: entries 4..6 are nowhere any more (seed 3693's story).
    ``mended``: the loss came after the acknowledgement, and V1 sent the entries again
    once the township's head showed the gap, before the PC was put back. ``ack_after``:
    the loss came before the township acknowledged the entries again (the review's
    story: lost, sent again, acknowledged). ``unnoticed``: the township lost copies it
    had not handed on and took new entries past the gap before it noticed; the PC is
    put back before it does, and the new entries come back to the PC as a copy the
    township hands back, which V1 sends again. ``plant`` runs just before the heal."""
    w = World.scenario(root, villages=[1], village_restore=True, lost_copies=True)
    try:
        v, t = w.node(V1), w.node(T)
        w.write(v, 2)
        if story == "lost":
            w.backup(v)
            w.write(v, 3)
            w.sync(v)  # the township acknowledges 1..6
            w.lose_copies(t)
        elif story == "mended":
            w.backup(v)
            w.write(v, 3)
            w.sync(v)  # the township acknowledges 1..6
            w.lose_copies(t)
            w.sync(t)  # it finds the gap: its head goes back to 0
            w.sync(v)  # V1 sends 1..6 again, before its PC is put back
        elif story == "ack_after":
            w.sync(v)
            w.backup(v)
            w.lose_copies(t)
            w.sync(t)
            w.write(v, 3)
            w.sync(v)  # 1..6 again: acknowledged after the loss
        else:
            w.sync(v)
            w.backup(v)
            w.lose_copies(t)  # not noticed: its head stays at 3
            w.write(v, 3)
            w.sync(v)  # 4..6 taken past the gap, acknowledged
        assert w.events["lose_copies"] == 1, w.trace
        w.restore(v)
        if plant is not None:
            plant(w)
        w.heal()
        return final_violations(w)
    finally:
        w.close()


@pytest.mark.parametrize("story", ["lost", "mended", "ack_after", "unnoticed"])
def test_without_a_plant_each_story_of_a_lost_copy_is_clean(sim_root: Path, story: str) -> None:
    """What no holder has any more is not owed (``lost``), and what a holder still has
    reaches the county (the township's copies sent again, the copy handed back)."""
    assert _lost_then_put_back(sim_root, story) == []


@pytest.mark.parametrize("story", ["mended", "ack_after"])
def test_a_loss_the_township_mended_excuses_nothing_later(sim_root: Path, story: str) -> None:
    """The excuse once took any loss of the township, at any time, for a loss of every
    entry past it: the township dropping entries it had taken again after that loss
    (the plant, after the PC was put back) ran green."""
    problems = _lost_then_put_back(sim_root, story, _relay_drops)
    assert any(p.startswith("F2 ") and "was thrown away" in p for p in problems), problems
    assert any(p.startswith("F3 ") and LOG1 in p for p in problems), problems


def test_a_copy_handed_back_to_the_village_is_a_holder(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The township lost copies, the PC was put back, but the live PC holds a copy the
    township handed back of the entries past the gap: they are not lost. The plant: the
    PC never sends that copy again (seed 3261's stranded copy), so they never reach the
    county; the excuse counted only the township and the county as holders, and only F1
    told. F3 names the copy."""
    from node.sync.push import OwnLogPush

    def keep_returned(_w: World) -> None:
        monkeypatch.setattr(OwnLogPush, "_send_returned", lambda _self, _theirs: None)

    problems = _lost_then_put_back(sim_root, "unnoticed", keep_returned)
    f3 = [p for p in problems if p.startswith("F3 ") and LOG1 in p]
    assert f3 and "handed back of 4..6" in f3[0], problems


def _replaced_and_healed(root: Path, typed: int) -> tuple[World, list[str]]:
    """tests/sim/test_replace_pc.py's story (``typed`` changes typed first), healed, and
    what the invariants say of it."""
    from tests.sim.test_replace_pc import _replaced

    w = _replaced(root, typed)
    try:
        w.heal()
        return w, final_violations(w)
    finally:
        w.close()


def test_r1_fires_when_a_recovery_drops_the_snapshots_cards(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plant: the replacement PC takes the county's snapshot but none of its cards
    (the officer sees an empty village and writes on). R1 names every card the
    village's logs make through the snapshot's heads."""
    from node.sync import recovered

    monkeypatch.setattr(recovered, "open_snapshot", lambda *_args: [])
    w, problems = _replaced_and_healed(sim_root, 0)
    r1 = [p for p in problems if p.startswith("R1 ")]
    (done,) = w.recoveries
    assert not done.cards and len(done.want) >= 2, done  # the cards sent before it died
    assert len(r1) == len(done.want) and all("missing" in p for p in r1), problems


def test_r1_fires_when_a_recovered_card_is_another_persons(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plant: the snapshot's first two cards swap their fields (each id shows the
    other woman). R1 names both, and the officer's later edits of them, about the woman
    each card shows, are merged into the other woman's record (P1)."""
    import dataclasses

    from node.sync import recovered

    real = recovered.open_snapshot

    def swapped(*args: Any) -> Any:
        cards = list(real(*args))
        a, b = cards[0], cards[1]
        cards[0], cards[1] = (
            dataclasses.replace(a, data=b.data),
            dataclasses.replace(b, data=a.data),
        )
        return cards

    from tests.sim.test_replace_pc import _replaced

    monkeypatch.setattr(recovered, "open_snapshot", swapped)
    w = _replaced(sim_root, 0)
    try:
        v = w.node(V1)
        store = v.store
        assert store is not None
        for rid, idn in w.records[V1][:2]:  # the woman each card shows
            w._meant(store.write([store.upsert_op("person", rid, {"name": "改"})]), idn)
        w.sync(v)
        w.heal()
        problems = final_violations(w)
    finally:
        w.close()
    assert len([p for p in problems if p.startswith("R1 ") and "differs" in p]) == 2, problems
    assert "P1" in _codes(problems), problems


def test_h1_fires_when_a_recovery_drops_the_cards_typed_before_it(
    sim_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plant: the recovery does not write again what the officer typed on the new
    PC before recovering (the snapshot just replaces the records, as before review).
    H1 names the typed change."""
    from node.sync import recovered

    monkeypatch.setattr(recovered, "_not_upstream", lambda *_args: (None, []))
    _w, problems = _replaced_and_healed(sim_root, 1)
    h1 = [p for p in problems if p.startswith("H1 ")]
    assert len(h1) == 1 and "440104001001#1 2 " in h1[0], problems


# -- a copy that expired at the township while its PC died (seeds 5156, 5468) ----------


def _expired_then_replaced(root: Path, story: str) -> tuple[list[str], list[tuple[int, int]]]:
    """V1's first change (seq 2, after its install entry) reaches the county; the
    township confirms its next three, 3..5, but does not hand them up for 10 days, past
    the copy's expiry (7 days), and V1's PC dies with its data dir meanwhile; a
    replacement recovers the village (through seq 2).

    ``cut_off``: the township is cut off from the county (seed 5468). ``withhold``: it
    withholds V1's batches (seed 5156). ``lazy``: the plant, a relay that completes its
    rounds and hands nothing of V1 up until the heal (no fault of the world).
    Returns the final violations and the ranges the township's status alerts on 36
    days after the heal (node/sync/relay_returns.py)."""
    from node.sync.relay import Relay
    from node.sync.relay_returns import handed_back
    from tests.sim import replace_pc

    w = World.scenario(root, villages=[2], replace_pcs=True, withholding=story == "withhold")
    try:
        v, t = w.node(V1), w.node(T)
        w.write(v, 1)
        w.sync(v)
        w.sync(t)
        w.write(v, 3)
        w.sync(v)  # the township confirms 3..5
        if story == "cut_off":
            w.network.partitions[T] = w.time.now + 10 * DAY
        elif story == "withhold":
            w.withheld[V1] = (T, w.time.now + 10 * DAY)
        else:
            real = Relay._forward_log

            def lazy(relay: Relay, log: Any, have: Any, ours: int) -> None:
                if log.node.code != V1 or w.healed:
                    real(relay, log, have, ours)

            Relay._forward_log = lazy  # type: ignore[method-assign] # World.close puts it back
        w.time.advance(DAY)
        w.sync(t)  # nothing of 3..5 goes up
        replace_pc.replace(w, v, 0)  # a day later the new PC comes
        w.time.advance(8 * DAY)
        w.sync(t)
        w.heal()  # the copy has expired: the township hands it back to a PC that cannot open it
        problems = final_violations(w)
        backs = handed_back(w.db(T), t.node_id, set())
        alerts = [(b.first, b.last) for b in backs if b.alert(t.clock() + 36 * DAY)]
        return problems, alerts
    finally:
        w.close()


@pytest.mark.parametrize("story", ["cut_off", "withhold"])
def test_a_copy_that_expired_at_the_township_while_its_pc_died_is_lost_to_everyone(
    sim_root: Path, story: str
) -> None:
    """No node may take or hand on a batch past its expiry, and only its origin can
    renew it with the escrow key that died with the PC: entries 3..5 exist only in the
    township's expired copy. The excuse (invariants._expired_unrenewable) covers it; the
    township's status tells its officer to call the county administrator."""
    problems, alerts = _expired_then_replaced(sim_root, story)
    assert problems == [], problems
    assert alerts == [(3, 5)]


def test_a_relay_that_never_hands_a_copy_up_is_found_though_the_pc_died(
    sim_root: Path,
) -> None:
    """The plant: the township had rounds while its copy of 3..5 was fresh and handed
    nothing of V1 up. The same entries are lost, but the excuse does not cover a relay
    that could have handed them on: F2 and F3 name them."""
    problems, _alerts = _expired_then_replaced(sim_root, "lazy")
    assert {"F2", "F3"} <= _codes(problems), problems
    assert any("acknowledged village:440104001001#1 through 5" in p for p in problems), problems
