# SPDX-License-Identifier: Apache-2.0
"""A year's official holiday schedule, as the county publishes it to its nodes.

The State Council announces each year's holidays and make-up working weekends
(国务院办公厅关于××年部分节假日安排的通知) in November or December of the year before.
Village PCs run for years without software updates, so the ``chinese_calendar`` package
on them soon stops covering the current year; the county therefore republishes every new
schedule as signed metadata::

    {"v": 1, "type": "holiday_schedule", "year": 2027,
     "holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...],
     "published": "2026-11-10", "source": "国务院办公厅关于2027年部分节假日安排的通知"}

``holidays`` lists the days off of the notice (weekend days inside a holiday block may be
listed too, as the notice does); ``workdays`` lists the make-up working days (调休上班),
which are always Saturdays or Sundays. Every other day is a working day from Monday to
Friday.

The signature is not this module's business: the protocol layer (``protocol.signed``)
verifies the signed container against the county's key and hands over only the decoded
body. ``load_schedule`` validates the content of that body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import chinese_calendar
from marshmallow import RAISE, Schema, fields, post_load, validates_schema
from marshmallow import ValidationError as SchemaError
from marshmallow.validate import Equal, Length, Range

from node.errors import FieldProblem, ValidationError

__all__ = [
    "MAX_HOLIDAYS",
    "MAX_WORKDAYS",
    "YearSchedule",
    "YearScheduleSchema",
    "dump_schedule",
    "load_schedule",
    "schedule_from_chinese_calendar",
]

#: Years a schedule may name; the same span the calendar promises never to crash on.
MIN_YEAR, MAX_YEAR = 1900, 2200
#: Real years list at most 33 holiday dates and 12 make-up days (chinese_calendar
#: 2004-2026); the bounds leave room for extraordinary years and reject garbage.
MAX_HOLIDAYS = 60
MAX_WORKDAYS = 20
SCHEDULE_TYPE = "holiday_schedule"

# Only YYYY-MM-DD with ASCII digits. date.fromisoformat alone would also take
# "20270101", "2027-W01-1" and full-width digits: a signed body has one spelling per value.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """The official holidays and make-up working days of one year.

    ``published`` is the publication date of a county schedule, used to pick the newest
    when a corrected schedule for the same year arrives; it is None for a schedule taken
    from the ``chinese_calendar`` package, which records no publication date.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    published: date | None
    source: str

    def is_workday(self, day: date) -> bool:
        """Return whether ``day`` (in this schedule's year) is a working day.

        Raises:
            ValueError: ``day`` lies in another year.
        """
        if day.year != self.year:
            raise ValueError(f"{day} is not in the {self.year} schedule")
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


# Stable codes and their bilingual messages. Marshmallow is given the codes as its error
# messages, so the translation below never depends on marshmallow's English wording.
_MESSAGES: dict[str, tuple[str, str]] = {
    "schedule.not_an_object": ("节假日安排必须是 JSON 对象", "the schedule must be a JSON object"),
    "schedule.unknown_field": ("不认识的字段", "unknown field"),
    "schedule.required": ("缺少必填字段", "required field is missing"),
    "schedule.null": ("不能为空值", "may not be null"),
    "schedule.wrong_type": ("类型不对", "wrong type"),
    "schedule.not_a_date": ("日期格式应为 YYYY-MM-DD", "date must be written YYYY-MM-DD"),
    "schedule.wrong_version": ("只支持版本 1", "only version 1 is supported"),
    "schedule.wrong_kind": ("类型应为 holiday_schedule", "type must be holiday_schedule"),
    "schedule.year_range": (
        f"年份应在 {MIN_YEAR} 至 {MAX_YEAR} 之间",
        f"year must be between {MIN_YEAR} and {MAX_YEAR}",
    ),
    "schedule.empty": ("至少要有一个节假日", "at least one holiday is required"),
    "schedule.too_many": ("日期个数过多", "too many dates"),
    "schedule.source_length": ("来源应为 1 至 200 个字符", "source must be 1 to 200 characters"),
    "schedule.outside_year": ("日期不在该年度内", "date is not in the schedule's year"),
    "schedule.duplicate": ("日期重复", "date is listed twice"),
    "schedule.holiday_and_workday": (
        "同一天不能既放假又上班",
        "a day cannot be both a holiday and a working day",
    ),
    "schedule.not_weekend": (
        "调休上班日应为星期六或星期日",
        "a make-up working day must be a Saturday or Sunday",
    ),
}


