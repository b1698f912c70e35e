# SPDX-License-Identifier: Apache-2.0
"""SPEC.md §8.7 says what a holiday schedule is; these pin the sentences the other
schedule tests do not: the bounds at both ends, the root's signature, the file kept."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from node.calendar_store import import_schedule, node_calendar
from node.deadlines import load_schedule
from node.errors import ValidationError
from protocol import sign_object
from protocol.testing import make_node
from tests.node.deadlines.sample import body_2027


def _codes(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        load_schedule(body)
    return [(p.field, p.code) for p in info.value.problems]


@pytest.mark.parametrize(("year", "outside"), [(1900, 1899), (2200, 2201)])
def test_year_bounds_are_inclusive(year: int, outside: int) -> None:
    """§8.7: `year` is 1900..2200."""
    body = body_2027(year=year, holidays=[f"{year}-01-01"], workdays=[])
    assert year == load_schedule(body).year
    body = body_2027(year=outside, holidays=[f"{outside}-01-01"], workdays=[])
    assert [("year", "schedule.year_range")] == _codes(body)


def _weekend_days(year: int, count: int) -> list[str]:
    """The first ``count`` Saturdays and Sundays of ``year``."""
    day, out = date(year, 1, 1), []
    while len(out) < count:
        if day.weekday() >= 5:
            out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def test_list_bounds() -> None:
    """§8.7: 1..60 holidays, 0..20 make-up working days, a source of 1..200 characters."""
    weekends = _weekend_days(2027, 82)
    workdays, holidays = weekends[:21], weekends[21:]
    assert load_schedule(body_2027(holidays=holidays[:60], workdays=workdays[:20]))
    assert [("holidays", "schedule.too_many")] == _codes(body_2027(holidays=holidays[:61]))
    assert [("workdays", "schedule.too_many")] == _codes(
        body_2027(holidays=holidays[:1], workdays=workdays)
    )
    assert load_schedule(body_2027(source="x" * 200)).source == "x" * 200


def test_signed_by_the_root_and_kept_per_year(tmp_path: Path) -> None:
    """§8.7: signed with the county root key, verified with the enrolled root certificate,
    kept as metadata/holidays-<year>.signed; importing a schedule replaces that year's."""
    root = make_node("440104")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "root.cert").write_bytes(root.cert.raw)
    first = sign_object(body_2027(), root.signing)
    assert 2027 == import_schedule(tmp_path, first).year
    kept = tmp_path / "metadata" / "holidays-2027.signed"
    assert first == kept.read_bytes()
    county_node = make_node("440104001", root)  # a certified node key is not the root's
    with pytest.raises(ValidationError) as info:
        import_schedule(tmp_path, sign_object(body_2027(), county_node.signing))
    assert ["schedule.bad_signature"] == [p.code for p in info.value.problems]
    assert not node_calendar(tmp_path).is_workday(date(2027, 1, 1)).workday  # a Friday off
    second = sign_object(body_2027(published="2026-12-01", holidays=["2027-01-04"]), root.signing)
    import_schedule(tmp_path, second)
    assert second == kept.read_bytes()
    calendar = node_calendar(tmp_path)
    assert calendar.is_workday(date(2027, 1, 1)).workday
    assert not calendar.is_workday(date(2027, 1, 4)).workday
