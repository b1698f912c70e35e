# SPDX-License-Identifier: Apache-2.0
"""A replacement PC put back from its own backup before `renkou node recover` (simulation
seed 5311), on real stores and HTTP servers on loopback (SPEC.md §8.10).

The officer of a new PC typed cards, took a backup, and restored it (or copied the
data dir back by hand) before the village's cards came back. The restore closed the
PC's first log, which is another history of the dead PC's log under the same log id,
and opened a new epoch. The recovery refused the county's snapshot for ever ('kept our
cards: the county holds entry 2 of epoch 1, we hold 4; ask again after a sync'): a sync
can never put that other history at the county, which holds the dead PC's. The
recovery takes the cards and writes what was typed there again in the new epoch, as it
does for the open log, and the PC then goes idle with its parent.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from deploy.cli import cli
from node.store.store import NodeStore
from node.sync.client import SyncClient
from tests.node.sync.network import County
from tests.node.sync.test_recover_upstream import (
    V1,
    T,
    _merged_people,
    _new_pc,
    _recover,
    _sync,
    _woman,
    county,  # noqa: F401 - the fixture
)


def _backup(store: NodeStore, copy: Path) -> None:
    """``renkou node backup`` of ``store`` to ``copy``."""
    done = CliRunner().invoke(
        cli, ["node", "backup", "--to", str(copy), "--data-dir", str(store.data_dir)]
    )
    assert done.exit_code == 0, done.output


def _restore(
    county: County,  # noqa: F811 - the fixture
    store: NodeStore,
    copy: Path,
) -> NodeStore:
    """``renkou node restore`` of ``copy`` over ``store`` (a new epoch); reopened."""
    store.close()
    done = CliRunner().invoke(cli, ["node", "restore", "--from", str(copy), "--yes",
                                    "--data-dir", str(store.data_dir)])  # fmt: skip
    assert done.exit_code == 0, done.output
    return NodeStore.open(store.data_dir, clock=county.clock)


def _backed_up_and_restored(
    county: County,  # noqa: F811 - the fixture
    store: NodeStore,
    copy: Path,
) -> NodeStore:
    """A backup of ``store``, put straight back (a new epoch); the store reopened."""
    _backup(store, copy)
    return _restore(county, store, copy)


def test_a_new_pc_restored_before_recovering_takes_the_cards_and_keeps_what_was_typed(
    county: County,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    dead = county.villages[V1]
    _woman(dead, date(1985, 2, 3), "甲")
    _sync(county, dead)  # the county holds the dead PC's log through seq 2
    dead.close()
    new = _new_pc(county, V1, tmp_path / "new-pc")
    typed = ["新一", "新二", "新三"]
    try:
        for i, name in enumerate(typed):
            _woman(new, date(1990 + i, 4, 5), name)  # seqs 2..4 of another history of #1
        new = _backed_up_and_restored(county, new, tmp_path / "new.db")
        assert new.changelog.log.epoch == 2 and 1 in new.changelog.closed_heads()
        _sync(county, new)  # the restore's epoch goes up; the other history of #1 cannot
        event = _recover(county, new)
        assert event is not None, "the snapshot was refused (kept our cards)"
        assert event.rewritten == len(typed) and not event.dropped_install
        names = sorted(d["name"] for _rid, d in new.records("person"))
        assert names == sorted(["甲", *typed])
        ids = [rid for rid, d in new.records("person") if d["name"] in typed]
        assert all(rid.endswith(f".{event.epoch}") for rid in ids)  # the dead PC's P2.. differ
        assert new.rebuild_hash() == new.records_hash()
        _sync(county, new)
        assert _merged_people(county) == sorted(["甲", *typed])
        client = SyncClient(new, county.towns[T].url, now_ms=county.clock)
        client.sync_round()
        assert client.sync_round().idle  # the other history of #1 no longer counts as ours
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


def test_a_pc_restored_from_a_backup_older_than_its_acknowledgement_writes_nothing_twice(
    county: County,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    """The usual restore: the backup holds an entry the county took after it was made
    (the acknowledgement came later), so nothing acknowledged it in the copy; the county
    holds the same entry. That closed log is no other history: nothing is written again."""
    village = county.villages[V1]
    _woman(village, date(1985, 2, 3), "甲")
    _backup(village, tmp_path / "old.db")
    _sync(county, village)  # 甲 reaches the county; its acknowledgement is not in the copy
    county.villages[V1] = restored = _restore(county, village, tmp_path / "old.db")
    _sync(county, restored)
    event = _recover(county, restored)
    assert event is not None and event.rewritten == 0
    assert [d["name"] for _rid, d in restored.records("person")] == ["甲"]
    assert 1 in restored.changelog.closed_heads()  # the county holds it: kept
    _sync(county, restored)
    assert _merged_people(county) == ["甲"]


def test_what_was_typed_before_the_restore_survives_when_the_dead_pc_wrote_more(
    county: County,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    """The same story, but the county holds more of the dead PC's log (through seq 5)
    than the new PC's closed log (through seq 2): the snapshot's head of #1 lies past
    ours, so its hash cannot show the fork. The snapshot's card P1 says entry 2 of #1
    wrote another name (the dead PC's first card): the card typed there is written
    again under a new id, not replaced with no word (other_history.py _belied)."""
    dead = county.villages[V1]
    for i, name in enumerate(["甲", "乙", "丙", "丁"]):
        _woman(dead, date(1980 + i, 2, 3), name)
    _sync(county, dead)
    dead.close()
    new = _new_pc(county, V1, tmp_path / "new-pc")
    try:
        _woman(new, date(1990, 4, 5), "新一")
        new = _backed_up_and_restored(county, new, tmp_path / "new.db")
        _sync(county, new)
        event = _recover(county, new)
        assert event is not None and event.rewritten == 1
        names = sorted(d["name"] for _rid, d in new.records("person"))
        assert names == sorted(["甲", "乙", "丙", "丁", "新一"])
        [rid] = [rid for rid, d in new.records("person") if d["name"] == "新一"]
        assert rid.endswith(f".{event.epoch}")  # not P1, the dead PC's 甲
        _sync(county, new)
        assert _merged_people(county) == sorted(["甲", "乙", "丙", "丁", "新一"])
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


def test_a_pc_restored_from_before_its_first_sync_writes_nothing_twice(
    county: County,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    """An officer offline for days after installing: a backup holds two cards nobody had
    acknowledged yet; a third is typed, all three reach the county, and the PC is then
    put back from that backup. The county's head of #1 lies past the closed log's, and
    nothing acknowledged it with our hash, as for a replacement PC: but the snapshot's
    cards agree with every entry, so nothing is written again."""
    village = county.villages[V1]
    _woman(village, date(1985, 2, 3), "甲")
    _woman(village, date(1986, 2, 3), "乙")
    _backup(village, tmp_path / "day3.db")
    _woman(village, date(1987, 2, 3), "丙")
    _sync(county, village)  # the county holds #1 through 4
    county.villages[V1] = restored = _restore(county, village, tmp_path / "day3.db")
    assert restored.changelog.closed_heads()[1][0] == 3
    _sync(county, restored)
    event = _recover(county, restored)
    assert event is not None and event.rewritten == 0
    assert sorted(d["name"] for _rid, d in restored.records("person")) == ["丙", "乙", "甲"]
    _sync(county, restored)
    assert _merged_people(county) == ["丙", "乙", "甲"]
