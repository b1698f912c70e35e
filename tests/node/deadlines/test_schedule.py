# SPDX-License-Identifier: Apache-2.0
"""The county-published holiday schedule: validation, errors, equivalence with the package."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from node.deadlines import (
    WorkCalendar,
    YearSchedule,
    dump_schedule,
    load_schedule,
    schedule_from_chinese_calendar,
)
from node.deadlines.schedule import MAX_HOLIDAYS
from node.errors import ValidationError
from tests.node.deadlines.sample import (
    FIRST_PACKAGE_YEAR,
    LAST_PACKAGE_YEAR,
    body_2027,
    days_of,
)


def test_good_body_loads():
    schedule = load_schedule(body_2027())
    assert 2027 == schedule.year
    assert date(2027, 1, 1) in schedule.holidays
    assert frozenset({date(2027, 2, 20)}) == schedule.workdays
    assert date(2026, 11, 20) == schedule.published


def test_empty_workdays_are_allowed():
    assert frozenset() == load_schedule(body_2027(workdays=[])).workdays


@pytest.mark.parametrize("year", [2025, 2026])
def test_county_schedule_answers_exactly_like_the_package(year):
    """A schedule published through the county path gives the package's answer every day."""
    taken = schedule_from_chinese_calendar(year)
    published = dataclasses.replace(taken, published=date(year - 1, 12, 1), source="县转发")
    county = WorkCalendar(schedules=[load_schedule(dump_schedule(published))])
    package = WorkCalendar()
    assert "county_schedule" == county.source(year)
    assert "chinese_calendar" == package.source(year)
    for day in days_of(year):
        assert package.is_workday(day) == county.is_workday(day), day


def test_every_package_year_passes_the_schema():
    """The schema's rules (make-up days on weekends, sizes, no overlap) hold for real years."""
    for year in range(FIRST_PACKAGE_YEAR, LAST_PACKAGE_YEAR + 1):
        taken = dataclasses.replace(
            schedule_from_chinese_calendar(year), published=date(2000, 1, 1)
        )
        assert taken == load_schedule(dump_schedule(taken))


def test_package_schedule_for_uncovered_year_is_refused():
    with pytest.raises(ValueError):
        schedule_from_chinese_calendar(LAST_PACKAGE_YEAR + 1)


def test_package_schedule_cannot_be_published_without_a_date():
    with pytest.raises(ValueError):
        dump_schedule(schedule_from_chinese_calendar(2025))


def test_schedule_answers_only_for_its_year():
    with pytest.raises(ValueError):
        load_schedule(body_2027()).is_workday(date(2026, 12, 31))


# Each bad body differs from the good one in one place (tests/test_event_auth.py style).
BAD = [
    ({"v": 2}, [("v", "schedule.wrong_version")]),
    ({"v": True}, [("v", "schedule.wrong_type")]),
    ({"v": "1"}, [("v", "schedule.wrong_type")]),
    ({"type": "holidays"}, [("type", "schedule.wrong_kind")]),
    ({"year": 1899}, [("year", "schedule.year_range")]),
    ({"year": "2027"}, [("year", "schedule.wrong_type")]),
    ({"year": 2027.0}, [("year", "schedule.wrong_type")]),
    ({"holidays": []}, [("holidays", "schedule.empty")]),
    ({"holidays": "2027-01-01"}, [("holidays", "schedule.wrong_type")]),
    ({"holidays": ["2027-1-1"]}, [("holidays.0", "schedule.not_a_date")]),
    ({"holidays": ["20270101"]}, [("holidays.0", "schedule.not_a_date")]),
    ({"holidays": ["2027-02-30"]}, [("holidays.0", "schedule.not_a_date")]),
    ({"holidays": ["２０２７-01-01"]}, [("holidays.0", "schedule.not_a_date")]),
    ({"holidays": [20270101]}, [("holidays.0", "schedule.not_a_date")]),
    ({"holidays": ["2026-12-31"]}, [("holidays.0", "schedule.outside_year")]),
    ({"holidays": ["2027-01-01", "2027-01-01"]}, [("holidays.1", "schedule.duplicate")]),
    ({"workdays": ["2027-02-03"]}, [("workdays.0", "schedule.not_weekend")]),
    ({"workdays": ["2028-01-08"]}, [("workdays.0", "schedule.outside_year")]),
    (
        {"workdays": ["2027-01-02"]},
        [
            ("holidays.1", "schedule.holiday_and_workday"),
            ("workdays.0", "schedule.holiday_and_workday"),
        ],
    ),
    ({"published": None}, [("published", "schedule.null")]),
    ({"published": "2026-11-20T00:00:00"}, [("published", "schedule.not_a_date")]),
    ({"source": ""}, [("source", "schedule.source_length")]),
    ({"source": "x" * 201}, [("source", "schedule.source_length")]),
    # The protocol layer verifies the signature and hands over only the body.
    ({"sig": "AAAA"}, [("sig", "schedule.unknown_field")]),
]


