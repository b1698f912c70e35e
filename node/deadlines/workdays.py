# SPDX-License-Identifier: Apache-2.0
"""Working days of the official Chinese calendar, and counting them.

Deadlines in the regulations are counted in working days (工作日), and a working day is
what the State Council's yearly notice makes it: holidays are off, and some weekends are
make-up working days (调休上班). Monday-Friday is wrong around every long holiday.

Where an answer comes from, in order:

1. a schedule the county published for that year (``schedule.YearSchedule``), because the
   county can publish a new year's notice long before a village PC gets a package update;
2. the ``chinese_calendar`` package, for the years its data covers (2004-2026 in 1.11.0;
   for any other year it raises NotImplementedError, which is how coverage is detected);
3. Monday-Friday, marked *provisional* so the officer knows the date may still move.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta
from typing import Literal, NamedTuple

import chinese_calendar

from node.deadlines.schedule import YearSchedule

__all__ = [
    "CalendarSource",
    "DueDate",
    "WorkCalendar",
    "WorkdayAnswer",
    "package_covers",
]

CalendarSource = Literal["county_schedule", "chinese_calendar", "weekdays_fallback"]
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DueDate:
    """A deadline date; ``provisional`` when some day counted was guessed as Monday-Friday.

    A provisional date can still move once the official schedule for its year is known;
    the officer should see that, not a silently wrong date.
    """

    due: date
    provisional: bool


class WorkdayAnswer(NamedTuple):
    """``(workday, provisional)``: a plain tuple, with names for readability."""

    workday: bool
    provisional: bool


@functools.cache
def package_covers(year: int) -> bool:
    """Return whether the installed ``chinese_calendar`` has data for ``year``.

    The package signals a year outside its data by raising NotImplementedError from
    ``is_workday`` (it checks the year against the span of its holiday table), so this
    asks it directly rather than copying its range.
    """
    if not MINYEAR <= year <= MAXYEAR:
        return False
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _check_date(day: object) -> None:
    # A datetime is a date subclass; accepting one would silently take its UTC (or naive)
    # calendar day, while deadlines are counted in Asia/Shanghai days.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a datetime.date, got {type(day).__name__}")


class WorkCalendar:
    """Answers whether a day is a working day, from the best source for its year.

    Args:
        schedules: county-published schedules. When several cover the same year the one
            published last wins, so the county can correct a schedule by republishing it.

    Raises:
        ValueError: two different schedules for one year carry the same publication date,
            so neither can be preferred.
    """

    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        chosen: dict[int, YearSchedule] = {}
        for schedule in schedules:
            held = chosen.get(schedule.year)
            if held is None or _newer(schedule, held):
                chosen[schedule.year] = schedule
        self._schedules = chosen

    def source(self, year: int) -> CalendarSource:
        """Return where answers for ``year`` come from (for display and for tests)."""
        if year in self._schedules:
            return "county_schedule"
        if package_covers(year):
            return "chinese_calendar"
        return "weekdays_fallback"

    def is_workday(self, day: date) -> WorkdayAnswer:
        """Return ``(workday, provisional)`` for ``day``; never raises for a valid date.

        Raises:
            TypeError: ``day`` is not a ``date`` (or is a ``datetime``).
        """
        _check_date(day)
        source = self.source(day.year)
        if source == "county_schedule":
            return WorkdayAnswer(self._schedules[day.year].is_workday(day), False)
        if source == "chinese_calendar":
            return WorkdayAnswer(bool(chinese_calendar.is_workday(day)), False)
        return WorkdayAnswer(day.weekday() < 5, True)

    def add_workdays(self, start: date, n: int) -> DueDate:
        """Return the ``n``-th working day after ``start``.

        The count starts the day after ``start``: "within 5 working days of the event"
        leaves the event day itself out, as periods counted in days do in Chinese law
        (民法典 第201条: the first day is not counted). An event on Friday with 5 working
        days is therefore due the next Friday, not Thursday. ``n == 0`` returns ``start``.

        Args:
            start: the event day (an Asia/Shanghai calendar date).
            n: number of working days, >= 0.

        Returns:
            The due date, provisional if any day looked at came from the fallback.

        Raises:
            TypeError: ``start`` is not a date or ``n`` is not an int.
            ValueError: ``n`` is negative.
        """
        _check_date(start)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day, counted, provisional = start, 0, False
        while counted < n:
            day += _ONE_DAY
            workday, guessed = self.is_workday(day)
            provisional = provisional or guessed
            counted += workday
        return DueDate(day, provisional)


def _newer(candidate: YearSchedule, held: YearSchedule) -> bool:
    """Whether ``candidate`` replaces ``held`` (same year); None (package) ranks oldest."""
    if candidate == held:
        return False
    new, old = candidate.published or date.min, held.published or date.min
    if new == old:
        raise ValueError(
            f"two different {candidate.year} schedules both published on {candidate.published}"
        )
    return new > old
