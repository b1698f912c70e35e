# SPDX-License-Identifier: Apache-2.0
"""The `renkou` command as an officer uses it (click's CliRunner, a real store on disk)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from protocol import sign_object
from protocol.testing import make_node
from tests.node.domain.examples import woman_card


@pytest.fixture
def village(tmp_path: Path, runner: CliRunner) -> Path:
    data = tmp_path / "village"
    result = runner.invoke(
        cli, ["node", "init", "--code", "440104001002", "--name", "测试村", "--data-dir", str(data)]
    )
    assert result.exit_code == 0, result.output
    return data


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["version"])
    assert result.exit_code == 0 and "protocol v1" in result.output


def test_init_bad_code(runner: CliRunner, tmp_path: Path) -> None:
    """Bad input gets a clear bilingual error and nothing is created."""
    result = runner.invoke(
        cli, ["node", "init", "--code", "4401", "--name", "x", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert "error" in result.output and not (tmp_path / "d" / "node.db").exists()


def test_add_and_status(runner: CliRunner, village: Path, tmp_path: Path) -> None:
    card = tmp_path / "card.json"
    card.write_text(json.dumps(woman_card(spouse_ref=None)), encoding="utf-8")
    result = runner.invoke(
        cli,
        [
            "node",
            "add",
            "person",
            "--file",
            str(card),
            "--today",
            "2026-11-28",
            "--data-dir",
            str(village),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "P1"
    status = runner.invoke(cli, ["--lang", "en", "node", "status", "--data-dir", str(village)])
    assert "person 1" in status.output and "head entry 2" in status.output


def test_add_lists_every_problem(runner: CliRunner, village: Path) -> None:
    """Issue 3: rejected with every field's problem listed, in Chinese and English."""
    result = runner.invoke(
        cli,
        ["node", "add", "person", "--file", "-", "--data-dir", str(village)],
        input='{"name": 5}',
    )
    assert result.exit_code == 1
    assert "id_number" in result.output and "此项必填" in result.output
    assert "required" in result.output


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", "\xff"])
def test_add_bad_file(runner: CliRunner, village: Path, payload: str) -> None:
    result = runner.invoke(
        cli, ["node", "add", "person", "--file", "-", "--data-dir", str(village)], input=payload
    )
    assert result.exit_code == 1 and "file" in result.output


def test_data_dir_from_environment(runner: CliRunner, village: Path) -> None:
    result = runner.invoke(cli, ["node", "status"], env={"RENKOU_DATA_DIR": str(village)})
    assert result.exit_code == 0 and "测试村" in result.output


def test_missing_store(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["node", "status", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == 1 and "renkou node init" in result.output


def test_due_lists_the_monthly_report(runner: CliRunner, village: Path) -> None:
    """domain.md 3: the village's monthly change report is due on the 2nd of next month."""
    from node.timeutil import shanghai_today

    today = shanghai_today()
    following = date(today.year + today.month // 12, today.month % 12 + 1, 2)
    result = runner.invoke(
        cli, ["node", "due", "--today", today.isoformat(), "--data-dir", str(village)]
    )
    assert result.exit_code == 0
    assert following.isoformat() in result.output and "村月变更报告单报乡镇" in result.output
    assert f"monthly_change_report/report/{today:%Y-%m}" in result.output


def test_retention_needs_confirmation(runner: CliRunner, village: Path) -> None:
    result = runner.invoke(cli, ["node", "retention", "delete", "P1", "--data-dir", str(village)])
    assert result.exit_code != 0 and "--yes" in result.output


def test_import_signed_schedule(runner: CliRunner, village: Path, tmp_path: Path) -> None:
    """Issue 3: the county publishes a year's schedule as signed metadata; the node checks it."""
    root = make_node("440104")
    schedule = {
        "v": 1,
        "type": "holiday_schedule",
        "year": 2027,
        "holidays": ["2027-01-01"],
        "workdays": [],
        "published": "2026-11-20",
        "source": "国务院办公厅关于2027年部分节假日安排的通知",
    }
    signed = tmp_path / "h.signed"
    signed.write_bytes(sign_object(schedule, root.signing))
    args = ["node", "import-schedule", str(signed), "--data-dir", str(village)]
    refused = runner.invoke(cli, args)
    assert refused.exit_code == 1 and "schedule.not_enrolled" in refused.output
    (village / "keys" / "root.cert").write_bytes(root.cert.raw)
    accepted = runner.invoke(cli, args)
    assert accepted.exit_code == 0, accepted.output
    forged = make_node("440105")
    signed.write_bytes(sign_object(schedule, forged.signing))
    assert runner.invoke(cli, args).exit_code == 1


def test_register_and_report_exports(runner: CliRunner, village: Path, tmp_path: Path) -> None:
    """Issue 3: registers and the monthly change report export as CSV and .xlsx, audited."""
    card = tmp_path / "card.json"
    card.write_text(json.dumps(woman_card(spouse_ref=None)), encoding="utf-8")
    assert (
        runner.invoke(
            cli, ["node", "add", "person", "--file", str(card), "--data-dir", str(village)]
        ).exit_code
        == 0
    )
    from node.timeutil import shanghai_today

    month = shanghai_today().strftime("%Y-%m")
    out = tmp_path / "changes.csv"
    result = runner.invoke(
        cli,
        [
            "node",
            "report",
            "monthly",
            "--month",
            month,
            "--format",
            "csv",
            "--out",
            str(out),
            "--data-dir",
            str(village),
        ],
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    assert "月变更报告单" in text and "张秀英" in text
    xlsx = tmp_path / "m.xlsx"
    result = runner.invoke(
        cli,
        [
            "node",
            "register",
            "marriages",
            "--month",
            month,
            "--out",
            str(xlsx),
            "--data-dir",
            str(village),
        ],
    )
    assert result.exit_code == 0 and xlsx.stat().st_size > 0
    from node.store.store import NodeStore

    store = NodeStore.open(village)
    actions = [r[0] for r in store.db.execute("SELECT action FROM audit").fetchall()]
    store.close()
    assert actions == ["print_report", "print_register"]
