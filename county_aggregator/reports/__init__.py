# SPDX-License-Identifier: Apache-2.0
"""County statistical reports: declarative tables counted from ``merged_records``.

``build_report(db, name, period=...)`` counts a report defined in ``definitions.py``
(rule language: ``rules.py``; one engine: ``engine.py``); every figure keeps the records
it counted (``Report.cells``, :func:`drill_down`). ``render.py`` writes CSV and .xlsx,
``snapshots.py`` files signed, approved and revised versions, ``cli.py`` adds
``renkou county report``.
"""

from county_aggregator.reports.build import (
    build_benefit_changes,
    build_benefit_fund,
    build_monthly,
    build_monthly_changes,
    build_report,
    build_table2,
    build_table3,
    build_table5,
    get_definition,
)
from county_aggregator.reports.definitions import DEFINITIONS
from county_aggregator.reports.model import Cell, MergedRecord, Report, drill_down
from county_aggregator.reports.periods import Period, parse_period
from county_aggregator.reports.render import render_report_csv, render_report_xlsx, write_report
from county_aggregator.reports.snapshots import (
    Snapshot,
    SnapshotClosed,
    approve,
    check_late_data,
    list_snapshots,
    submit_snapshot,
    verify_snapshot,
)

__all__ = [
    "DEFINITIONS",
    "Cell",
    "MergedRecord",
    "Period",
    "Report",
    "Snapshot",
    "SnapshotClosed",
    "approve",
    "build_benefit_changes",
    "build_benefit_fund",
    "build_monthly",
    "build_monthly_changes",
    "build_report",
    "build_table2",
    "build_table3",
    "build_table5",
    "check_late_data",
    "drill_down",
    "get_definition",
    "list_snapshots",
    "parse_period",
    "render_report_csv",
    "render_report_xlsx",
    "submit_snapshot",
    "verify_snapshot",
    "write_report",
]
