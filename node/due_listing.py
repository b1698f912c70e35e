# SPDX-License-Identifier: Apache-2.0
"""The lines ``renkou node due`` prints: one open item per line, escaped for a terminal.

Kept apart from the command so the CLI module stays a thin door, and so the lines (which
name people) go through :func:`node.domain.text.terminal_safe` in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

from node.calendar_store import node_calendar
from node.domain.text import terminal_safe
from node.i18n import gettext as _
from node.i18n.cli import table
from node.open_items import open_items
from node.store.store import NodeStore
from node.timeutil import SHANGHAI, shanghai_today


def owner_name(owner: str) -> str:
    """Whose item it is (本村, 乡镇)."""
    return {"village": _("village"), "township": _("township")}.get(owner, owner)


def due_lines(data_dir: Path, today: datetime | None, actor: str) -> Iterator[str]:
    """Open items of the node in ``data_dir`` as printed lines (``today`` a datetime or None)."""
    store = NodeStore.open(data_dir)
    try:
        day = today.date() if isinstance(today, datetime) else shanghai_today()
        yield from format_items(store, day, actor)
    finally:
        store.close()


def format_items(store: NodeStore, day: date, actor: str) -> Iterator[str]:
    now = datetime.combine(day, time(12), SHANGHAI).astimezone(UTC)
    items = open_items(store, day, node_calendar(store.data_dir), actor=actor, purpose="due list")
    rows = []
    for d in items:
        if d.item.has_due_date:
            due = d.item.due
            late = d.item.is_overdue(now)
            flag = _("overdue") if late else _("%(n)s day(s)", n=d.item.days_left(now))
            when = due.due.isoformat() + (_(" (provisional)") if due.provisional else "")
        else:
            flag, when = _("until done"), "—"
        who = owner_name(d.owner)
        rows.append([when, flag, f"{d.zh_name}（{who}）", d.person, d.item_id])
    for line in table(rows):
        yield terminal_safe(line)
    yield _("%(n)s open item(s)", n=len(items))
