# SPDX-License-Identifier: Apache-2.0
"""Report periods: a month, the first half of the statistical year, or the statistical year.

The statistical year runs 1 October - 30 September (篇4 第16条) and is named after the
year it ends in, so "2026Y" is 2025-10-01 .. 2026-09-30 and "2026H1" its first half,
2025-10-01 .. 2026-03-31, the half the semiannual tables report (篇10 第28条). There is
no second half-year: the October reports (the annual tables, the benefit-fund statistics
due 10 October) cover the whole statistical year (篇4 第16条, 篇10 第28条).

Parsing is strict (no lower case, no spaces, no "2026-3") because a period is also the
name under which a signed snapshot is filed: two spellings of one period would let two
approved versions of the same table coexist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from node.deadlines import semiannual_bounds, statistical_year_bounds
from node.errors import FieldProblem, ValidationError
from node.timeutil import SHANGHAI
from protocol.clock import COUNTER_BITS

PeriodKind = Literal["month", "half1", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("month", "half1", "year")
KIND_NAMES: dict[PeriodKind, tuple[str, str]] = {
    "month": ("月报（如 2026-03）", "a month (e.g. 2026-03)"),
    "half1": ("半年报（如 2026H1）", "the first half of a statistical year (e.g. 2026H1)"),
    "year": ("年报（如 2026Y）", "a statistical year (e.g. 2026Y)"),
}

# ASCII digits only: \d also matches full-width ones (２０２６-０３), which int()
# reads but which would name the period differently from its ASCII twin.
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})\Z")
_HALF = re.compile(r"([0-9]{4})H1\Z")
_YEAR = re.compile(r"([0-9]{4})Y\Z")
_FIRST_YEAR, _LAST_YEAR = 1901, 9998


@dataclass(frozen=True, slots=True)
class Period:
    """A closed range of Shanghai calendar days a report counts, with its HLC bounds."""

    text: str
    kind: PeriodKind
    first: date
    last: date

    @property
    def start_ms(self) -> int:
        """First millisecond of ``first`` in Shanghai, as UTC epoch milliseconds."""
        return _shanghai_midnight_ms(self.first)

    @property
    def end_ms(self) -> int:
        """First millisecond after ``last`` (an exclusive bound)."""
        return _shanghai_midnight_ms(self.last + timedelta(days=1))

    @property
    def start_hlc(self) -> int:
        """The smallest hybrid-logical-clock value stamped on or after ``first``."""
        return self.start_ms << COUNTER_BITS

    @property
    def end_hlc(self) -> int:
        """The smallest HLC value stamped after ``last`` (exclusive bound)."""
        return self.end_ms << COUNTER_BITS

    @property
    def label(self) -> str:
        """The period as printed under a table's title."""
        if self.kind == "month":
            return f"{self.first.year}年{self.first.month}月"
        span = f"{_zh_date(self.first)}至{_zh_date(self.last)}"
        name = {"half1": "上半年", "year": "年度"}[self.kind]
        return f"{self.last.year}统计年度{name}（{span}）"


def parse_period(text: object) -> Period:
    """Parse '2026-03', '2026H1' or '2026Y' into a :class:`Period`.

    Args:
        text: the period as typed on the command line or stored with a snapshot.

    Returns:
        The period with its first and last day.

    Raises:
        ValidationError: anything else, with a bilingual message naming the forms.
    """
    if isinstance(text, str):
        if found := _MONTH.match(text):
            year, month = int(found[1]), int(found[2])
            if _FIRST_YEAR <= year <= _LAST_YEAR and 1 <= month <= 12:
                first = date(year, month, 1)
                following = (first + timedelta(days=31)).replace(day=1)
                return Period(text, "month", first, following - timedelta(days=1))
        elif found := _HALF.match(text):
            year = int(found[1])
            if _FIRST_YEAR <= year <= _LAST_YEAR:
                return Period(text, "half1", *semiannual_bounds(year))
        elif found := _YEAR.match(text):
            year = int(found[1])
            if _FIRST_YEAR <= year <= _LAST_YEAR:
                return Period(text, "year", *statistical_year_bounds(year))
    raise ValidationError(
        [
            FieldProblem(
                "period",
                "period.format",
                "统计期格式应为 YYYY-MM（月）、YYYYH1（上半年：10月1日至次年3月31日）或 "
                "YYYYY（统计年度：10月1日至次年9月30日），例如 2026-03、2026H1、2026Y；"
                "10月的报表按整个统计年度编制，没有“下半年”",
                "A period is YYYY-MM (a month), YYYYH1 (1 October to 31 March) or YYYYY (the "
                "statistical year, 1 October to 30 September), for example 2026-03, 2026H1, "
                "2026Y; the October reports cover the whole statistical year (no second half).",
            )
        ]
    )


def check_period_kind(period: Period, allowed: tuple[PeriodKind, ...], report: str) -> None:
    """Refuse a period a report is not compiled for (Table 2 for one month, say).

    Raises:
        ValidationError: ``period.kind`` not in ``allowed``.
    """
    if period.kind in allowed:
        return
    zh = "、".join(KIND_NAMES[k][0] for k in allowed)
    en = ", ".join(KIND_NAMES[k][1] for k in allowed)
    raise ValidationError(
        [
            FieldProblem(
                "period",
                "period.kind",
                f"报表 {report} 只按以下统计期编制：{zh}",
                f"Report {report} is compiled only for {en}.",
            )
        ]
    )


def _zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _shanghai_midnight_ms(day: date) -> int:
    start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    return int(start.timestamp()) * 1000
