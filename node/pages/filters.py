# SPDX-License-Identifier: Apache-2.0
"""How pages write dates, times, roles and coded values: the Chinese way.

Dates as 2026年3月5日 (GB/T 7408's written form in Chinese documents), times in
Asia/Shanghai, coded values through the labels the printed registers use, so a page
never shows an English code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from node.pages import labels
from node.timeutil import SHANGHAI

ROLE_NAMES = {
    "village_officer": _l("village officer"),
    "township_reviewer": _l("township reviewer"),
    "county_statistician": _l("county statistician"),
    "county_admin": _l("county administrator"),
    "auditor": _l("auditor"),
}


def cn_date(value: Any) -> str:
    """'2026-03-05' or a date -> 2026年3月5日; '' for nothing; other text as it is."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI).date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def cn_month(value: str) -> str:
    """'2026-03' -> 2026年3月."""
    try:
        year, month = value.split("-")
        return f"{int(year)}年{int(month)}月"
    except ValueError:
        return value


def cn_time(ms: int | None) -> str:
    """UTC milliseconds -> 2026年3月5日 14:05 in Asia/Shanghai."""
    if not ms:
        return ""
    when = datetime.fromtimestamp(ms / 1000, SHANGHAI)
    return f"{cn_date(when.date())} {when:%H:%M}"


AUDIT_ACTIONS = {
    "read": _l("viewed"),
    "search": _l("searched"),
    "record": _l("recorded"),
    "correct": _l("corrected"),
    "close": _l("closed"),
    "print_register": _l("printed a register"),
    "print_report": _l("printed a report"),
}


def role_name(role: str) -> str:
    return str(ROLE_NAMES.get(role, role))


def audit_time(at: str) -> str:
    """An audit row's UTC ISO timestamp as Shanghai wall time."""
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return at
    return cn_time(int(when.timestamp() * 1000))


def audit_action(action: str) -> str:
    return str(AUDIT_ACTIONS.get(action, action))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        cn_date=cn_date,
        cn_month=cn_month,
        cn_time=cn_time,
        role_name=role_name,
        audit_time=audit_time,
        audit_action=audit_action,
        retire_reason=labels.retire_reason,
        kind_label=labels.kind_label,
        field_label=lambda name, kind="person": labels.field_label(kind, name),
        field_value=field_value,
        audit_purpose=audit_purpose,
    )


def field_value(value: Any, name: str, kind: str = "person") -> Any:
    """A stored value of ``kind.name`` as a page shows it (dates written the Chinese way)."""
    if labels.is_date(kind, name):
        return cn_date(value)
    return labels.value_label(kind, name, value)


def audit_purpose(purpose: str) -> str:
    """How a card was reached, from the purpose the pages wrote into the audit row."""
    if purpose.startswith("search #"):
        asked = purpose.partition(": ")[2]
        return _("from the search “%(asked)s”", asked=asked)
    known = {
        "opened directly": _("opened directly"),
        "correction form": _("to correct it"),
        "household form": _("to change the household"),
    }
    return known.get(purpose, purpose)
