# SPDX-License-Identifier: Apache-2.0
"""Issue 12 item 6: after `renkou node restore` or a copy put back by hand, the status
(CLI and the sync status page) says what happened: when, from which backup, which
changes this PC no longer has (upstream holds them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.pages.accounts import add_operator
from node.server import create_app
from node.store.accounts import OperatorStore
from node.store.store import NodeStore
from tests.node.pages.helpers import ACCOUNTS, PASSWORD, START_MS, sign_in
from tests.node.sync.faults import copy_node, write
from tests.node.sync.network import County, SimClock, loopback_county

V1, T = "440104001002", "440104001"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {T: [V1]}, clock=SimClock()) as c:
        yield c


def _run(*args: str) -> str:
    done = CliRunner().invoke(cli, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def _page(store: NodeStore) -> str:
    add_operator(OperatorStore(store.db), ACCOUNTS["village_officer"], "village_officer",
                 PASSWORD, START_MS)  # fmt: skip
    client = create_app({"RENKOU_DATA_DIR": str(store.data_dir)}).test_client()
    sign_in(client)
    return client.get("/sync-status").get_data(as_text=True)


def test_a_restore_says_when_from_which_backup_and_what_this_pc_lacks(
    county: County, tmp_path: Path
) -> None:
    village = county.villages[V1]
    write(village, 3)  # entries 2..4 (1 is the install)
    data_dir = str(village.data_dir)
    _run("node", "backup", "--to", str(tmp_path / "v1-monday.db"), "--data-dir", data_dir)
    write(village, 2)  # 5..6: on the lost PC only, and sent upstream
    county.client(V1).sync_round()
    village.close()
    _run("node", "restore", "--from", str(tmp_path / "v1-monday.db"), "--yes",
         "--data-dir", data_dir)  # fmt: skip
    shown = _run("node", "status", "--data-dir", data_dir)
    assert "从备份 v1-monday.db 恢复" in shown and "新的日志周期 2" in shown
    assert f"village:{V1}#1 的第 5-6 条变更已不在本机" in shown
    restored = NodeStore.open(village.data_dir, clock=county.clock)
    county.villages[V1] = restored
    page = _page(restored)
    assert 'id="restores"' in page and "从备份 v1-monday.db 恢复" in page and "第 5-6 条" in page


def test_a_copy_put_back_by_hand_is_told_when_sync_finds_it(county: County, tmp_path: Path) -> None:
    village = county.villages[V1]
    write(village, 2)
    county.client(V1).sync_round()  # acknowledged through 3
    copy = copy_node(village, tmp_path / "copy")
    write(village, 4)  # 4..7 sent by the PC that was then lost
    county.client(V1).sync_round()
    village.close()
    stale = NodeStore.open(copy, clock=county.clock)
    county.villages[V1] = stale
    county.client(V1).sync_round()  # the parent holds more: a new epoch, and it says so
    shown = _run("node", "status", "--data-dir", str(copy))
    assert "本机数据库是旧副本" in shown
    assert f"village:{V1}#1 的第 4-7 条变更已不在本机" in shown
