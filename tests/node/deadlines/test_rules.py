# SPDX-License-Identifier: Apache-2.0
"""Each deadline of domain.md section 3, and open items judged in Asia/Shanghai time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from node.deadlines import (
    RULES,
    DeadlineRule,
    DueDate,
    OpenItem,
    WorkCalendar,
    due_date,
    get_rule,
    load_schedule,
    semiannual_bounds,
    shanghai_date,
    statistical_year,
    statistical_year_bounds,
)
from tests.node.deadlines.sample import body_2027

# domain.md section 3, row by row: (rule, kind, amount or (month, day), source).
TABLE = [
    ("monthly_change_report", "fixed_day_next_month", 2, "篇3 第29条"),
    ("township_monthly_report", "fixed_day_next_month", 6, "篇4 第42条"),
    ("semiannual_tables_township", "fixed_date", (4, 13), "篇10 第28条"),
    ("semiannual_tables_county", "fixed_date", (4, 16), "篇10 第28条"),
    ("annual_tables_township", "fixed_date", (10, 13), "篇10 第28条"),
    ("annual_tables_county", "fixed_date", (10, 16), "篇10 第28条"),
    ("benefit_fund_stats_april", "fixed_date", (4, 10), "篇4 第16条"),
    ("benefit_fund_stats_october", "fixed_date", (10, 10), "篇4 第16条"),
    ("benefit_recipient_change", "workdays", 5, "篇3 第12条, 篇4 第16条"),
    ("benefit_change_in_month", "end_of_month", None, "篇3 第12条"),
    ("benefit_in_person_check", "months", 6, "篇4 第16条"),
    ("birth_registration_to_township", "workdays", 5, "篇3 第11条"),
    ("birth_registration_township_report", "workdays", 5, "篇4 第15条"),
    ("floating_birth_registration_to_township", "workdays", 5, "篇10 第15条"),
    ("floating_birth_registration_township", "workdays", 10, "篇10 第15条"),
    ("floating_birth_registration_notify_hukou", "workdays", 10, "篇10 第15条"),
    ("floating_notification", "workdays", 5, "篇10 第24条"),
    ("floating_hukou_reply", "workdays", 5, "篇10 第24条"),
    ("county_enquiry", "workdays", 10, "篇9 五(三)"),
    ("county_enquiry_birth", "workdays", 5, "篇9 五(三)"),
    ("floating_data_change", "workdays", 5, "篇10 第24条"),
    ("complaint_follow_up", "until_done", None, "篇4 第18条, 篇3"),
    ("tip_off_investigation", "workdays", 5, "篇4 第18条"),
]


def test_the_table_is_domain_section_3():
    assert sorted(row[0] for row in TABLE) == sorted(rule.name for rule in RULES)


@pytest.mark.parametrize(("name", "kind", "amount", "source"), TABLE)
def test_rule(name, kind, amount, source):
    rule = get_rule(name)
    assert (kind, source) == (rule.kind, rule.source)
    if kind in ("workdays", "months"):
        assert amount == rule.amount
    elif kind == "fixed_day_next_month":
        assert amount == rule.day
    elif kind == "fixed_date":
        assert amount == (rule.month, rule.day)
    else:
        assert (rule.amount, rule.day, rule.month) == (None, None, None)
    assert rule.zh_name and rule.counts_from


def test_monthly_report_due_on_a_holiday_does_not_move():
    """A date "by the 2nd of the next month" is a calendar date: 2 October stays 2 October."""
    assert chinese_calendar.is_holiday(date(2025, 10, 2))
    assert DueDate(date(2025, 10, 2), False) == due_date("monthly_change_report", date(2025, 9, 15))


def test_december_reports_are_due_in_january():
    assert date(2026, 1, 2) == due_date("monthly_change_report", date(2025, 12, 31)).due
    assert date(2026, 1, 6) == due_date("township_monthly_report", date(2025, 12, 1)).due


@pytest.mark.parametrize("event", [date(2025, 10, 1), date(2026, 1, 15), date(2026, 3, 31)])
def test_semiannual_tables(event):
    assert date(2026, 4, 13) == due_date("semiannual_tables_township", event).due
    assert date(2026, 4, 16) == due_date("semiannual_tables_county", event).due
    assert date(2026, 4, 10) == due_date("benefit_fund_stats_april", event).due


@pytest.mark.parametrize("event", [date(2026, 4, 1), date(2026, 9, 30)])
def test_no_semiannual_table_covers_april_to_september(event):
    with pytest.raises(ValueError):
        due_date("semiannual_tables_township", event)


@pytest.mark.parametrize("event", [date(2025, 10, 1), date(2026, 4, 1), date(2026, 9, 30)])
def test_annual_tables(event):
    assert date(2026, 10, 13) == due_date("annual_tables_township", event).due
    assert date(2026, 10, 16) == due_date("annual_tables_county", event).due
    assert date(2026, 10, 10) == due_date("benefit_fund_stats_october", event).due


def test_annual_tables_after_a_new_statistical_year_started():
    """Oct 5 belongs to the next statistical year, even before this year's Oct 13 deadline."""
    assert date(2026, 10, 13) == due_date("annual_tables_township", date(2025, 10, 5)).due


def test_working_day_rules_across_national_day_2025():
    """Sep 30 + 5 working days: Oct 9, 10 and the make-up Saturday Oct 11, then Oct 13, 14."""
    start = date(2025, 9, 30)
    assert date(2025, 10, 14) == due_date("tip_off_investigation", start).due
    assert date(2025, 10, 14) == due_date("birth_registration_to_township", start).due
    assert date(2025, 10, 21) == due_date("county_enquiry", start).due
    assert chinese_calendar.find_workday(10, start) == date(2025, 10, 21)


