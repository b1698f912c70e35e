# SPDX-License-Identifier: Apache-2.0
"""Invariants of working-day counting over 1900-2200, and the schedule roundtrip."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
from hypothesis import assume, given
from hypothesis import strategies as st

from node.deadlines import (
    WorkCalendar,
    YearSchedule,
    dump_schedule,
    load_schedule,
)
from tests.node.deadlines.sample import FIRST_PACKAGE_YEAR, LAST_PACKAGE_YEAR, body_2027

CALENDARS = [WorkCalendar(), WorkCalendar(schedules=[load_schedule(body_2027())])]
any_day = st.dates(date(1900, 1, 1), date(2200, 12, 31))
counts = st.integers(min_value=0, max_value=40)
calendars = st.sampled_from(CALENDARS)


def _days_between(start: date, end: date) -> list[date]:
    """The days after ``start`` up to and including ``end``."""
    return [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]


@given(calendars, any_day, counts)
def test_exactly_n_working_days_are_counted(calendar, start, n):
    """Never crashes; (start, due] holds exactly n working days; due is one when n >= 1."""
    result = calendar.add_workdays(start, n)
    answers = [calendar.is_workday(d) for d in _days_between(start, result.due)]
    assert n == sum(workday for workday, _ in answers)
    assert result.due >= start + timedelta(days=n)
    if n >= 1:
        assert answers[-1].workday
    assert result.provisional == any(guessed for _, guessed in answers)


@given(calendars, any_day, counts)
def test_strictly_monotone_in_n(calendar, start, n):
    assert calendar.add_workdays(start, n).due < calendar.add_workdays(start, n + 1).due


@given(calendars, any_day, counts, counts)
def test_counting_in_two_steps_is_the_same(calendar, start, a, b):
    first = calendar.add_workdays(start, a)
    assert calendar.add_workdays(start, a + b).due == calendar.add_workdays(first.due, b).due


@given(
    st.dates(date(FIRST_PACKAGE_YEAR, 1, 1), date(LAST_PACKAGE_YEAR, 11, 30)),
    st.integers(min_value=0, max_value=20),
)
def test_agrees_with_the_packages_counter(start, n):
    """chinese_calendar.find_workday counts like us when the start is a working day."""
    assume(chinese_calendar.is_workday(start))
    assert chinese_calendar.find_workday(n, start) == WorkCalendar().add_workdays(start, n).due


@st.composite
def schedules(draw: st.DrawFn) -> YearSchedule:
    year = draw(st.integers(min_value=1900, max_value=2200))
    days = st.dates(date(year, 1, 1), date(year, 12, 31))
    holidays = draw(st.frozensets(days, min_size=1, max_size=40))
    weekend = days.filter(lambda d: d.weekday() >= 5 and d not in holidays)
    workdays = draw(st.frozensets(weekend, max_size=12))
    published = draw(st.dates(date(1899, 1, 1), date(2200, 12, 31)))
    source = draw(st.text(min_size=1, max_size=200))
    return YearSchedule(year, holidays, workdays, published, source)


@given(schedules())
def test_dump_load_roundtrip(schedule):
    assert schedule == load_schedule(dump_schedule(schedule))