@pytest.mark.parametrize(("changes", "expected"), BAD)
def test_bad_body_is_refused(changes, expected):
    with pytest.raises(ValidationError) as info:
        load_schedule(body_2027(**changes))
    assert sorted(expected) == sorted((p.field, p.code) for p in info.value.problems)


@pytest.mark.parametrize("field", ["v", "type", "year", "holidays", "workdays", "published"])
def test_missing_field_is_named(field):
    body = body_2027()
    del body[field]
    with pytest.raises(ValidationError) as info:
        load_schedule(body)
    assert [(field, "schedule.required")] == [(p.field, p.code) for p in info.value.problems]


def test_too_many_holidays():
    days = [d.isoformat() for d in days_of(2027)[: MAX_HOLIDAYS + 1]]
    with pytest.raises(ValidationError) as info:
        load_schedule(body_2027(holidays=days, workdays=[]))
    assert [("holidays", "schedule.too_many")] == [(p.field, p.code) for p in info.value.problems]


def test_list_and_item_problems_keep_their_paths():
    """marshmallow merges a list's own error with its items' errors under "_schema"."""
    days = [d.isoformat() for d in days_of(2027)[: MAX_HOLIDAYS + 1]]
    with pytest.raises(ValidationError) as info:
        load_schedule(body_2027(holidays=days, workdays=["2027-01-02"]))
    assert [
        ("holidays", "schedule.too_many"),
        ("holidays.1", "schedule.holiday_and_workday"),
        ("workdays.0", "schedule.holiday_and_workday"),
    ] == sorted((p.field, p.code) for p in info.value.problems)


@pytest.mark.parametrize("obj", [[], "schedule", None, 2027])
def test_not_an_object(obj):
    with pytest.raises(ValidationError) as info:
        load_schedule(obj)
    assert [("schedule", "schedule.not_an_object")] == [
        (p.field, p.code) for p in info.value.problems
    ]


def test_every_problem_is_listed_once_in_both_languages():
    """One pass shows the officer everything, and indices survive a bad item before them."""
    body = body_2027(
        v=2,
        year=1800,
        holidays=["bad", "2027-01-02", "2027-01-02"],
        workdays=[5, "2027-01-02", "2027-02-03"],
        published="yesterday",
        extra=True,
    )
    with pytest.raises(ValidationError) as info:
        load_schedule(body)
    assert [
        ("extra", "schedule.unknown_field"),
        ("holidays.0", "schedule.not_a_date"),
        ("holidays.1", "schedule.holiday_and_workday"),
        ("holidays.2", "schedule.duplicate"),
        ("holidays.2", "schedule.holiday_and_workday"),
        ("published", "schedule.not_a_date"),
        ("v", "schedule.wrong_version"),
        ("workdays.0", "schedule.not_a_date"),
        ("workdays.1", "schedule.holiday_and_workday"),
        ("workdays.2", "schedule.not_weekend"),
        ("year", "schedule.year_range"),
    ] == sorted((p.field, p.code) for p in info.value.problems)
    for problem in info.value.problems:
        assert problem.zh and problem.en and problem.zh != problem.en
    shape = info.value.as_dict()
    assert "invalid_input" == shape["code"]
    assert len(info.value.problems) == len(shape["problems"])


def test_loaded_schedule_is_frozen():
    schedule = load_schedule(body_2027())
    assert isinstance(schedule, YearSchedule)
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.year = 2028
