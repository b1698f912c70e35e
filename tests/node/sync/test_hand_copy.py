# SPDX-License-Identifier: Apache-2.0
"""A village PC's database copied back by hand, then `renkou node restore`d (found by
the simulation's hand copies, tests/sim/hand_copy.py, seed 1079), on loopback.

The PC was restored once (epoch 2, sent upstream); then someone copied an older node.db
back by hand (epoch 1: it knows nothing of epoch 2), and its next sync learnt from the
township that epoch 2 exists; then the administrator restored it from a backup. The new
epoch took the number above the replaced database's own log, 2 again, and its entries
forked the log the township holds. It must be above every epoch the parent reported.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.store.backup import backup, restore
from node.store.database import DB_NAME
from node.store.store import NodeStore
from node.sync.client import SyncFailed
from tests.node.sync.faults import no_sleep, write
from tests.node.sync.network import County, SimClock, loopback_county

V1, T = "440104001002", "440104001"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {T: [V1]}, clock=SimClock()) as c:
        yield c


def _round(county: County) -> None:
    try:
        county.client(V1, sleep=no_sleep).sync_round()
    except SyncFailed:
        pass  # behind_parent, recorded for the officer


def test_a_restore_after_a_hand_copy_opens_an_epoch_the_parent_never_saw(
    county: County, tmp_path: Path
) -> None:
    village = county.villages[V1]
    data_dir = village.data_dir
    write(village, 2)
    backup(village, tmp_path / "monday.rkb", county.clock())  # type: ignore[misc]
    village.close()
    shutil.copy(data_dir / DB_NAME, tmp_path / "monday.db")  # a plain copy, kept by hand
    restore(data_dir, tmp_path / "monday.rkb")
    village = county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    assert village.changelog.log.epoch == 2
    write(village, 1)
    _round(county)  # the township holds epoch 2
    village.close()
    for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
        (data_dir / name).unlink(missing_ok=True)
    shutil.copy(tmp_path / "monday.db", data_dir / DB_NAME)  # copied back by hand
    village = county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    assert village.changelog.log.epoch == 1
    _round(county)  # learns the township's heads of its logs, epoch 2 among them
    village.close()
    done = restore(data_dir, tmp_path / "monday.rkb")
    assert done.epoch == 3  # not 2: the township holds another epoch 2
    village = county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    write(village, 1)
    _round(county)
    town = county.towns[T].store
    forks = town.db.execute("SELECT COUNT(*) FROM alerts WHERE kind = 'fork'").fetchone()[0]
    assert forks == 0
    held = town.db.execute("SELECT seq FROM frontier WHERE log = ?", [f"village:{V1}#3"]).fetchone()
    assert held is not None and held[0] == 2
