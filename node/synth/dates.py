# SPDX-License-Identifier: Apache-2.0
"""Calendar helpers: months and whole years from a date, ages, random days.

Ages here are completed years (周岁), computed as the rules compute them
(``node.domain.rules.age_on``), so a woman the generator thinks is 15 is 15 to the
validator too.
"""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months; the 31st becomes the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes 28 February when needed."""
    return add_months(day, 12 * years)


def age_on(born: date, on: date) -> int:
    """Age in completed years on ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def between(rng: random.Random, lo: date, hi: date) -> date:
    """A uniformly random day in ``[lo, hi]`` (``lo`` if the range is empty)."""
    span = (hi - lo).days
    return lo if span <= 0 else lo + timedelta(days=rng.randint(0, span))


def birth_for_age(rng: random.Random, on: date, age: int) -> date:
    """A birth date giving exactly ``age`` completed years on ``on``."""
    latest = add_years(on, -age)
    earliest = add_years(on, -(age + 1)) + timedelta(days=1)
    return between(rng, earliest, latest)


def days(n: int) -> timedelta:
    return timedelta(days=n)
