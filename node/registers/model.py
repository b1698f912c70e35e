# SPDX-License-Identifier: Apache-2.0
"""What a built register is, and the month it covers.

A :class:`Register` is plain data: rows of display values keyed by column, so the
same object renders to CSV, to a spreadsheet, or to JSON for a page, and a test can
compare it with a hand-counted list (style.md rule 28: build is pure, render is separate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from node.deadlines.rules import statistical_year_bounds
from node.errors import FieldProblem, ValidationError
from node.timeutil import SHANGHAI

# ASCII digits only: \d also matches full-width ones (２０２６-０３), which int()
# reads but which would name the period differently from its ASCII twin.
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})\Z")
_YEAR = re.compile(r"([0-9]{4})Y\Z")


@dataclass(frozen=True, slots=True)
class Column:
    """One printed column: the row key and its official Chinese heading."""

    key: str
    heading: str


@dataclass(frozen=True)
class Section:
    """A further table printed under the register (the stock ledger, the roster)."""

    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Register:
    """A register (or the monthly change report) for one village and one month.

    ``rows`` hold one dict per printed line, keyed by ``Column.key``, with values
    already as printed (codes translated, dates 'YYYY-MM-DD', counts as integers).
    """

    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    name: str = ""
    village: str = ""
    month: str = ""
    sections: tuple[Section, ...] = field(default_factory=tuple)

    @property
    def headings(self) -> list[str]:
        return [c.heading for c in self.columns]

    @property
    def full_title(self) -> str:
        """The title line of the printed form: village, register and month (or the
        statistical year of an annual register)."""
        when = ""
        if self.month.endswith("Y"):
            when = f"（{self.month[:4]}统计年度）"
        elif self.month:
            year, month = self.month.split("-")
            when = f"（{year}年{int(month)}月）"
        return f"{self.village}{self.title}{when}"


@dataclass(frozen=True, slots=True)
class MonthRange:
    """A calendar month as officers count it: Asia/Shanghai dates and instants."""

    month: str
    first: date
    last: date
    start_ms: int
    """First millisecond of the month in Shanghai, as UTC epoch milliseconds."""
    end_ms: int
    """First millisecond of the next month (exclusive bound)."""

    def contains_ms(self, wall_ms: int) -> bool:
        return self.start_ms <= wall_ms < self.end_ms


def parse_month(month: Any) -> MonthRange:
    """Parse 'YYYY-MM' into the month's dates and Shanghai instants.

    Raises:
        ValidationError: ``month`` is not a real month written 'YYYY-MM'.
    """
    found = _MONTH.match(month) if isinstance(month, str) else None
    if found is None or not (1900 <= int(found[1]) <= 9998 and 1 <= int(found[2]) <= 12):
        raise ValidationError(
            [
                FieldProblem(
                    "month",
                    "month.format",
                    "月份格式应为 YYYY-MM，例如 2026-03",
                    "A month must be written YYYY-MM, for example 2026-03.",
                )
            ]
        )
    first = date(int(found[1]), int(found[2]), 1)
    following = (first + timedelta(days=31)).replace(day=1)
    return MonthRange(
        month=month,
        first=first,
        last=following - timedelta(days=1),
        start_ms=_shanghai_midnight_ms(first),
        end_ms=_shanghai_midnight_ms(following),
    )


def parse_year(year: Any) -> MonthRange:
    """Parse 'YYYYY' into the statistical year it names (1 October - 30 September,
    篇4 第16条), for the annual registers.

    Raises:
        ValidationError: ``year`` is not written 'YYYYY' (2026Y: 2025-10-01 .. 2026-09-30).
    """
    found = _YEAR.match(year) if isinstance(year, str) else None
    if found is None or not 1901 <= int(found[1]) <= 9998:
        raise ValidationError(
            [
                FieldProblem(
                    "period",
                    "period.year_format",
                    "年度登记册按统计年度编制，格式为 YYYYY，"
                    "例如 2026Y（2025年10月1日至2026年9月30日）",
                    "An annual register covers a statistical year, written YYYYY, for example "
                    "2026Y (1 October 2025 to 30 September 2026).",
                )
            ]
        )
    first, last = statistical_year_bounds(int(found[1]))
    return MonthRange(
        month=year,
        first=first,
        last=last,
        start_ms=_shanghai_midnight_ms(first),
        end_ms=_shanghai_midnight_ms(last + timedelta(days=1)),
    )


def _shanghai_midnight_ms(day: date) -> int:
    start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    return int(start.timestamp()) * 1000
