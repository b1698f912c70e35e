# SPDX-License-Identifier: Apache-2.0
"""The deadlines of domain.md section 3, declared as data, and the open items they govern.

Six kinds of deadline:

* ``workdays``: within N working days of the event (``WorkCalendar.add_workdays``).
* ``fixed_day_next_month``: by day D of the month after the event's month.
* ``fixed_date``: by a calendar date after the reporting period the event falls in.
* ``end_of_month``: within the event's own month ("recorded in the month", 篇3 第12条).
* ``months``: N calendar months after the event (the six-monthly in-person check).
* ``until_done``: no date, followed until done (a complaint, until it is answered).

Calendar-date deadlines (the 2nd of the next month, April 13, ...) stay where the
regulations put them, even on a holiday or a weekend: the regulations name a date, not a
number of days, so there is no period whose last day could be extended. A report due on
2 October is due on 2 October; the officer sends it before the holiday.

All dates are Asia/Shanghai calendar dates; ``now`` is converted before comparing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from node.deadlines.workdays import DueDate, WorkCalendar

__all__ = [
    "RULES",
    "SHANGHAI",
    "DeadlineRule",
    "OpenItem",
    "due_date",
    "get_rule",
    "semiannual_bounds",
    "shanghai_date",
    "statistical_year",
    "statistical_year_bounds",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

RuleKind = Literal[
    "workdays", "fixed_day_next_month", "fixed_date", "end_of_month", "months", "until_done"
]
Period = Literal["semiannual", "statistical_year"]


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """One deadline of the regulations.

    ``amount`` is the number of working days (``workdays``); ``day`` the day of the month
    (``fixed_day_next_month``, ``fixed_date``); ``month`` and ``period`` the date and the
    reporting period it closes (``fixed_date``). ``counts_from`` says what the event is.
    """

    name: str
    zh_name: str
    kind: RuleKind
    source: str
    counts_from: str
    amount: int | None = None
    month: int | None = None
    day: int | None = None
    period: Period | None = None

    def __post_init__(self) -> None:
        # A rule table is code: a wrong combination is a programmer mistake, found at import.
        wanted = {
            "workdays": ("amount",),
            "fixed_day_next_month": ("day",),
            "fixed_date": ("month", "day", "period"),
            "end_of_month": (),
            "months": ("amount",),
            "until_done": (),
        }[self.kind]
        for name in ("amount", "month", "day", "period"):
            if (getattr(self, name) is not None) != (name in wanted):
                raise ValueError(f"rule {self.name}: {name} does not fit kind {self.kind}")
        # Day 29-31 does not exist in every month; no regulation needs one.
        if self.day is not None and not 1 <= self.day <= 28:
            raise ValueError(f"rule {self.name}: day must be 1-28")


def _wd(name: str, zh: str, amount: int, source: str, counts_from: str) -> DeadlineRule:
    return DeadlineRule(name, zh, "workdays", source, counts_from, amount=amount)


def _fixed(name: str, zh: str, month: int, day: int, period: Period, source: str) -> DeadlineRule:
    counts_from = f"any day of the {period.replace('_', ' ')}"
    return DeadlineRule(
        name, zh, "fixed_date", source, counts_from, month=month, day=day, period=period
    )


# fmt: off
RULES: tuple[DeadlineRule, ...] = (
    DeadlineRule("monthly_change_report", "村月变更报告单报乡镇", "fixed_day_next_month",
                 "篇3 第29条", "any day of the month reported", day=2),
    DeadlineRule("township_monthly_report", "乡镇月报表报县", "fixed_day_next_month",
                 "篇4 第42条", "any day of the month reported", day=6),
    _fixed("semiannual_tables_township", "乡镇半年报表", 4, 13, "semiannual", "篇10 第28条"),
    _fixed("semiannual_tables_county", "县半年报表", 4, 16, "semiannual", "篇10 第28条"),
    _fixed("annual_tables_township", "乡镇年报表", 10, 13, "statistical_year", "篇10 第28条"),
    _fixed("annual_tables_county", "县年报表", 10, 16, "statistical_year", "篇10 第28条"),
    _fixed("benefit_fund_stats_april", "奖励扶助金半年统计（4月）", 4, 10, "semiannual",
           "篇4 第16条"),
    _fixed("benefit_fund_stats_october", "奖励扶助金统计年度统计（10月）", 10, 10,
           "statistical_year", "篇4 第16条"),
    _wd("benefit_recipient_change", "奖励扶助对象变更转报", 5, "篇3 第12条, 篇4 第16条",
        "the township receives the village's change"),
    DeadlineRule("benefit_change_in_month", "奖励扶助对象变更当月登记", "end_of_month",
                 "篇3 第12条", "the change happens (certificate, death, hukou moved away)"),
    DeadlineRule("benefit_in_person_check", "奖励扶助对象本人核验（每半年）", "months",
                 "篇4 第16条", "the last in-person check (or enrolment)", amount=6),
    _wd("birth_registration_to_township", "生育登记报乡镇", 5, "篇3 第11条",
        "the village receives the registration"),
    _wd("birth_registration_township_report", "乡镇生育登记并报县", 5, "篇4 第15条",
        "the township receives the registration"),
    _wd("floating_birth_registration_to_township", "流入妇女生育登记：核实户籍地后报乡镇", 5,
        "篇10 第15条", "the residence village receives the registration"),
    _wd("floating_birth_registration_township", "流入妇女生育登记：乡镇登记", 10,
        "篇10 第15条", "the township receives the registration from the village"),
    _wd("floating_birth_registration_notify_hukou", "流入妇女生育登记：告知户籍地", 10,
        "篇10 第15条", "the township registers it"),
    _wd("floating_notification", "流入地通报户籍地", 5, "篇10 第24条",
        "the event at the residence place"),
    _wd("floating_hukou_reply", "户籍地核实更新并反馈", 5, "篇10 第24条",
        "the hukou place receives the notification"),
    _wd("county_enquiry", "外县协查", 10, "篇9 五(三)", "the enquiry is received"),
    _wd("county_enquiry_birth", "外县出生协查", 5, "篇9 五(三)",
        "the enquiry about a birth is received"),
    _wd("floating_data_change", "流动人口信息变更", 5, "篇10 第24条",
        "the change becomes known"),
    DeadlineRule("complaint_follow_up", "信访：首问责任人跟踪至答复", "until_done",
                 "篇4 第18条, 篇3", "the complaint is received"),
    _wd("tip_off_investigation", "举报调查", 5, "篇4 第18条", "the tip-off is received"),
)
# fmt: on

_BY_NAME = {rule.name: rule for rule in RULES}


def get_rule(name: str) -> DeadlineRule:
    """Return the rule called ``name``.

    Raises:
        KeyError: there is no such rule.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown deadline rule {name!r}") from None


