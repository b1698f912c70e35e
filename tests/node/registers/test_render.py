# SPDX-License-Identifier: Apache-2.0
"""CSV opens in Excel on a Chinese PC; the .xlsx form prints with title, headings, signatures."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from node.registers import (
    Column,
    Register,
    build_monthly_change_report,
    build_register,
    register_names,
    render_csv,
    render_xlsx,
)
from tests.node.registers.sample import REPORTER_NAME, Village


def csv_text(register: Register) -> str:
    buffer = io.StringIO(newline="")
    render_csv(register, buffer)
    return buffer.getvalue()


def test_csv_has_bom_title_and_chinese_headings(village: Village, tmp_path: Path) -> None:
    register = build_register(village.store.db, "marriages", "2026-03")
    path = tmp_path / "marriages.csv"
    with path.open("w", encoding="utf-8", newline="") as fp:
        render_csv(register, fp)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert ["测试村新婚登记册（2026年3月）"] == rows[0]
    assert register.headings == rows[1]
    assert 2 + len(register.rows) == len(rows)
    assert "王芳" == rows[2][1]


def test_csv_keeps_id_numbers_as_text_and_defuses_formulas(village: Village) -> None:
    marriages = list(
        csv.reader(io.StringIO(csv_text(build_register(village.store.db, "marriages", "2026-03"))))
    )
    # A leading tab keeps Excel from rounding the 18 digits to 4.40104E+17.
    assert "\t440104199504020021" == marriages[2][2]
    complaints = list(
        csv.reader(io.StringIO(csv_text(build_register(village.store.db, "complaints", "2026-03"))))
    )
    content = complaints[1].index("内容摘要")
    assert "'=询问二孩登记需要哪些材料" == complaints[2][content]


def test_csv_sections_follow_the_register(village: Village) -> None:
    rows = list(
        csv.reader(io.StringIO(csv_text(build_register(village.store.db, "supplies", "2026-03"))))
    )
    at = rows.index(["药具库存台账"])
    assert [] == rows[at - 1]
    assert ["药具名称", "上月结存", "本月入库", "本月发放", "本月结存"] == rows[at + 1]
    assert ["避孕套", "90", "50", "8", "132"] == rows[at + 2]


def test_xlsx_round_trip(village: Village, tmp_path: Path) -> None:
    register = build_register(village.store.db, "supplies", "2026-03")
    path = tmp_path / "supplies.xlsx"
    render_xlsx(register, path)
    ws = openpyxl.load_workbook(path).worksheets[0]
    width = len(register.columns)
    assert "测试村避孕药具发放登记册（2026年3月）" == ws.cell(1, 1).value
    assert f"A1:{openpyxl.utils.get_column_letter(width)}1" in {
        str(r) for r in ws.merged_cells.ranges
    }
    headings = [ws.cell(2, col).value for col in range(1, width + 1)]
    assert register.headings == headings
    assert all(ws.cell(2, col).font.b for col in range(1, width + 1))
    assert [1, "李娜", "440104199208150042", "避孕套", 5, "2026-03-05"] == [
        ws.cell(3, col).value for col in range(1, 7)
    ]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    flat = [v for row in values for v in row if v is not None]
    assert "药具库存台账" in flat
    assert ["避孕套", 90, 50, 8, 132] in [row[:5] for row in values]
    assert {"填报人：", "审核人：", "填报日期：      年    月    日"} <= set(flat)
    assert all(
        ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width >= 6
        for c in range(1, width + 1)
    )
    assert ws.column_dimensions["C"].width >= 20  # 18-digit ID numbers fit


def test_xlsx_keeps_formula_like_text_as_text(village: Village, tmp_path: Path) -> None:
    path = tmp_path / "complaints.xlsx"
    render_xlsx(build_register(village.store.db, "complaints", "2026-03"), path)
    ws = openpyxl.load_workbook(path).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row if c.value == "=询问二孩登记需要哪些材料"]
    assert 1 == len(cells) and "s" == cells[0].data_type
    assert REPORTER_NAME not in str([[c.value for c in row] for row in ws.iter_rows()])


@pytest.mark.parametrize("name", [*register_names(), "monthly_changes"])
def test_rendering_is_deterministic(village: Village, tmp_path: Path, name: str) -> None:
    db = village.store.db
    if name == "monthly_changes":
        register = build_monthly_change_report(db, "2026-01")
    else:
        register = build_register(db, name, "2026Y" if name == "floating_births" else "2026-03")
    render_xlsx(register, tmp_path / "a.xlsx")
    buffer = io.BytesIO()
    render_xlsx(register, buffer)
    assert (tmp_path / "a.xlsx").read_bytes() == buffer.getvalue()
    assert csv_text(register) == csv_text(register)


def test_empty_register_renders(tmp_path: Path) -> None:
    register = Register("死亡登记册", (Column("no", "序号"), Column("name", "姓名")), [])
    render_xlsx(register, tmp_path / "empty.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "empty.xlsx").worksheets[0]
    assert ["死亡登记册", None] == [ws.cell(1, 1).value, ws.cell(1, 2).value]
    assert ["序号", "姓名"] == [ws.cell(2, 1).value, ws.cell(2, 2).value]
    assert "\ufeff死亡登记册\r\n序号,姓名\r\n" == csv_text(register)


PREFIXES = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\tcmd", "\rcmd"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def hostile_register(village: str = "测试村") -> Register:
    columns = (Column("no", "序号"), Column("text", "=内容"))
    rows = [{"no": n, "text": text} for n, text in enumerate(PREFIXES, start=1)]
    return Register("信访登记册", columns, rows, village=village, month="2026-03")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_formula_prefix_is_neutralised_in_csv(prefix: str) -> None:
    """Issue 17: = + - @ tab and CR each start a formula in a spreadsheet; none survives."""
    rows = list(csv.reader(io.StringIO(csv_text(hostile_register()).removeprefix("\ufeff"))))
    cell = rows[2 + PREFIXES.index(prefix)][1]
    assert not cell.startswith(DANGEROUS)
    assert cell.endswith(prefix[1:])


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_formula_prefix_is_text_in_xlsx(prefix: str, tmp_path: Path) -> None:
    path = tmp_path / "hostile.xlsx"
    render_xlsx(hostile_register(), path)
    ws = openpyxl.load_workbook(path).worksheets[0]
    cell = ws.cell(3 + PREFIXES.index(prefix), 2)
    assert cell.data_type == "s" and str(cell.value).endswith(prefix[1:])


def test_titles_headings_and_sheet_names_are_neutralised(tmp_path: Path) -> None:
    """Issue 13 fact 12: the village name in the title row is neutralised like a cell."""
    register = Register(
        "登记册[1]/*?:\\\x1b",
        (Column("no", "序号"), Column("text", "@标题")),
        [{"no": 1, "text": "正常\x00内容"}],
        village='=HYPERLINK("http://x","点我")',
        month="2026-03",
    )
    lines = list(csv.reader(io.StringIO(csv_text(register).removeprefix("\ufeff"))))
    assert lines[0][0].startswith("'=HYPERLINK") and lines[1][1] == "'@标题"
    assert lines[2][1] == "正常\\x00内容"
    path = tmp_path / "t.xlsx"
    render_xlsx(register, path)  # a NUL in a cell would make openpyxl refuse the file
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws.cell(1, 1).data_type == "s" and ws.cell(2, 2).data_type == "s"
    assert not any(ch in ws.title for ch in "[]:*?/\\\x1b")
