# SPDX-License-Identifier: Apache-2.0
"""Spreadsheets for bulk entry: a template per record kind, and reading one back.

The template's heading row names each field in Chinese as the forms do (a required one
marked ＊), coded fields get a drop-down of their Chinese names, and a second sheet
lists the fields, their codes and an example; the officer fills one record per row. A
filled sheet is read back into records (headings matched to fields by their Chinese
name or by the field's code name), dates from date cells or YYYY-MM-DD text, Chinese
names of codes turned into codes, and then checked and written by node/batch.py.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from node.domain.schemas.fields import Bool, Choice, NestedRecord
from node.errors import FieldProblem, ValidationError
from node.pages.forms import plain_codes
from node.pages.labels import choice_labels, field_label, kind_label, schema_fields

MAX_ROWS = 20_000
REQUIRED_MARK = "＊"
FIRST_DATA_ROW = 2


def _columns(kind: str) -> list[tuple[str, Any]]:
    return [(n, f) for n, f in schema_fields(kind).items() if not isinstance(f, NestedRecord)]


def heading(kind: str, name: str, required: bool) -> str:
    return field_label(kind, name) + (REQUIRED_MARK if required else "")


def write_template(kind: str, target: str | IO[bytes]) -> None:
    """An empty sheet for records of ``kind``, ready to fill in Excel or WPS."""
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = kind_label(kind)[:31]
    guide = wb.create_sheet("填写说明")
    guide.append(["列名", "字段", "必填", "可填的值"])
    for col, (name, f) in enumerate(_columns(kind), start=1):
        title = heading(kind, name, bool(f.required))
        cell = ws.cell(1, col, title)
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = max(12, 2 * len(title) + 2)
        values = _allowed(kind, name, f)
        if values:
            rule = DataValidation(type="list", formula1='"' + ",".join(values) + '"')
            rule.add(f"{cell.column_letter}{FIRST_DATA_ROW}:{cell.column_letter}{MAX_ROWS}")
            ws.add_data_validation(rule)
        hint = "、".join(values) if values else _hint(f)
        guide.append([title, name, "是" if f.required else "否", hint])
    ws.freeze_panes = "A2"
    wb.save(target)


def _allowed(kind: str, name: str, f: Any) -> list[str]:
    if isinstance(f, Bool):
        return ["是", "否"]
    if isinstance(f, Choice):
        return [label for _code, label in choice_labels(kind, name, f.choices)]
    return []


def _hint(f: Any) -> str:
    from node.domain.schemas.fields import IsoDate

    return "日期，如 2026-03-05" if isinstance(f, IsoDate) else ""


def _cell(value: Any) -> Any:
    """A cell as the schema expects it: dates as YYYY-MM-DD, whole numbers as text of
    digits (an ID number typed as a number loses nothing up to 15 digits; longer ones
    must be text, which the schema then checks), everything else as text."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    return text or None


def read_sheet(kind: str, raw: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The records of a filled template with their row numbers, empty rows skipped,
    codes as stored.

    Raises:
        ValidationError: not an .xlsx file, a heading no field has, or too many rows.
    """
    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        raise _refuse(
            "file.not_xlsx", "不是有效的 Excel（.xlsx）文件", "not an .xlsx file"
        ) from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        names = _names(kind, next(rows, ()))
        out: list[tuple[int, dict[str, Any]]] = []
        for number, row in enumerate(rows, start=FIRST_DATA_ROW):
            record = {n: _cell(v) for n, v in zip(names, row, strict=False) if n}
            record = {n: v for n, v in record.items() if v is not None}
            if not record:
                continue  # an empty row (Excel keeps some after the last one)
            if len(out) >= MAX_ROWS:
                raise _refuse("file.too_many", f"一次最多{MAX_ROWS}行", f"at most {MAX_ROWS} rows")
            out.append((number, plain_codes(kind, record)))
        return out
    finally:
        wb.close()


def _names(kind: str, headings: tuple[Any, ...]) -> list[str | None]:
    by_heading = {}
    for name, f in _columns(kind):
        by_heading[field_label(kind, name)] = name
        by_heading[name] = name
        by_heading[heading(kind, name, bool(f.required))] = name
    names: list[str | None] = []
    unknown = []
    for text in headings:
        key = str(text).strip().rstrip(REQUIRED_MARK + "*") if text is not None else ""
        names.append(by_heading.get(key) if key else None)
        if key and key not in by_heading:
            unknown.append(key)
    if unknown:
        raise _refuse(
            "file.unknown_heading",
            f"表头中有不认识的列：{'、'.join(unknown)}（请用下载的模板）",
            f"unknown column headings: {', '.join(unknown)} (use the template)",
        )
    return names


def _refuse(code: str, zh: str, en: str) -> ValidationError:
    return ValidationError([FieldProblem("file", code, zh, en)])
