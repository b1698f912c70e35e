# SPDX-License-Identifier: Apache-2.0
"""Shared test data for the deadline tests.

``body_2027`` is an INVENTED schedule for a year the installed chinese_calendar does not
cover: it only has to be valid, not true. Real dates in the tests are checked against
the package itself (see test_workdays.py), never typed from memory.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from node.deadlines import package_covers

#: The last year the installed chinese_calendar covers (2026 for 1.11.0). Tests derive
#: from it so that a package upgrade moves them along instead of breaking them.
LAST_PACKAGE_YEAR = max(y for y in range(2004, 2201) if package_covers(y))
FIRST_PACKAGE_YEAR = min(y for y in range(1900, 2201) if package_covers(y))


def body_2027(**changes: Any) -> dict[str, Any]:
    """A valid (invented) 2027 ``holiday_schedule`` body, with ``changes`` applied."""
    body: dict[str, Any] = {
        "v": 1,
        "type": "holiday_schedule",
        "year": 2027,
        "holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-02-22"],
        "workdays": ["2027-02-20"],
        "published": "2026-11-20",
        "source": "测试用（虚构）2027年节假日安排",
    }
    body.update(changes)
    return body


def days_of(year: int) -> list[date]:
    """Every day of ``year``."""
    first = date(year, 1, 1).toordinal()
    return [date.fromordinal(o) for o in range(first, date(year, 12, 31).toordinal() + 1)]
