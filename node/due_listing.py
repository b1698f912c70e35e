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
from node.open_items import open_items
from node.store.store import NodeStore
from node.timeutil import SHANGHAI, shanghai_today

OWNERS = {"village": "本村", "township": "乡镇"}


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
    for d in items:
        if d.item.has_due_date:
            due = d.item.due
            flag = "逾期 overdue" if d.item.is_overdue(now) else f"{d.item.days_left(now)} 天 days"
            when = f"{due.due}{' (暂定 provisional)' if due.provisional else ''}"
        else:
            flag, when = "跟踪至办结 until done", "—"
        who = OWNERS.get(d.owner, d.owner)
        yield terminal_safe(
            f"{when}  {flag:<14} {d.zh_name}（{who}） {d.person} {d.item_id}".rstrip()
        )
    yield f"{len(items)} 项待办 open item(s)"
