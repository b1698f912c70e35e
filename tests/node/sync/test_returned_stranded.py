# SPDX-License-Identifier: Apache-2.0
"""A copy handed back that can never go up in its log (simulation seed 3261), on real
servers on loopback.

The township acknowledged a village's entries 2..5 and lost its copy of them (its
disk), then acknowledged 6..10, which continue its head, and could hand none of it on:
it handed 6..10 back (SPEC §6.5). The village PC had meanwhile been copied back by hand
from before 2, written on, been refused, and its officer ran ``new-epoch``: the new
epoch cut the old log at 1, the last entry the county acknowledged. 2..5 are now
nowhere, so 6..10 can never continue the old log: the village used to keep the copy
for ever (its sync never idle) and the county never got those changes, which were on
this PC only.

Now the village writes the copy's changes again in its current epoch (new ids for the
cards they created, as for the stale copy's own writes), and the township, which read
the cut in the new epoch's first entry, forgets the copy it handed back instead of
raising a false alert 35 days later. The changes between the cut and the copy are
lost twice over (the township's disk, the hand copy): the officer's status says so at
once, to enter them again from paper.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.store.backup import backup, restore
from node.store.carry import carry_returned, start_epoch_carrying
from node.store.database import DB_NAME
from node.store.holdings import Holdings
from node.store.restores import Restores
from node.store.store import NodeStore
from node.sync.delivery import DAY_MS
from node.sync.epochs import known_epoch
from node.sync.relay_returns import ALERT_DAYS, status_lines
from node.sync.restored import describe
from protocol import Upsert, decode_payload
from tests.node.sync.faults import no_sleep, write
from tests.node.sync.network import County, small_batch_county

V1, T = "440104001002", "440104001"
LOG1 = f"village:{V1}#1"


@pytest.fixture
def county(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[County]:
    yield from small_batch_county(tmp_path, monkeypatch, T, V1)


def _names(store: NodeStore, first: int, last: int) -> list[str]:
    """The names the officer typed in entries ``first..last`` of the current log."""
    out = []
    for entry in store.entries(first, last):
        for op in decode_payload(entry.payload) if entry.payload else []:
            if isinstance(op, Upsert) and "name" in op.fields:
                out.append(str(op.fields["name"][0]))
    return out


def _stranded_copy(county: County, tmp_path: Path) -> tuple[NodeStore, list[str]]:
    """The village as seed 3261 left it: its PC copied back by hand and moved to epoch
    2 by its officer, and its township about to hand back 6..10, acknowledged and
    written on the PC that was lost. The names typed in 6..10 are returned."""
    village = county.villages[V1]
    data_dir = village.data_dir
    town = county.towns[T].store
    for code in (V1, T, V1):  # the county holds and acknowledged the install entry
        county.round_or_refusal(code)
    village.close()
    shutil.copy(data_dir / DB_NAME, tmp_path / "monday.db")  # 1, kept by hand
    village = county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    write(village, 4, tag="甲")
    county.round_or_refusal(V1)  # the township acknowledges 2..5
    with town.db.atomic():  # and its disk loses that copy; its head stays at 5
        town.db.execute("DELETE FROM inbound WHERE log = ? AND first_seq = 2", [LOG1])
    write(village, 5, tag="乙")
    typed = _names(village, 6, 10)
    county.round_or_refusal(V1)  # the township acknowledges 6..10: they continue its head
    village.close()
    for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
        (data_dir / name).unlink(missing_ok=True)
    shutil.copy(tmp_path / "monday.db", data_dir / DB_NAME)  # copied back by hand
    village = county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    write(village, 3, tag="副本")
    assert county.round_or_refusal(V1) is None  # refused: behind_parent (the township holds 10)
    done = start_epoch_carrying(village, "restore", known_epoch(village))  # the officer
    assert (done.kept, done.abandoned) == (1, 3)
    return village, typed


def test_a_copy_handed_back_past_a_gap_nobody_can_fill_is_written_again(
    county: County, tmp_path: Path
) -> None:
    village, typed = _stranded_copy(county, tmp_path)
    town = county.towns[T].store
    report = county.round_or_refusal(T)  # cannot hand on 2..5: hands 6..10 back
    assert report is not None and report.lost, report
    for _ in range(3):
        county.round_or_refusal(V1)
        county.round_or_refusal(T)
    assert Holdings(village.db).returned_ranges() == []
    assert Holdings(town.db).returned_ranges() == []  # no false alert in 35 days
    county.sim_clock.advance((ALERT_DAYS + 1) * DAY_MS)
    assert not [line for line in status_lines(town.db, None, county.sim_clock())]
    assert county.client(V1, sleep=no_sleep).sync_round().idle
    assert county.client(T, sleep=no_sleep).sync_round().idle
    # Epoch 1 at the county ends at its cut; what 6..10 wrote is in epoch 2, after the
    # three changes the stale copy wrote again there.
    assert [seq for seq, _h in county.county_log(LOG1)] == [1]
    epoch2 = county.county_log(f"village:{V1}#2")
    assert [seq for seq, _h in epoch2] == list(range(1, 1 + 3 + 5 + 1))
    assert _names(village, 5, 9) == typed
    (event,) = Restores(village.db).events()
    assert (event.carried, event.carried_log) == (5, LOG1)
    assert (event.carried_first, event.carried_last) == (6, 10)
    assert "6-10" in describe(event)
    # 2..5 are on no PC, the township lost them and the county never confirmed them:
    # lost twice over, and the officer is told at once to enter them from paper.
    assert (event.nowhere_first, event.nowhere_last) == (2, 5)
    assert f"警报：{LOG1} 第 2-5 条" in describe(event)  # ALERT: changes 2-5 of


def test_the_township_keeps_a_copy_its_origin_can_still_send(
    county: County, tmp_path: Path
) -> None:
    """A copy that continues what the village still holds of the closed log is sent
    again in that log, never written again: the township keeps it until then."""
    village = county.villages[V1]
    write(village, 3)
    county.round_or_refusal(V1)  # the township acknowledges 1..4
    town = county.towns[T].store
    county.sim_clock.advance(8 * DAY_MS)  # its copy expires before the county took it
    report = county.round_or_refusal(T)
    assert report is not None and report.lost == [f"{LOG1} 1..4"], report
    assert [r[1:3] for r in Holdings(town.db).returned_ranges()] == [(1, 4)]
    for _ in range(3):
        county.round_or_refusal(V1)
        county.round_or_refusal(T)
    assert Holdings(town.db).returned_ranges() == []
    assert len(county.county_log(LOG1)) == 4
    assert Restores(village.db).events() == []


def test_a_copy_that_continues_what_the_restored_pc_still_holds_goes_up_in_its_log(
    county: County, tmp_path: Path
) -> None:
    """The township lost its copy of 1..4 and handed back 5..9, its head back at 0; the
    PC, restored from a backup that holds 1..4, sends those and then the copy in epoch
    1, where they were written: nothing is written again (the gap is the PC's own)."""
    village = county.villages[V1]
    write(village, 3)
    county.round_or_refusal(V1)  # the township acknowledges 1..4
    backup(village, tmp_path / "monday.rkb", county.sim_clock())
    write(village, 5)
    county.round_or_refusal(V1)  # and 5..9
    written = [(e.seq, e.hash) for e in village.entries(1, 9)]
    town = county.towns[T].store
    with town.db.atomic():  # the township's disk loses its copy of 1..4
        town.db.execute("DELETE FROM inbound WHERE log = ? AND first_seq = 1", [LOG1])
    data_dir = village.data_dir
    village.close()
    restore(data_dir, tmp_path / "monday.rkb")
    village = county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    report = county.round_or_refusal(T)  # cannot hand on 1..4: hands 5..9 back, its head at 0
    assert report is not None and report.lost, report
    county.round_or_refusal(V1)  # sends 1..4 again, takes 5..9 back
    with town.db.atomic():  # the township's disk loses 1..4 once more
        town.db.execute("DELETE FROM inbound WHERE log = ? AND first_seq = 1", [LOG1])
    county.round_or_refusal(T)  # its head back at 0: the copy lies past it, not past the PC's 4
    for _ in range(3):
        county.round_or_refusal(V1)
        county.round_or_refusal(T)
    assert county.county_log(LOG1) == written
    (event,) = Restores(village.db).events()
    assert (event.carried, event.nowhere_last) == (0, 0)
    assert "警报" not in describe(event)


def test_entries_the_new_epoch_wrote_again_are_not_written_again_from_a_copy(
    county: County,
) -> None:
    """A copy handed back of entries this store holds past its cut (the officer's
    new-epoch wrote them again already, the township's acknowledgement of them being
    lost on the way) writes nothing a second time."""
    village = county.villages[V1]
    write(village, 3)
    abandoned = list(village.entries(2, 4))
    done = start_epoch_carrying(village, "fork", known_epoch(village))
    assert (done.kept, done.abandoned) == (0, 4)
    head = village.changelog.head_seq
    again = carry_returned(village, abandoned[0].log, abandoned)
    assert again.abandoned == 0
    assert village.changelog.head_seq == head
