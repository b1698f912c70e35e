# SPDX-License-Identifier: Apache-2.0
"""CSV and .xlsx with the official Chinese headings, read back as written."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from county_aggregator.reports import build_report, render_report_csv, write_report
from county_aggregator.reports.cli import add_report_command
from tests.county_aggregator.reports.fixtures import COUNTY, A, B, create_merged

TABLE2_HEADINGS = [
    "区划代码", "单位名称", "层级", "期初户籍人口数", "出生人数合计", "出生男", "出生女", "一孩男",
    "一孩女", "二孩男", "二孩女", "三孩及以上男", "三孩及以上女", "死亡人数", "女性初婚人数",
    "户籍迁入人数", "户籍迁出人数", "期末户籍人口数",
]  # fmt: skip


def test_csv_round_trip(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table2", period="2026H1")
    buffer = io.StringIO(newline="")
    render_report_csv(report, buffer)
    text = buffer.getvalue()
    assert text.startswith("\ufeff")  # Excel on a Chinese PC reads it as UTF-8
    lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert lines[0] == [
        "表2 户籍人口自然变动及女性初婚情况 2026统计年度上半年（2025年10月1日至2026年3月31日）"
    ]
    assert lines[1] == TABLE2_HEADINGS
    county = lines[2]
    assert county[:3] == [COUNTY, "越秀区", "县（市、区）合计"]
    assert [int(v) for v in county[3:]] == [report.value(COUNTY, c.key) for c in report.columns]
    # A 12-digit village code stays text in Excel (a leading tab, shown as nothing).
    village = lines[4]
    assert village[0] == "\t" + A and len(lines) == 2 + len(report.rows)


def test_xlsx_round_trip(merged: sqlite3.Connection, tmp_path: Path) -> None:
    report = build_report(merged, "table3", period="2026H1")
    path = tmp_path / "t3.xlsx"
    write_report(report, "xlsx", path)
    sheet = load_workbook(path).worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][0].startswith("表3 户籍人口已婚育龄夫妇节育情况 2026统计年度上半年")
    assert rows[1][:5] == ["区划代码", "单位名称", "层级", "已婚育龄妇女数", "宫内节育器（上环）"]
    assert rows[1][-1] == "综合节育率（%）"
    body = rows[2 : 2 + len(report.rows)]
    assert [r[0] for r in body] == [r.key for r in report.rows]
    assert body[0][3] == 8 and body[0][-1] == "62.5"  # the rate is text, not a float
    assert any("审核人" in str(v) for r in rows for v in r if v)
    again = tmp_path / "again.xlsx"
    write_report(build_report(merged, "table3", period="2026H1"), "xlsx", again)
    assert path.read_bytes() == again.read_bytes()  # deterministic: re-creatable


def test_list_csv(merged: sqlite3.Connection) -> None:
    buffer = io.StringIO(newline="")
    render_report_csv(build_report(merged, "benefit-changes", period="2026H1"), buffer)
    lines = list(csv.reader(io.StringIO(buffer.getvalue().removeprefix("\ufeff"))))
    assert lines[1][:4] == ["乡镇（街道）代码", "村（居）代码", "姓名", "身份证号码"]
    assert lines[2][3] == "\t440104195202020012" and lines[2][5] == "死亡"


@pytest.fixture
def county_group() -> click.Group:
    @click.group()
    def county() -> None:
        """Stand-in for county_aggregator.cli's group."""

    return add_report_command(county)


@pytest.fixture
def merged_file(tmp_path: Path) -> Path:
    path = tmp_path / "county.db"
    create_merged(sqlite3.connect(path)).close()
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli(county_group: click.Group, merged_file: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"monthly.{fmt}"
    args = ["report", "monthly", "--period", "2026-03", "--format", fmt, "--out", str(out)]
    result = CliRunner().invoke(county_group, [*args, "--merged", str(merged_file)])
    assert result.exit_code == 0, result.output
    assert "人口和计划生育月报" in result.output and out.exists()
    if fmt == "csv":
        text = out.read_text(encoding="utf-8-sig")
        assert "出生" in text and B in text


def test_cli_bad_period(county_group: click.Group, merged_file: Path, tmp_path: Path) -> None:
    args = ["report", "table2", "--period", "2026-03", "--out", str(tmp_path / "x.xlsx")]
    result = CliRunner().invoke(county_group, [*args, "--merged", str(merged_file)])
    assert result.exit_code == 1
    assert "period.kind" in result.output and "2026H1" in result.output
    assert not (tmp_path / "x.xlsx").exists()


def test_cli_unknown_report(county_group: click.Group, merged_file: Path, tmp_path: Path) -> None:
    args = ["report", "table9", "--period", "2026H1", "--out", str(tmp_path / "x.csv")]
    result = CliRunner().invoke(county_group, [*args, "--merged", str(merged_file)])
    assert result.exit_code == 2 and "table9" in result.output


def test_cli_not_a_merged_db(county_group: click.Group, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    args = ["report", "table2", "--period", "2026H1", "--out", str(tmp_path / "x.csv")]
    result = CliRunner().invoke(county_group, [*args, "--merged", str(empty)])
    assert result.exit_code == 1 and "merged_records" in result.output
