# SPDX-License-Identifier: Apache-2.0
"""Report periods: the statistical year runs 1 October - 30 September (篇4 第16条)."""

from __future__ import annotations

from datetime import date

import pytest

from county_aggregator.reports import build_report, parse_period
from county_aggregator.reports.periods import check_period_kind
from node.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("2026-03", "month", date(2026, 3, 1), date(2026, 3, 31)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-12", "month", date(2025, 12, 1), date(2025, 12, 31)),
        ("2026H1", "half1", date(2025, 10, 1), date(2026, 3, 31)),
        ("2026Y", "year", date(2025, 10, 1), date(2026, 9, 30)),
    ],
)
def test_parse(text: str, kind: str, first: date, last: date) -> None:
    period = parse_period(text)
    assert (kind, first, last, text) == (period.kind, period.first, period.last, period.text)


@pytest.mark.parametrize(
    "text",
    ["2026-3", "2026-13", "2026-00", "2026h1", "2026H2", "2026H3", "2026 H1", "2026y", "26Y",
     " 2026Y", "2026Y ", "2026-03-01", "", "0000-01", "2026", 202603, None,
     "２０２６-０３", "２０２６H1", "２０２６Y"],
)  # fmt: skip
def test_malformed_periods_are_refused_in_both_languages(text: object) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_period(text)
    (problem,) = caught.value.problems
    assert problem.field == "period" and problem.code == "period.format"
    assert "2026H1" in problem.zh and "2026H1" in problem.en
    assert "统计期" in problem.zh and "period" in problem.en


def test_hlc_bounds_are_shanghai_midnights() -> None:
    """2026-03 starts at 2026-02-28T16:00Z, midnight in Shanghai."""
    period = parse_period("2026-03")
    assert period.start_ms == 1772294400000
    assert period.end_ms - period.start_ms == 31 * 86_400_000
    assert period.start_hlc == period.start_ms << 16


def test_labels() -> None:
    assert parse_period("2026-03").label == "2026年3月"
    assert parse_period("2026H1").label == "2026统计年度上半年（2025年10月1日至2026年3月31日）"


def test_tables_refuse_a_month_and_say_which_periods_they_take() -> None:
    with pytest.raises(ValidationError) as caught:
        check_period_kind(parse_period("2026-03"), ("half1", "year"), "table2")
    (problem,) = caught.value.problems
    assert problem.code == "period.kind"
    assert "2026H1" in problem.zh and "2026Y" in problem.en


@pytest.mark.parametrize(
    ("name", "period"),
    [("table2", "2026-03"), ("table3", "2026H2"), ("monthly", "2026H1"), ("table5", "2026H1")],
)
def test_build_checks_the_period(merged: object, name: str, period: str) -> None:
    with pytest.raises(ValidationError):
        build_report(merged, name, period=period)
