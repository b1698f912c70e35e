# SPDX-License-Identifier: Apache-2.0
"""Time as officers see it: Asia/Shanghai dates, typed the Chinese way or ISO; storage
stays in UTC and ISO."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()


_WRITTEN_DATE = re.compile(
    r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?|[-/.](\d{1,2})[-/.](\d{1,2}))"
)


def written_date_iso(text: str) -> str | None:
    """A date as an officer types it, whatever her browser's or PC's language, written
    YYYY-MM-DD: ISO (2026-03-05, 2026-3-5), the Chinese written form (2026年3月5日) or
    with slashes or dots (2026/3/5, 2026.3.5), full-width digits too (a Chinese input
    method types them). None when ``text`` is none of these; a day that does not exist
    (2026年2月30日) keeps its numbers, so the schema can say that is what is wrong."""
    found = _WRITTEN_DATE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if found is None:
        return None
    year, m1, d1, m2, d2 = found.groups()
    return f"{year}-{int(m1 or m2):02d}-{int(d1 or d2):02d}"


def read_written_date(text: str) -> date | None:
    """:func:`written_date_iso` as a date; None also for a day that does not exist."""
    iso = written_date_iso(text)
    try:
        return date.fromisoformat(iso) if iso else None
    except ValueError:
        return None
