# SPDX-License-Identifier: Apache-2.0
"""Building reports from ``merged_records``: ``build_<name>(db, *, period) -> Report``.

Pure in the sense of style.md rule 28: a build reads the merged database and returns
data; rendering (``render.py``) and signing (``snapshots.py``) are separate steps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from county_aggregator.reports.assemble import assemble_listing, assemble_table
from county_aggregator.reports.definitions import DEFINITIONS
from county_aggregator.reports.engine import scan
from county_aggregator.reports.model import Report
from county_aggregator.reports.periods import Period, check_period_kind, parse_period
from county_aggregator.reports.rules import Definition, ListingDef
from county_aggregator.store_exchange import empty_report_view, has_report_view
from node.errors import NotFoundError


def get_definition(name: str) -> Definition:
    """The definition of report ``name``.

    Raises:
        NotFoundError: no such report (the message lists the names there are).
    """
    try:
        return DEFINITIONS[name]
    except KeyError:
        names = ", ".join(DEFINITIONS)
        raise NotFoundError(
            f"没有名为 {name!r} 的报表；可用：{names}",
            f"There is no report named {name!r}; reports: {names}.",
        ) from None


def build_report(
    db: Any,
    name: str | Definition,
    *,
    period: str | Period,
    villages: Iterable[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> Report:
    """Count report ``name`` for ``period`` from the merged records.

    Args:
        db: a ``sqlite3.Connection`` or sqlite-utils ``Database`` holding
            ``merged_records``.
        name: a key of ``DEFINITIONS`` (``table2``, ``monthly``, …), or a definition
            that is not registered (a county's own table, a test).
        period: '2026-03', '2026H1', '2026Y' or a parsed :class:`Period`.
        villages: the county's villages, so that a village without records still gets
            its row of zeros; by default every village holding a person card.
        names: printed names of townships and villages by code (villages are not in the
            shipped division list).

    Table 5's notification columns count the exchange records, which live in the county
    node's database: the report command attaches it first
    (store_exchange.py ``attach_for_reports``). Without it they count nothing.

    Returns:
        The report; ``report.cells[(row, column)]`` holds each figure and its records.

    Raises:
        ValidationError: the period is malformed or not one this report is made for.
        NotFoundError: no report of that name.
    """
    defn = get_definition(name) if isinstance(name, str) else name
    parsed = period if isinstance(period, Period) else parse_period(period)
    check_period_kind(parsed, defn.periods, defn.name)
    conn: sqlite3.Connection = getattr(db, "conn", db)
    if not has_report_view(conn):
        empty_report_view(conn)  # merged.db alone (a test, a benchmark): no exchange records
    found = scan(conn, defn, parsed)
    if isinstance(defn, ListingDef):
        report = assemble_listing(defn, parsed, found)
    else:
        roster = set(villages) if villages is not None else county_villages(conn)
        for per_village in found.hits:  # a counted record always has its row
            roster.update(per_village)
        report = assemble_table(defn, parsed, found, roster, names or {})
    report.source = conn
    return report


def county_villages(conn: sqlite3.Connection) -> set[str]:
    """Every village holding any merged record: each gets its row, zeros included.

    With the merge engine's index on ``(village, kind)`` this is one index seek per
    village; without it, one scan of the table. Both give the same set, so a figure
    never depends on which indexes exist.
    """
    indexes = conn.execute("PRAGMA index_list(merged_records)").fetchall()
    leading = {conn.execute(f"PRAGMA index_info({_quote(ix[1])})").fetchone()[2] for ix in indexes}
    if "village" not in leading:
        return {r[0] for r in conn.execute("SELECT DISTINCT village FROM merged_records")}
    found: set[str] = set()
    sql = "SELECT village FROM merged_records WHERE village > ? ORDER BY village LIMIT 1"
    row = conn.execute(sql, ("",)).fetchone()
    while row is not None:
        found.add(row[0])
        row = conn.execute(sql, (row[0],)).fetchone()
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_monthly(db: Any, *, period: str | Period) -> Report:
    """月报: the month's events per village and township."""
    return build_report(db, "monthly", period=period)


def build_monthly_changes(db: Any, *, period: str | Period) -> Report:
    """月变更汇总: cards and records created, changed and withdrawn in the month."""
    return build_report(db, "monthly-changes", period=period)


def build_table2(db: Any, *, period: str | Period) -> Report:
    """表2 人口自然变动及女性初婚."""
    return build_report(db, "table2", period=period)


def build_table3(db: Any, *, period: str | Period) -> Report:
    """表3 已婚育龄夫妇节育情况."""
    return build_report(db, "table3", period=period)


def build_table5(db: Any, *, period: str | Period) -> Report:
    """表5 流动人口管理和服务情况."""
    return build_report(db, "table5", period=period)


def build_benefit_fund(db: Any, *, period: str | Period) -> Report:
    """奖励扶助金半年报: recipients per programme at the start and end, and the changes."""
    return build_report(db, "benefit-fund", period=period)


def build_benefit_changes(db: Any, *, period: str | Period) -> Report:
    """奖励扶助对象变动名单: the recipients whose status changed in the period."""
    return build_report(db, "benefit-changes", period=period)
