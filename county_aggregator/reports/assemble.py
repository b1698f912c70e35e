# SPDX-License-Identifier: Apache-2.0
"""From what the scan found to a :class:`Report`: rows, sums, formulas, percentages.

Townships and the county are sums of their villages (never counted separately), so a
table always adds up down its columns; formulas and percentages are computed per row
from that row's figures, so they also hold across every row.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from county_aggregator.reports.engine import Scanned
from county_aggregator.reports.model import (
    LEVEL_LABELS,
    Cell,
    RecordRef,
    RecordsView,
    Report,
    ReportColumn,
    ReportRow,
)
from county_aggregator.reports.periods import Period
from county_aggregator.reports.plan import Layout, Row
from county_aggregator.reports.rules import (
    SUBJECT_KIND,
    Count,
    Formula,
    ListingDef,
    Percent,
    Sum,
    TableDef,
)
from node.domain.divisions import division_name
from node.registers.labels import VALUE_LABELS

LEAD = (
    ReportColumn("code", "区划代码"),
    ReportColumn("name", "单位名称"),
    ReportColumn("level", "层级"),
)
NOT_APPLICABLE = "—"


def area_rows(
    villages: set[str], levels: Sequence[str], names: Mapping[str, str]
) -> tuple[list[ReportRow], dict[str, list[str]]]:
    """Rows in print order (county, then each township followed by its villages) and,
    per row, the villages it sums."""
    rows: list[ReportRow] = []
    members: dict[str, list[str]] = {}
    for county in sorted({v[:6] for v in villages}):
        in_county = sorted(v for v in villages if v[:6] == county)
        members[county] = in_county
        if "county" in levels:
            rows.append(_area(county, "county", names))
        for township in sorted({v[:9] for v in in_county}):
            in_township = [v for v in in_county if v[:9] == township]
            members[township] = in_township
            if "township" in levels:
                rows.append(_area(township, "township", names))
            for village in in_township:
                members[village] = [village]
                if "village" in levels:
                    rows.append(_area(village, "village", names))
    return rows, members


def _area(code: str, level: str, names: Mapping[str, str]) -> ReportRow:
    return ReportRow(code, level, names.get(code) or division_name(code) or code)


def assemble_table(
    defn: TableDef, period: Period, found: Scanned, villages: set[str], names: Mapping[str, str]
) -> Report:
    """Sum the villages' counts up to townships and the county; evaluate the formulas."""
    rows, members = area_rows(villages, defn.levels, names)
    cells: dict[tuple[str, str], Cell] = {}
    evaluators = _evaluators(defn)
    for row in rows:
        values: dict[str, int | str] = {}
        for i, column in enumerate(defn.columns):
            if isinstance(column.rule, Count | Sum):
                parts = [found.hits[i].get(v, ()) for v in members[row.key]]
                records: Sequence[RecordRef] = parts[0] if len(parts) == 1 else RecordsView(parts)
                if isinstance(column.rule, Sum):
                    cell = Cell(_sum(found, column.rule.fact, parts), records)
                else:
                    cell = Cell(sum(len(p) for p in parts), records)
            else:
                value, operands = evaluators[column.key](values)
                traced = [cells[(row.key, k)].records for k in operands]
                cell = Cell(value, RecordsView(traced, dedup=True))
            cells[(row.key, column.key)] = cell
            values[column.key] = cell.value
    lead_values = {
        r.key: {"code": r.key, "name": r.label, "level": LEVEL_LABELS[r.level]} for r in rows
    }
    columns = tuple(ReportColumn(c.key, c.heading) for c in defn.columns)
    return Report(
        defn.name, defn.title, period, LEAD, columns, tuple(rows), cells, lead_values, defn.notes
    )


def _sum(found: Scanned, fact: str, parts: Sequence[Sequence[RecordRef]]) -> int:
    """Add up ``fact`` (an integer, an amount) of the persons counted; none counts 0."""
    table, default = found.layouts[SUBJECT_KIND].facts[fact]
    total = 0
    for part in parts:
        for _kind, key in part:
            value = table.get(key, default)
            total += value if type(value) is int else 0
    return total


Evaluator = Callable[[dict[str, Any]], tuple[int | str, list[str]]]


