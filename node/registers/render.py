# SPDX-License-Identifier: Apache-2.0
"""Rendering a built register to CSV and to an .xlsx form for printing and signing.

Both renderers are deterministic: the same register gives the same bytes, so a file
printed and filed last month can be re-created and compared. They only format; what a
register contains is decided by the build functions (style.md rule 28).
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from node.domain.text import escape_refused
from node.registers.model import Column, Register

# Strings Excel would turn into numbers, losing digits (18-digit ID numbers keep only 15
# significant digits) or leading zeros (phone area codes).
_LONG_DIGITS = re.compile(r"(?:\d{12,}[\dXx]?|0\d+)\Z")
# A cell starting with one of these is a formula to Excel: a complaint's text typed by
# a member of the public must never run as one (CSV/formula injection). Titles, headings
# and sheet names go through the same door as data cells: a village named "=HYPERLINK(..)"
# prints its name, it does not run it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses these in a sheet name; the apostrophe may not start or end one.
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
MIN_WIDTH, MAX_WIDTH = 6, 40
FOOTER = ("填报人：", "审核人：", "填报日期：      年    月    日")


def render_csv(register: Register, fp: IO[str]) -> None:
    """Write ``register`` as CSV: title line, headings, rows, then any sections.

    Args:
        register: a built register or change report.
        fp: a text stream opened with ``encoding="utf-8", newline=""`` (not
            "utf-8-sig": the BOM is written here).
    """
    # Excel on a Chinese Windows PC reads a CSV without a byte order mark in the ANSI
    # code page (GBK), which garbles every Chinese character of a UTF-8 file. The UTF-8
    # BOM is how Excel recognises UTF-8, so the officer's double-click just works.
    fp.write("\ufeff")
    writer = csv.writer(fp, lineterminator="\r\n")
    writer.writerow([_csv_cell(register.full_title)])
    _csv_table(writer, register.columns, register.rows)
    for section in register.sections:
        writer.writerow([])
        writer.writerow([_csv_cell(section.title)])
        _csv_table(writer, section.columns, section.rows)


def _csv_table(writer: Any, columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> None:
    writer.writerow([_csv_cell(c.heading) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(c.key)) for c in columns])


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if _LONG_DIGITS.match(value):
        # A leading tab makes Excel keep the cell as text; it shows nothing for it.
        return "\t" + value
    return neutralise(value)


def neutralise(text: str) -> str:
    """Text as a cell, title or heading prints it: control characters escaped, and a
    leading formula character (= + - @ tab CR) defused with an apostrophe."""
    text = escape_refused(text)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def sheet_title(title: str) -> str:
    """A sheet name Excel accepts, neutralised like a cell: at most 31 characters."""
    name = escape_refused(title, keep_newlines=False).translate(_SHEET_FORBIDDEN).strip("'")
    return name[:31] or "Sheet1"


def render_xlsx(register: Register, target: str | os.PathLike[str] | IO[bytes]) -> None:
    """Write ``register`` as an .xlsx form: one sheet, ready to print and sign.

    The title row names the village and month and spans every column; headings are
    bold; the tables under the register (stock ledger, roster) follow it; the last row
    leaves room for 填报人 / 审核人 / 填报日期, the signatures the regulations require.

    Args:
        register: a built register or change report.
        target: a file path, or a binary stream the bytes are written to.
    """
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = sheet_title(register.title)
    width = max([len(register.columns), *(len(s.columns) for s in register.sections)])
    _title_row(ws, 1, register.full_title, width, size=14)
    ws.freeze_panes = "A3"
    ws.print_title_rows = "2:2"
    row = _table(ws, 2, register.columns, register.rows)
    for section in register.sections:
        _title_row(ws, row + 1, section.title, len(section.columns), size=12)
        row = _table(ws, row + 2, section.columns, section.rows)
    _widths(ws)  # before the footer: the signature line must not widen a column
    _footer(ws, row + 1, width)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    fit = ws.sheet_properties.pageSetUpPr
    assert fit is not None  # a new sheet always has one; typed Optional for loaded files
    fit.fitToPage = True
    _save(wb, register, target)


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _title_row(ws: Worksheet, row: int, text: str, span: int, *, size: int) -> None:
    cell = ws.cell(row=row, column=1)
    _text(cell, text)
    cell.font = Font(bold=True, size=size)
    cell.alignment = Alignment(horizontal="center", vertical="center")
    if span > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=span)
    ws.row_dimensions[row].height = 28 if size > 12 else 22


def _table(
    ws: Worksheet, row: int, columns: Sequence[Column], rows: Iterable[dict[str, Any]]
) -> int:
    """Write headings at ``row`` and the rows under them; return the next free row."""
    for col, column in enumerate(columns, start=1):
        cell = ws.cell(row=row, column=col)
        _text(cell, column.heading)
        cell.font = Font(bold=True)
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for data in rows:
        row += 1
        for col, column in enumerate(columns, start=1):
            _value_cell(ws, row, col, data.get(column.key))
    return row + 1


def _value_cell(ws: Worksheet, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col)
    cell.border = _BOX
    if isinstance(value, str):
        _text(cell, value)
        cell.number_format = "@"
        wrap = _display_width(value) > MAX_WIDTH
        cell.alignment = Alignment(vertical="top", wrap_text=wrap)
    else:
        cell.value = "" if value is None else value


def _text(cell: Any, text: str) -> None:
    """Put ``text`` in ``cell`` as a string, never a formula.

    openpyxl takes any string starting with "=" for a formula, so the type is forced to
    string; a cell of type string is never evaluated by Excel, so no apostrophe is
    printed. Control characters (which openpyxl refuses to write) are escaped.
    """
    cell.value = escape_refused(text)
    cell.data_type = "s"


def _footer(ws: Worksheet, row: int, width: int) -> None:
    columns = (1, max(2, width // 3 + 1), max(3, 2 * width // 3 + 1))
    for col, text in zip(columns, FOOTER, strict=True):
        ws.cell(row=row + 1, column=col, value=text).font = Font(bold=True)
    ws.row_dimensions[row + 1].height = 30


def _widths(ws: Worksheet) -> None:
    """Fit each column to its widest cell, counting a Chinese character as two."""
    widest: dict[int, int] = {}
    merged = {(r.min_row, r.min_col) for r in ws.merged_cells.ranges}
    for cells in ws.iter_rows():
        for cell in cells:
            if cell.value is None or (cell.row, cell.column) in merged:
                continue
            col = int(cell.column or 1)
            widest[col] = max(widest.get(col, 0), _display_width(str(cell.value)))
    for col, chars in sorted(widest.items()):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = min(max(chars + 2, MIN_WIDTH), MAX_WIDTH)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _stamp(month: str) -> datetime:
    """The fixed timestamp of a register's file: the first day of its month, or of its
    statistical year (2026Y: 1 October 2025); 2000-01-01 without a period."""
    if month.endswith("Y") and month[:4].isdigit():
        return datetime(int(month[:4]) - 1, 10, 1)
    if len(month) == 7:
        return datetime.fromisoformat(f"{month}-01")
    return datetime(2000, 1, 1)


def _save(wb: Workbook, register: Register, target: Any) -> None:
    """Save with fixed timestamps so the same register always gives the same bytes.

    openpyxl stamps the document properties and every zip member with the current
    time; both are replaced by the first day of the register's month.
    """
    stamp = _stamp(register.month)
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = wb.properties.lastModifiedBy = "renkou-net"
    wb.properties.title = escape_refused(register.full_title, keep_newlines=False)
    raw = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info.filename))
    if hasattr(target, "write"):
        target.write(out.getvalue())
    else:
        with open(target, "wb") as fh:
            fh.write(out.getvalue())