def _parse_date(value: object) -> date | None:
    """Return the date spelled YYYY-MM-DD by ``value``, or None."""
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # 2027-02-30
        return None


def _codes(**extra: str) -> dict[str, Any]:
    """Error messages for one field: the common codes plus the field's own."""
    return {
        "required": "schedule.required",
        "null": "schedule.null",
        "invalid": "schedule.wrong_type",
        **extra,
    }


class _IsoDate(fields.Field[date]):
    """A calendar date spelled exactly YYYY-MM-DD."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> date:
        day = _parse_date(value)
        if day is None:
            raise self.make_error("invalid")
        return day

    def _serialize(self, value: date | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else value.isoformat()


def _date_list(max_size: int, *, min_size: int = 0) -> fields.List:
    validators = [Length(max=max_size, error="schedule.too_many")]
    if min_size:
        validators.insert(0, Length(min=min_size, error="schedule.empty"))
    return fields.List(
        _IsoDate(error_messages=_codes(invalid="schedule.not_a_date")),
        required=True,
        validate=validators,
        error_messages=_codes(),
    )


class YearScheduleSchema(Schema):
    """Validates a ``holiday_schedule`` body and loads it into a YearSchedule."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "schedule.unknown_field", "type": "schedule.not_an_object"}

    v = fields.Integer(
        required=True,
        strict=True,
        validate=Equal(1, error="schedule.wrong_version"),
        error_messages=_codes(),
    )
    kind = fields.String(
        data_key="type",
        required=True,
        validate=Equal(SCHEDULE_TYPE, error="schedule.wrong_kind"),
        error_messages=_codes(),
    )
    year = fields.Integer(
        required=True,
        strict=True,
        validate=Range(MIN_YEAR, MAX_YEAR, error="schedule.year_range"),
        error_messages=_codes(),
    )
    holidays = _date_list(MAX_HOLIDAYS, min_size=1)
    workdays = _date_list(MAX_WORKDAYS)
    published = _IsoDate(required=True, error_messages=_codes(invalid="schedule.not_a_date"))
    source = fields.String(
        required=True,
        validate=Length(1, 200, error="schedule.source_length"),
        error_messages=_codes(),
    )

    # Run even when a field failed, so the officer sees every problem in one pass. The
    # checks read the original lists: marshmallow drops invalid items from a list it
    # rejects, which would shift every index reported after them.
    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _check_dates(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        year = data.get("year")
        lists = {name: _dated_items(original, name) for name in ("holidays", "workdays")}
        clash = {d for _, d in lists["holidays"]} & {d for _, d in lists["workdays"]}
        errors: dict[str, dict[int, list[str]]] = {}
        for name, items in lists.items():
            for index, code in _list_problems(items, year, clash, makeup=name == "workdays"):
                errors.setdefault(name, {}).setdefault(index, []).append(code)
        if errors:
            raise SchemaError(errors)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> YearSchedule:
        return YearSchedule(
            year=data["year"],
            holidays=frozenset(data["holidays"]),
            workdays=frozenset(data["workdays"]),
            published=data["published"],
            source=data["source"],
        )


def _dated_items(original: Any, name: str) -> list[tuple[int, date]]:
    """(index, date) for each well-spelled date of list ``name`` of the raw input."""
    raw = original.get(name) if isinstance(original, dict) else None
    if not isinstance(raw, list):
        return []
    parsed = ((index, _parse_date(value)) for index, value in enumerate(raw))
    return [(index, day) for index, day in parsed if day is not None]


def _list_problems(
    items: list[tuple[int, date]], year: object, clash: set[date], *, makeup: bool
) -> Iterator[tuple[int, str]]:
    """Yield (index, code) for each date out of the year, repeated, in both lists, or a
    make-up working day that is not a weekend day."""
    seen: set[date] = set()
    for index, day in items:
        if isinstance(year, int) and day.year != year:
            yield index, "schedule.outside_year"
        if day in seen:
            yield index, "schedule.duplicate"
        if day in clash:
            yield index, "schedule.holiday_and_workday"
        if makeup and day.weekday() < 5:
            yield index, "schedule.not_weekend"
        seen.add(day)


def _problems(messages: Any, path: str = "") -> Iterator[FieldProblem]:
    """Flatten marshmallow's nested error dict into one FieldProblem per message."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            # "_schema" marks a problem of the enclosing object itself: at the root, the
            # whole body; inside a list's entry, the list (marshmallow merges the two).
            if key == "_schema":
                yield from _problems(value, path)
            else:
                yield from _problems(value, f"{path}.{key}" if path else str(key))
        return
    for message in messages if isinstance(messages, list) else [messages]:
        code = str(message)
        if code not in _MESSAGES:  # a message marshmallow wrote itself; keep its words
            yield FieldProblem(path or "schedule", "schedule.invalid", "内容无效", code)
            continue
        zh, en = _MESSAGES[code]
        yield FieldProblem(path or "schedule", code, zh, en)


def load_schedule(obj: dict[str, Any]) -> YearSchedule:
    """Validate a verified ``holiday_schedule`` body and return its YearSchedule.

    The caller (the protocol layer) has already checked the county's signature over the
    signed container; this function checks only the content.

    Args:
        obj: the decoded body, without any signature.

    Returns:
        The schedule, ready for ``WorkCalendar(schedules=[...])``.

    Raises:
        node.errors.ValidationError: listing every problem, one FieldProblem each, with
            dotted paths such as ``holidays.3``.
    """
    try:
        result: YearSchedule = YearScheduleSchema().load(obj)
    except SchemaError as err:
        raise ValidationError(list(_problems(err.messages))) from None
    return result


def dump_schedule(schedule: YearSchedule) -> dict[str, Any]:
    """Return the ``holiday_schedule`` body for ``schedule``, dates sorted, ready to sign.

    Raises:
        ValueError: the schedule has no publication date (it came from the package).
    """
    if schedule.published is None:
        raise ValueError("a schedule needs a publication date before it can be published")
    return {
        "v": 1,
        "type": SCHEDULE_TYPE,
        "year": schedule.year,
        "holidays": [d.isoformat() for d in sorted(schedule.holidays)],
        "workdays": [d.isoformat() for d in sorted(schedule.workdays)],
        "published": schedule.published.isoformat(),
        "source": schedule.source,
    }


def schedule_from_chinese_calendar(year: int) -> YearSchedule:
    """Build ``year``'s schedule from the ``chinese_calendar`` package's data.

    Used to check that a county-published schedule answers exactly as the package does,
    and to give the county a starting point. Only the package's public functions are used.

    Raises:
        ValueError: the installed package has no data for ``year``.
    """
    first, last = date(year, 1, 1), date(year, 12, 31)
    try:
        # include_weekends=False returns exactly the notice's days off, weekend ones too.
        holidays = chinese_calendar.get_holidays(first, last, include_weekends=False)
    except NotImplementedError:
        raise ValueError(f"chinese_calendar has no data for {year}") from None
    workdays = [
        d
        for d in chinese_calendar.get_dates(first, last)
        if d.weekday() >= 5 and chinese_calendar.is_workday(d)
    ]
    return YearSchedule(
        year=year,
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        published=None,
        source=f"chinese_calendar {chinese_calendar.__version__}",
    )
