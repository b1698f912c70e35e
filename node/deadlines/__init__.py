# SPDX-License-Identifier: Apache-2.0
"""Deadlines of the regulations, counted in official Chinese working days.

``workdays`` knows which days are working days (county schedule, then the
``chinese_calendar`` package, then a provisional Monday-Friday); ``rules`` declares every
deadline of domain.md section 3 as data; ``schedule`` loads the yearly holiday schedule
the county publishes. Pure: no disk, no network, no clock it was not handed.
"""

from node.deadlines.rules import (
    RULES,
    SHANGHAI,
    DeadlineRule,
    OpenItem,
    due_date,
    get_rule,
    semiannual_bounds,
    shanghai_date,
    statistical_year,
    statistical_year_bounds,
)
from node.deadlines.schedule import (
    YearSchedule,
    YearScheduleSchema,
    dump_schedule,
    load_schedule,
    schedule_from_chinese_calendar,
)
from node.deadlines.workdays import (
    CalendarSource,
    DueDate,
    WorkCalendar,
    WorkdayAnswer,
    package_covers,
)

__all__ = [
    "RULES",
    "SHANGHAI",
    "CalendarSource",
    "DeadlineRule",
    "DueDate",
    "OpenItem",
    "WorkCalendar",
    "WorkdayAnswer",
    "YearSchedule",
    "YearScheduleSchema",
    "due_date",
    "dump_schedule",
    "get_rule",
    "load_schedule",
    "package_covers",
    "schedule_from_chinese_calendar",
    "semiannual_bounds",
    "shanghai_date",
    "statistical_year",
    "statistical_year_bounds",
]
