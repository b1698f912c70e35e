# SPDX-License-Identifier: Apache-2.0
"""Backup and restore: a consistent copy, and a restore that opens a new epoch.

The end-to-end case is the one that matters: a village restored from an old backup
syncs again, the county keeps what the lost copy sent, gets what the restored node
writes, and nothing forks (SPEC §3.5).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.errors import StorageError
from node.store.backup import backup, restore
from node.store.store import NodeStore
from protocol import NodeId
from tests.node.sync.network import County, loopback_county

VILLAGE = NodeId.for_code("440104001002")
V1, T = "440104001002", "440104001"


def add_people(store: NodeStore, n: int) -> list[str]:
    ids = []
    for i in range(n):
        rid = store.new_id("person")
        store.write([store.upsert_op("person", rid, {"name": f"人{i}"})])
        ids.append(rid)
    return ids


def test_a_restore_opens_a_new_epoch_above_the_replaced_one(
    store: NodeStore, tmp_path: Path
) -> None:
    add_people(store, 3)
    assert backup(store, tmp_path / "b.db") == 4
    lost = add_people(store, 2)  # written after the backup: the lost copy's ids
    data_dir = store.data_dir
    store.close()
    done = restore(data_dir, tmp_path / "b.db")
    assert (done.epoch, done.backup_head) == (2, 4)
    assert done.replaced is not None and done.replaced.exists()
    again = NodeStore.open(data_dir)
    try:
        log = again.changelog
        assert (log.log.epoch, log.head_seq) == (2, 1)
        first = next(again.entries())
        old_head = next(again.entries(4, 4, epoch=1))
        assert first.flags & 0x01 and first.prev_hash == old_head.hash
        fresh = add_people(again, 2)
        assert not set(fresh) & set(lost)  # ids name their epoch
        assert again.rebuild_hash() == again.records_hash()
        assert again.verify_log() == 3
    finally:
        again.close()


def test_restoring_the_same_backup_twice_never_reuses_an_epoch(
    store: NodeStore, tmp_path: Path
) -> None:
    add_people(store, 1)
    backup(store, tmp_path / "b.db")
    data_dir = store.data_dir
    store.close()
    assert restore(data_dir, tmp_path / "b.db").epoch == 2
    assert restore(data_dir, tmp_path / "b.db").epoch == 3


def test_a_backup_never_overwrites_a_file(store: NodeStore, tmp_path: Path) -> None:
    (tmp_path / "b.db").write_bytes(b"keep me")
    with pytest.raises(StorageError) as caught:
        backup(store, tmp_path / "b.db")
    assert caught.value.code == "backup_exists"
    assert (tmp_path / "b.db").read_bytes() == b"keep me"


def test_the_backup_file_is_private(store: NodeStore, tmp_path: Path) -> None:
    backup(store, tmp_path / "b.db")
    assert (tmp_path / "b.db").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("case", ["missing", "not_sqlite", "other_node"])
def test_a_bad_backup_changes_nothing(store: NodeStore, tmp_path: Path, case: str) -> None:
    add_people(store, 2)
    before = store.records_hash()
    source = tmp_path / "b.db"
    if case == "not_sqlite":
        source.write_bytes(b"not a database" * 100)
    elif case == "other_node":
        other = NodeStore.init(tmp_path / "o", NodeId.for_code("440104001003"), "别村")
        backup(other, source)
        other.close()
    data_dir = store.data_dir
    store.close()
    with pytest.raises(StorageError) as caught:
        restore(data_dir, source)
    expected = {"missing": "backup_missing", "not_sqlite": "backup_unsealed"}
    assert caught.value.code == expected.get(case, "backup_other_node")
    assert caught.value.zh and caught.value.en
    again = NodeStore.open(data_dir)
    try:
        assert again.records_hash() == before and again.changelog.log.epoch == 1
    finally:
        again.close()
    assert not (data_dir / "restoring").exists()


def test_the_commands_back_up_and_restore(
    store: NodeStore, tmp_path: Path, runner: CliRunner
) -> None:
    add_people(store, 2)
    data_dir = str(store.data_dir)
    store.close()
    target = str(tmp_path / "b.db")
    made = runner.invoke(cli, ["node", "backup", "--to", target, "--data-dir", data_dir])
    assert made.exit_code == 0, made.output
    refused = runner.invoke(cli, ["node", "restore", "--from", target, "--data-dir", data_dir])
    assert refused.exit_code != 0 and "--yes" in refused.output
    done = runner.invoke(
        cli, ["--lang", "en", "node", "restore", "--from", target, "--yes", "--data-dir", data_dir]
    )
    assert done.exit_code == 0, done.output
    assert "New epoch 2" in done.output


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {T: [V1]}) as c:
        yield c


def held(county: County, log: str) -> list[int]:
    rows = county.county.store.db.execute(
        "SELECT seq FROM received_entries WHERE log = ? ORDER BY seq", [log]
    )
    return [seq for (seq,) in rows]


def test_a_restored_village_syncs_on_in_a_new_epoch(county: County, tmp_path: Path) -> None:
    village = county.villages[V1]
    add_people(village, 2)
    backup(village, tmp_path / "b.db")
    add_people(village, 3)  # these reach the county, then the PC dies
    county.client(V1).sync_round()
    county.client(T).sync_round()
    assert held(county, f"village:{V1}#1") == [1, 2, 3, 4, 5, 6]
    data_dir = village.data_dir
    village.close()
    restore(data_dir, tmp_path / "b.db")
    county.villages[V1] = restored = NodeStore.open(data_dir)
    add_people(restored, 2)
    report = county.client(V1).sync_round()
    assert report.pushed_entries == 3
    county.client(T).sync_round()
    assert held(county, f"village:{V1}#1") == [1, 2, 3, 4, 5, 6]  # the lost copy's, kept
    assert held(county, f"village:{V1}#2") == [1, 2, 3]
    county.client(V1).sync_round()
    assert county.client(V1).sync_round().idle


def test_new_epoch_command_closes_the_log(store: NodeStore, runner: CliRunner) -> None:
    add_people(store, 1)
    data_dir = str(store.data_dir)
    store.close()
    refused = runner.invoke(cli, ["node", "new-epoch", "--reason", "fork", "--data-dir", data_dir])
    assert refused.exit_code != 0 and "--yes" in refused.output
    done = runner.invoke(
        cli,
        ["--lang", "en", "node", "new-epoch", "--reason", "fork", "--yes", "--data-dir", data_dir],
    )
    assert done.exit_code == 0, done.output
    assert f"writing on in village:{VILLAGE.code}#2" in done.output