def test_rules_use_the_imported_schedule():
    calendar = WorkCalendar(schedules=[load_schedule(body_2027())])
    event = date(2026, 12, 28)
    assert DueDate(date(2027, 1, 5), False) == due_date("floating_notification", event, calendar)
    assert due_date("floating_notification", event).provisional is (
        WorkCalendar().source(2027) == "weekdays_fallback"
    )


@pytest.mark.parametrize(
    "rule", ["monthly_change_report", "annual_tables_county", "county_enquiry"]
)
def test_event_must_be_a_date(rule):
    with pytest.raises(TypeError):
        due_date(rule, datetime(2026, 3, 2, 17, 0, tzinfo=UTC))


def test_unknown_rule():
    with pytest.raises(KeyError):
        due_date("fee_collection", date(2025, 1, 1))
    with pytest.raises(KeyError):
        OpenItem("fee_collection", date(2025, 1, 1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "workdays"},
        {"kind": "workdays", "amount": 5, "day": 2},
        {"kind": "fixed_day_next_month", "day": 31},
        {"kind": "fixed_date", "month": 4, "day": 13},
    ],
)
def test_malformed_rules_fail_at_definition(kwargs):
    with pytest.raises(ValueError):
        DeadlineRule("r", "规则", source="篇0", counts_from="x", **kwargs)


# The February 2026 change report is due 2026-03-02 (a Monday, an ordinary working day).
FEBRUARY_REPORT = OpenItem("monthly_change_report", date(2026, 2, 10))


def test_overdue_is_judged_in_shanghai():
    """17:00 UTC on 2 March is 01:00 on 3 March in Shanghai: already overdue."""
    now = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    assert date(2026, 3, 3) == shanghai_date(now)
    assert FEBRUARY_REPORT.is_overdue(now)
    assert -1 == FEBRUARY_REPORT.days_left(now)


def test_not_overdue_until_shanghai_midnight():
    now = datetime(2026, 3, 2, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    assert not FEBRUARY_REPORT.is_overdue(now)
    assert 0 == FEBRUARY_REPORT.days_left(now)


def test_any_timezone_is_converted():
    new_york = timezone(timedelta(hours=-5))
    now = datetime(2026, 3, 2, 12, 30, tzinfo=new_york)  # 01:30 on 3 March in Shanghai
    assert FEBRUARY_REPORT.is_overdue(now)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        FEBRUARY_REPORT.is_overdue(datetime(2026, 3, 2, 17, 0))


def test_done_items_are_never_overdue():
    late = OpenItem("monthly_change_report", date(2026, 2, 10), done=date(2026, 3, 5))
    on_time = OpenItem("monthly_change_report", date(2026, 2, 10), done=date(2026, 3, 2))
    now = datetime(2026, 4, 1, tzinfo=UTC)
    assert not late.is_overdue(now)
    assert late.done_on_time is False
    assert on_time.done_on_time is True
    assert FEBRUARY_REPORT.done_on_time is None


def test_open_item_due_with_calendar():
    calendar = WorkCalendar(schedules=[load_schedule(body_2027())])
    item = OpenItem("tip_off_investigation", date(2026, 12, 28), calendar=calendar)
    assert DueDate(date(2027, 1, 5), False) == item.due
    assert item == OpenItem("tip_off_investigation", date(2026, 12, 28))


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2025, 9, 30), 2025), (date(2025, 10, 1), 2026), (date(2026, 1, 1), 2026)],
)
def test_statistical_year(day, year):
    assert year == statistical_year(day)


def test_period_bounds():
    assert (date(2025, 10, 1), date(2026, 9, 30)) == statistical_year_bounds(2026)
    assert (date(2025, 10, 1), date(2026, 3, 31)) == semiannual_bounds(2026)


def test_benefit_changes_are_recorded_in_their_month():
    """篇3 第12条: a recipient's change is recorded in the month it happens."""
    assert date(2026, 2, 28) == due_date("benefit_change_in_month", date(2026, 2, 3)).due
    assert date(2026, 12, 31) == due_date("benefit_change_in_month", date(2026, 12, 31)).due


def test_in_person_check_every_six_months():
    """篇4 第16条: twice a year; 31 August + 6 months is the last day of February."""
    assert date(2026, 2, 28) == due_date("benefit_in_person_check", date(2025, 8, 31)).due
    assert date(2026, 9, 15) == due_date("benefit_in_person_check", date(2026, 3, 15)).due


def test_a_complaint_is_followed_until_answered():
    """篇4 第18条: no date, never overdue, on time whenever answered."""
    item = OpenItem("complaint_follow_up", date(2026, 3, 1))
    assert not item.has_due_date and item.days_left(datetime(2027, 1, 1, tzinfo=UTC)) is None
    assert not item.is_overdue(datetime(2027, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        item.due  # noqa: B018
    assert OpenItem("complaint_follow_up", date(2026, 3, 1), date(2026, 9, 1)).done_on_time


def test_no_village_opinion_step():
    """Issue 16 item 4: the "village opinion within 3 days" step belonged to second-child
    approval (篇3 第11条 (三)); registration is a service with no such step."""
    assert not [r for r in RULES if "opinion" in r.name or "意见" in r.zh_name]
