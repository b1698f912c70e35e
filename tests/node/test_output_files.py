# SPDX-License-Identifier: Apache-2.0
"""Issue 13, fact 10 and item 7: what the CLI writes is private, and never over a file
it should not touch.

``--out`` used to overwrite any file, the node's own node.db and keys/node.key
included, and wrote exports 0644 (with the usual umask). Now every output is created
0600 (and the CLI runs under umask 077), an existing file is replaced only with
``--force``, and nothing inside the node's data dir (or over the county's merged
database) is written, with or without it.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from deploy.cli import cli
from node.output_files import write_output
from node.store.store import NodeStore
from tests.county_aggregator.reports.fixtures import create_merged

VILLAGE = "440104001002"


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The umask a careless PC has: without our own care, files come out 0644."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def village(tmp_path: Path, runner: CliRunner) -> Path:
    data = tmp_path / "village"
    args = ["node", "init", "--code", VILLAGE, "--name", "测试村", "--data-dir", str(data)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    return data


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def audit_rows(village: Path) -> int:
    store = NodeStore.open(village)
    try:
        return int(store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0])
    finally:
        store.close()


def register(runner: CliRunner, village: Path, out: Path, *extra: str) -> Result:
    args = ["node", "register", "births", "--month", "2026-03", "--format", "csv"]
    return runner.invoke(cli, [*args, "--out", str(out), "--data-dir", str(village), *extra])


def test_an_export_is_private_to_its_user(runner: CliRunner, village: Path, tmp_path: Path) -> None:
    out = tmp_path / "births.csv"
    result = register(runner, village, out)
    assert result.exit_code == 0, result.output
    assert mode(out) == 0o600
    assert os.umask(0o022) == 0o022  # the command's umask 077 ended with it


def test_an_existing_file_is_replaced_only_with_force(
    runner: CliRunner, village: Path, tmp_path: Path
) -> None:
    out = tmp_path / "births.csv"
    out.write_text("an officer's own notes\n", encoding="utf-8")
    out.chmod(0o644)
    audited = audit_rows(village)
    refused = register(runner, village, out)
    assert refused.exit_code == 1
    assert "out_exists" in refused.output and "--force" in refused.output
    assert out.read_text(encoding="utf-8") == "an officer's own notes\n"
    assert audit_rows(village) == audited  # refused before anything was printed
    forced = register(runner, village, out, "--force")
    assert forced.exit_code == 0, forced.output
    assert "出生" in out.read_text(encoding="utf-8-sig") and mode(out) == 0o600


@pytest.mark.parametrize("inside", ["node.db", "keys/node.key", "keys/new.xlsx", "x.csv"])
def test_nothing_inside_the_data_dir_is_written_even_with_force(
    runner: CliRunner, village: Path, inside: str
) -> None:
    """Before, ``--out data/node.db`` replaced the node's database with a register."""
    target = village / inside
    gc.collect()  # a store the init left to the collector checkpoints when collected
    before = {p: digest(p) for p in village.rglob("*") if p.is_file()}
    for extra in ((), ("--force",)):
        result = register(runner, village, target, *extra)
        assert result.exit_code == 1 and "out_protected" in result.output, result.output
    assert {p: digest(p) for p in village.rglob("*") if p.is_file()} == before


def test_a_link_into_the_data_dir_is_refused(
    runner: CliRunner, village: Path, tmp_path: Path
) -> None:
    link = tmp_path / "innocent.csv"
    link.symlink_to(village / "node.db")
    before = digest(village / "node.db")
    assert register(runner, village, link, "--force").exit_code == 1
    assert digest(village / "node.db") == before


def test_a_template_and_a_county_report_follow_the_same_rules(
    runner: CliRunner, village: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "人员信息卡.xlsx"
    args = ["node", "template", "person", "--data-dir", str(village), "--out"]
    assert runner.invoke(cli, [*args, str(sheet)]).exit_code == 0
    assert mode(sheet) == 0o600
    assert runner.invoke(cli, [*args, str(sheet)]).exit_code == 1  # exists
    assert runner.invoke(cli, [*args, str(village / "t.xlsx")]).exit_code == 1
    merged = tmp_path / "merged.db"
    create_merged(sqlite3.connect(merged)).close()
    before = digest(merged)
    report = ["county", "report", "monthly", "--period", "2026-03", "--merged", str(merged)]
    for target in (merged, Path(f"{merged}-wal")):
        result = runner.invoke(cli, [*report, "--format", "csv", "--force", "--out", str(target)])
        assert result.exit_code == 1 and "out_protected" in result.output, result.output
    assert digest(merged) == before
    out = tmp_path / "月报.csv"
    assert runner.invoke(cli, [*report, "--format", "csv", "--out", str(out)]).exit_code == 0
    assert mode(out) == 0o600


def test_a_failed_forced_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--force`` writes beside the old file and renames: a write that fails midway
    (the disk full at the sync) leaves the old file whole, and no part file behind."""
    out = tmp_path / "report.csv"
    out.write_bytes(b"old")

    def disk_full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        write_output(out, b"new", force=True)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


def test_an_output_is_created_private_whatever_the_umask(tmp_path: Path) -> None:
    """Called outside the CLI (the umask 022 of the fixture), still 0600."""
    out = write_output(tmp_path / "r.csv", b"x", force=False)
    assert mode(out) == 0o600
    again = write_output(out, b"y", force=True)
    assert mode(again) == 0o600 and again.read_bytes() == b"y"