def statistical_year(day: date) -> int:
    """Return the statistical year of ``day``: 1 October - 30 September (篇4 第16条),
    named by the calendar year in which it ends (2025-10-01 is in statistical year 2026)."""
    return day.year + 1 if day.month >= 10 else day.year


def statistical_year_bounds(year: int) -> tuple[date, date]:
    """Return the first and last day of statistical year ``year``."""
    return date(year - 1, 10, 1), date(year, 9, 30)


def semiannual_bounds(year: int) -> tuple[date, date]:
    """Return the first and last day of the semiannual period of statistical year ``year``:
    1 October - 31 March, the half the semiannual tables report (篇10 第28条)."""
    return date(year - 1, 10, 1), date(year, 3, 31)


def shanghai_date(now: datetime) -> date:
    """Return the Asia/Shanghai calendar date of an aware ``now``.

    Raises:
        ValueError: ``now`` is naive; its zone would be a guess, and a guess near midnight
            puts an item overdue a day early or late.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(SHANGHAI).date()


def due_date(rule_name: str, event: date, calendar: WorkCalendar | None = None) -> DueDate:
    """Return the due date of ``rule_name`` for an event on ``event`` (Shanghai date).

    Args:
        rule_name: a name from ``RULES``.
        event: what the rule's ``counts_from`` describes, as a calendar date.
        calendar: the node's calendar with its imported county schedules; without it,
            years beyond the package's data fall back to provisional Monday-Friday.

    Raises:
        KeyError: unknown rule.
        TypeError: ``event`` is not a date (or is a datetime).
        ValueError: a semiannual deadline for an event in April-September, which no
            semiannual table covers (the annual tables report it).
    """
    rule = get_rule(rule_name)
    if isinstance(event, datetime) or not isinstance(event, date):
        # A datetime would bring its own calendar day, not necessarily Shanghai's.
        raise TypeError(f"event must be a datetime.date, got {type(event).__name__}")
    if rule.kind == "until_done":
        raise ValueError(f"rule {rule.name} has no due date: it is followed until done")
    if rule.kind == "end_of_month":
        following = date(event.year + event.month // 12, event.month % 12 + 1, 1)
        return DueDate(following - timedelta(days=1), False)
    if rule.kind == "months":
        assert rule.amount is not None
        return DueDate(add_months(event, rule.amount), False)
    if rule.kind == "workdays":
        assert rule.amount is not None
        return (calendar if calendar is not None else WorkCalendar()).add_workdays(
            event, rule.amount
        )
    assert rule.day is not None
    if rule.kind == "fixed_day_next_month":
        year, month = (event.year + 1, 1) if event.month == 12 else (event.year, event.month + 1)
        return DueDate(date(year, month, rule.day), False)
    assert rule.month is not None
    year = statistical_year(event)
    bounds = semiannual_bounds if rule.period == "semiannual" else statistical_year_bounds
    first, last = bounds(year)
    if not first <= event <= last:
        raise ValueError(f"{event} is outside every {rule.period} period of rule {rule.name}")
    due = date(last.year, rule.month, rule.day)
    if due <= last:
        due = date(last.year + 1, rule.month, rule.day)
    return DueDate(due, False)


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; a day the month lacks becomes its last day."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    first = date(year, month0 + 1, 1)
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    return first.replace(day=min(day.day, last.day))


@dataclass(frozen=True, slots=True)
class OpenItem:
    """A task with a deadline: a report to send, a notification to answer, a complaint.

    Args:
        rule: a rule name from ``RULES``.
        event: the event date the deadline counts from.
        done: the Shanghai date it was done, or None while open.
        calendar: the node's calendar (see ``due_date``).
    """

    rule: str
    event: date
    done: date | None = None
    calendar: WorkCalendar | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        get_rule(self.rule)  # fail when the item is made, not when a screen first shows it

    @property
    def has_due_date(self) -> bool:
        """False for an item followed until done (a complaint), which has no date."""
        return get_rule(self.rule).kind != "until_done"

    @property
    def due(self) -> DueDate:
        """The due date.

        Raises:
            ValueError: the item has no due date (``has_due_date`` is False).
        """
        return due_date(self.rule, self.event, self.calendar)

    @property
    def done_on_time(self) -> bool | None:
        """True/False once done (for the "answered on time" figures of Table 5), else None;
        an item without a due date is on time whenever it is done."""
        if self.done is None:
            return None
        return not self.has_due_date or self.done <= self.due.due

    def is_overdue(self, now: datetime) -> bool:
        """Whether the item is not done and today in Shanghai is after its due date
        (never, for an item without one).

        Raises:
            ValueError: ``now`` is naive.
        """
        day = shanghai_date(now)
        return self.done is None and self.has_due_date and day > self.due.due

    def days_left(self, now: datetime) -> int | None:
        """Calendar days from today in Shanghai to the due date: 0 due today, < 0 overdue,
        None for an item without a due date.

        Calendar days, not working days, because officers read it against the wall
        calendar ("due in 3 days"); the due date itself already counts working days.

        Raises:
            ValueError: ``now`` is naive.
        """
        day = shanghai_date(now)
        return (self.due.due - day).days if self.has_due_date else None
