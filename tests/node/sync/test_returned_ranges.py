# SPDX-License-Identifier: Apache-2.0
"""Batches a township handed back whose range does not start where the township's head
ends (simulation seeds 1971, 3814), on real servers on loopback.

A village PC put back from an older copy starts a new epoch; its earlier log is closed
where that copy ends (a restore) or where the parent last acknowledged it (a copy put
back by hand, cut there: node/store/carry.py). The township's copies of that log then
expire before the county gets them, and the township hands them back (SPEC §6.5). The
village pushes the closed log from the township's (now empty) head up to where its own
store ends, then sends the copies handed back from there:

* the push of a closed, cut log stops at the cut (seed 1971: it sent whole batches past
  it, the abandoned entries, written again in the new epoch; the township took them in
  the old log, or refused our log as a fork where it knew the lost PC's);
* a copy the township's head ends inside is sent from the head on (seed 3814), and
  never when the copy does not continue what the township holds there.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.identity import load_certificate
from node.store.backup import backup, restore
from node.store.carry import start_epoch_carrying
from node.store.database import DB_NAME
from node.store.holdings import Holdings
from node.store.outbox import Outbox
from node.store.store import NodeStore
from node.sync.delivery import DAY_MS
from node.sync.epochs import known_epoch
from protocol import Entry, NodeId, address, seal_batch, sign_batch
from tests.node.sync.faults import copy_node, no_sleep, write
from tests.node.sync.network import County, small_batch_county

V1, T = "440104001002", "440104001"


@pytest.fixture
def county(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[County]:
    yield from small_batch_county(tmp_path, monkeypatch, T, V1)


def _county_log(county: County, epoch: int) -> list[tuple[int, bytes]]:
    return county.county_log(f"village:{V1}#{epoch}")


def _heal(county: County, village: NodeStore) -> None:
    """Rounds until both are idle (a few: each sends what the other lacks); none is
    refused (the officer already mended the fork: nothing is left to tell them)."""
    town = county.towns[T].store
    for _ in range(4):
        for code in (V1, T):
            county.client(code, sleep=no_sleep).sync_round()
    assert Holdings(village.db).returned_ranges() == []
    assert Holdings(town.db).returned_ranges() == []
    assert county.client(V1, sleep=no_sleep).sync_round().idle
    assert county.client(T, sleep=no_sleep).sync_round().idle


def test_a_closed_log_cut_by_a_hand_copy_goes_up_only_to_its_cut(
    county: County, tmp_path: Path
) -> None:
    village = county.villages[V1]
    data_dir = village.data_dir
    write(village, 3)
    county.round_or_refusal(V1)  # the township acknowledges 1..4
    write(village, 3)
    village.close()
    shutil.copy(data_dir / DB_NAME, tmp_path / "monday.db")  # 1..7, kept by hand
    village = county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    write(village, 7)
    county.round_or_refusal(V1)  # the township acknowledges 5..14, one batch
    written = [(e.seq, e.hash) for e in village.entries(1, 14)]
    village.close()
    for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
        (data_dir / name).unlink(missing_ok=True)
    shutil.copy(tmp_path / "monday.db", data_dir / DB_NAME)  # copied back by hand
    village = county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    write(village, 2, tag="副本")  # 8 and 9 again, other changes: a fork of epoch 1
    county.round_or_refusal(V1)  # refused: behind_parent
    done = start_epoch_carrying(village, "restore", known_epoch(village))  # the officer
    assert (done.kept, done.abandoned) == (4, 5)
    county.sim_clock.advance(8 * DAY_MS)  # the township's copies expire, never handed up
    report = county.round_or_refusal(T)
    assert report is not None and report.lost == [f"village:{V1}#1 1..14"], report
    _heal(county, village)
    # Epoch 1 at the county is what the township acknowledged, as the lost PC wrote it;
    # what the copy wrote past 4 is in epoch 2 only, written again there (its 8 and 9
    # never go up in epoch 1, where the township would refuse them as a fork).
    assert _county_log(county, 1) == written
    assert len(_county_log(county, 2)) == 1 + 5


def test_a_copy_handed_back_that_the_township_head_ends_inside_is_sent_from_there(
    county: County, tmp_path: Path
) -> None:
    village = county.villages[V1]
    write(village, 3)
    backup(village, tmp_path / "monday.rkb", county.sim_clock())  # holds 1..4
    write(village, 5)
    county.round_or_refusal(V1)  # one batch, 1..9, acknowledged by the township
    written = [(e.seq, e.hash) for e in village.entries(1, 9)]
    county.sim_clock.advance(8 * DAY_MS)
    data_dir = village.data_dir
    village.close()
    restore(data_dir, tmp_path / "monday.rkb")
    village = county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    assert village.changelog.closed_heads()[1][0] == 4
    report = county.round_or_refusal(T)
    assert report is not None and report.lost == [f"village:{V1}#1 1..9"], report
    # The restored PC pushes its epoch 1 (1..4) and takes 1..9 back; 5..9 are then only
    # in that copy, past the township's head.
    _heal(county, village)
    assert _county_log(county, 1) == written


def _signed_batch(store: NodeStore, entries: list[Entry], county: County) -> bytes:
    """An envelope of ``entries`` as ``store`` signs and seals one for its township."""
    now = county.sim_clock()
    expires = now + 7 * DAY_MS
    cert = load_certificate(store.data_dir, "node.cert")
    assert cert is not None
    header, sig = sign_batch(
        entries, store.identity.signing, cert.serial, sent_ms=now, expires_ms=expires
    )
    keys = [store.identity.kem.public_key]
    for served in (county.towns[T], county.county):
        peer = load_certificate(served.store.data_dir, "node.cert")
        assert peer is not None
        keys.append(peer.kem_key)
    sealed = seal_batch(entries, header, sig, keys)
    return address(sealed, store.identity.signing, store.node, NodeId.for_code(T), now, expires)


def test_a_returned_copy_that_does_not_run_on_from_the_head_is_not_sent(
    county: County, tmp_path: Path
) -> None:
    """A batch of ours that forks from the township's head (a clone of this PC signed
    it) is never sent from inside: the township would refuse our log as a fork."""
    village = county.villages[V1]
    write(village, 1)
    clone = NodeStore.open(copy_node(village, tmp_path / "clone"), clock=county.clock)
    write(village, 4)
    county.round_or_refusal(V1)  # the township holds 1..6
    write(clone, 6, tag="克隆")  # 3..8, another history
    raw = _signed_batch(clone, list(clone.entries(3, 8)), county)
    clone.close()
    town = county.towns[T].store
    with town.db.atomic():
        Outbox(town.db).add(f"village:{V1}", raw)  # handed back, as a relay would
    county.round_or_refusal(V1)  # takes it back: it is ours
    assert [r[1:3] for r in Holdings(village.db).returned_ranges()] == [(3, 8)]
    report = county.client(V1, sleep=no_sleep).sync_round()  # not refused
    assert report.pushed_entries == 0
    head = town.db.execute(
        "SELECT seq, head FROM frontier WHERE log = ?", [f"village:{V1}#1"]
    ).fetchone()
    assert (head[0], bytes(head[1])) == (6, next(village.entries(6, 6)).hash)
    assert town.db.execute("SELECT COUNT(*) FROM alerts WHERE kind = 'fork'").fetchone()[0] == 0
