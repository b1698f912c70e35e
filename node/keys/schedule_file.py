# SPDX-License-Identifier: Apache-2.0
"""The administrator's holiday-schedule file: the official notice, typed line by line.

``renkou keys sign-schedule --year 2027 --file holidays-2027.txt`` reads this file,
builds the ``holiday_schedule`` body (SPEC.md §8.7) and signs it with the county root.
deploy/schedules/holidays-2026.txt is the 2026 notice in this format. The format is
plain UTF-8 text, one statement a line, so an administrator can copy it from the State
Council's notice (国务院办公厅关于××年部分节假日安排的通知) without knowing JSON:

    source  国务院办公厅关于2026年部分节假日安排的通知   (来源 also works)
    holiday 2026-02-15..2026-02-23    # 春节 (放假 also works; a range or one day)
    workday 2026-02-14                # 调休上班 (上班 also works; one day a line)

``#`` starts a comment; blank lines are skipped. Exactly one ``source`` line, at least
one ``holiday``. Every date is ``YYYY-MM-DD`` and lies in the ``--year``. A problem is
reported with its line number, all at once; the content rules (no day twice, make-up
days on weekends...) are then the node's own (node/deadlines/schedule.py), so what
the administrator signs is exactly what every node accepts.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from node.deadlines.schedule import MAX_HOLIDAYS, SCHEDULE_TYPE
from node.errors import FieldProblem, ValidationError

MAX_FILE_BYTES = 64 * 1024
_KEYWORDS = {
    "source": "source",
    "来源": "source",
    "holiday": "holiday",
    "放假": "holiday",
    "workday": "workday",
    "上班": "workday",
}
_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_RANGE = re.compile(rf"({_DAY})(?:\.\.({_DAY}))?", re.ASCII)


def _problem(line: int, code: str, zh: str, en: str) -> FieldProblem:
    return FieldProblem(f"line {line}", f"schedule_file.{code}", zh, en)


def _day(text: str, line: int, year: int, problems: list[FieldProblem]) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        problems.append(_problem(line, "not_a_date", f"{text} 不是日期", f"{text} is not a date"))
        return None
    if day.year != year:
        problems.append(
            _problem(
                line,
                "outside_year",
                f"{text} 不在 {year} 年内",
                f"{text} is not in {year}",
            )
        )
        return None
    return day


def _days(value: str, kind: str, line: int, year: int, problems: list[FieldProblem]) -> list[date]:
    match = _RANGE.fullmatch(value)
    if match is None or (kind == "workday" and match.group(2)):
        problems.append(
            _problem(
                line,
                "bad_dates",
                "日期应写作 YYYY-MM-DD（放假可写 YYYY-MM-DD..YYYY-MM-DD）",
                "write a date as YYYY-MM-DD (a holiday may be a range YYYY-MM-DD..YYYY-MM-DD)",
            )
        )
        return []
    first = _day(match.group(1), line, year, problems)
    last = _day(match.group(2), line, year, problems) if match.group(2) else first
    if first is None or last is None:
        return []
    if last < first or (last - first).days >= MAX_HOLIDAYS:
        problems.append(
            _problem(line, "bad_range", "日期范围无效", f"{value} is not a valid range")
        )
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def parse_schedule_file(text: str, year: int, published: date) -> dict[str, Any]:
    """The ``holiday_schedule`` body the file describes (not yet checked by the node's
    rules: :func:`node.deadlines.load_schedule` does that before anything is signed).

    Raises:
        ValidationError: every problem of the file, each naming its line.
    """
    problems: list[FieldProblem] = []
    sources: list[str] = []
    lists: dict[str, list[date]] = {"holiday": [], "workday": []}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        keyword, _, value = line.partition(" ")
        kind = _KEYWORDS.get(keyword.strip())
        value = value.strip()
        if kind is None or not value:
            problems.append(
                _problem(
                    number,
                    "unknown_line",
                    "每行应以 来源/source、放假/holiday 或 上班/workday 开头，后接内容",
                    "each line starts with source, holiday or workday, then its value",
                )
            )
        elif kind == "source":
            sources.append(value)
        else:
            lists[kind].extend(_days(value, kind, number, year, problems))
    if len(sources) != 1:
        problems.append(
            _problem(0, "source", "须有且仅有一行 来源/source", "exactly one source line is needed")
        )
    if problems:
        raise ValidationError(problems)
    return {
        "v": 1,
        "type": SCHEDULE_TYPE,
        "year": year,
        "holidays": [d.isoformat() for d in sorted(lists["holiday"])],
        "workdays": [d.isoformat() for d in sorted(lists["workday"])],
        "published": published.isoformat(),
        "source": sources[0],
    }