def _evaluators(defn: TableDef) -> dict[str, Evaluator]:
    """Compile every formula and percentage, checking they only use earlier columns."""
    out: dict[str, Evaluator] = {}
    earlier: set[str] = set()
    for column in defn.columns:
        rule = column.rule
        if isinstance(rule, Formula):
            out[column.key] = compile_formula(rule.expr, earlier)
        elif isinstance(rule, Percent):
            out[column.key] = _percent(rule, earlier)
        earlier.add(column.key)
    return out


def compile_formula(expr: str, known: set[str]) -> Evaluator:
    """Integer arithmetic over column keys, parsed with ``ast`` and never ``eval``-ed.

    Raises:
        ValueError: anything but + - * ( ), integers and keys of earlier columns.
    """
    tree = ast.parse(expr, mode="eval").body
    names: list[str] = []

    def check(node: ast.AST) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            check(node.operand)
        elif isinstance(node, ast.Name) and node.id in known:
            names.append(node.id)
        elif not (isinstance(node, ast.Constant) and type(node.value) is int):
            raise ValueError(f"formula {expr!r}: {ast.unparse(node)!r} is not allowed")

    check(tree)

    def ev(node: ast.AST, values: dict[str, Any]) -> int:
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left, values), ev(node.right, values)
            if isinstance(node.op, ast.Add):
                return a + b
            return a - b if isinstance(node.op, ast.Sub) else a * b
        if isinstance(node, ast.UnaryOp):
            return -ev(node.operand, values)
        if isinstance(node, ast.Name):
            return int(values[node.id])
        return int(node.value)  # type: ignore[attr-defined]  # check(): an int Constant

    operands = list(dict.fromkeys(names))
    return lambda values: (ev(tree, values), operands)


def _percent(rule: Percent, known: set[str]) -> Evaluator:
    for name in (rule.numerator, rule.denominator):
        if name not in known:
            raise ValueError(f"percentage uses {name!r}, not an earlier column")
    operands = [rule.numerator, rule.denominator]
    return lambda values: (
        percent(int(values[rule.numerator]), int(values[rule.denominator]), rule.places),
        operands,
    )


def percent(numerator: int, denominator: int, places: int = 1) -> str:
    """``numerator / denominator * 100`` rounded half away from zero, in integers only."""
    if denominator == 0:
        return NOT_APPLICABLE
    scaled = abs(numerator) * 100 * 10**places
    q = (2 * scaled + abs(denominator)) // (2 * abs(denominator))
    sign = "-" if (numerator < 0) != (denominator < 0) and q else ""
    if not places:
        return f"{sign}{q}"
    return f"{sign}{q // 10**places}.{q % 10**places:0{places}d}"


def assemble_listing(defn: ListingDef, period: Period, found: Scanned) -> Report:
    """One row per selected record, in ``defn.order``; each cell traces to the record
    and, for ``subject.*`` fields, to the person it names."""
    layouts = found.layouts
    kinds = defn.select.kinds
    entries = []
    for kind, row, subject in found.kept:
        layout = layouts[kind]
        sort_key = tuple("" if (v := layout.getter(f)(row)) is None else v for f in defn.order)
        entries.append((sort_key, kind, row, subject))
    entries.sort(key=lambda e: e[0])
    rows: list[ReportRow] = []
    cells: dict[tuple[str, str], Cell] = {}
    for _, kind, row, subject in entries:
        row_key = row[0] if len(kinds) == 1 else f"{kind}/{row[0]}"
        refs: list[RecordRef] = [(kind, row[0])]
        if subject is not None:
            refs.append((SUBJECT_KIND, subject[0]))
        rows.append(ReportRow(row_key, "record", ""))
        for f in defn.fields:
            value = _list_value(f.source, f.labels, layouts[kind], row, layouts, subject)
            cells[(row_key, f.key)] = Cell(value, tuple(refs))
    columns = tuple(ReportColumn(f.key, f.heading) for f in defn.fields)
    return Report(defn.name, defn.title, period, (), columns, tuple(rows), cells, {}, defn.notes)


def _list_value(
    source: str,
    labels: bool,
    layout: Layout,
    row: Row,
    layouts: Mapping[str, Layout],
    subject: Row | None,
) -> int | str:
    name = source
    if source.startswith("subject."):
        name = source.removeprefix("subject.")
        value = None if subject is None else layouts[SUBJECT_KIND].getter(name)(subject)
    else:
        value = layout.getter(source)(row)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if labels:
        return VALUE_LABELS.get(name, {}).get(str(value), str(value))
    return value if isinstance(value, int) else str(value)
