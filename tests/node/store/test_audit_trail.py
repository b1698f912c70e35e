# SPDX-License-Identifier: Apache-2.0
"""The audit trail is chained (issue 13, item 8): a row changed or removed from its
middle shows, in ``renkou node status`` too."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.store.audit import first_break, head
from node.store.store import NodeStore
from tests.node.domain.examples import woman_card


@pytest.fixture
def village(tmp_path: Path, runner: CliRunner) -> Path:
    data = tmp_path / "village"
    args = ["node", "init", "--code", "440104001002", "--name", "测试村", "--data-dir", str(data)]
    assert runner.invoke(cli, args).exit_code == 0
    store = NodeStore.open(data)
    try:
        store.audit_many("officer", "read", [("person", f"P{i}") for i in range(5)], "check")
        store.audit("officer", "read", "person", "P9", "visit")
    finally:
        store.close()
    return data


def status(runner: CliRunner, village: Path) -> str:
    result = runner.invoke(cli, ["--lang", "en", "node", "status", "--data-dir", str(village)])
    assert result.exit_code == 0, result.output
    return result.output


def tamper(village: Path, sql: str) -> None:
    store = NodeStore.open(village)
    try:
        store.db.execute(sql)
    finally:
        store.close()


def test_a_whole_trail_verifies(runner: CliRunner, village: Path) -> None:
    store = NodeStore.open(village)
    try:
        assert first_break(store.db) is None
        rows, chain = head(store.db)
    finally:
        store.close()
    assert rows == 6
    assert f"audit:     6 rows, chain whole, head {chain.hex()[:16]}" in status(runner, village)


@pytest.mark.parametrize(
    ("sql", "broken"),
    [
        ("UPDATE audit SET actor = 'someone else' WHERE rowid = 3", 3),
        ("UPDATE audit SET record_id = 'P7' WHERE rowid = 2", 2),
        ("DELETE FROM audit WHERE rowid = 4", 5),
    ],
    ids=["who changed", "which record changed", "a row removed"],
)
def test_a_row_changed_or_removed_in_the_middle_shows(
    runner: CliRunner, village: Path, sql: str, broken: int
) -> None:
    tamper(village, sql)
    store = NodeStore.open(village)
    try:
        assert first_break(store.db) == broken
    finally:
        store.close()
    assert f"ALERT:     audit trail altered at row {broken}" in status(runner, village)


def test_reads_keep_chaining_after_a_card_is_read(village: Path) -> None:
    store = NodeStore.open(village)
    try:
        store.write([store.upsert_op("person", "P1", woman_card(spouse_ref=None))])
        store.read("person", "P1", actor="officer", purpose="visit")
        assert first_break(store.db) is None
        assert head(store.db)[0] == 7
    finally:
        store.close()
