# SPDX-License-Identifier: Apache-2.0
"""What is due: every open item with the person's name, the Chinese name of the item and
its due date on the official working-day calendar, and a button to record it done.

Listing names people, so node/open_items.py audits it; closing an item records what was
done through node/closing.py (the sending of a report, the date a registration was
passed on, the answer to a complaint), never a tick that changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from node.calendar_store import node_calendar
from node.closing import close_item
from node.errors import ValidationError
from node.open_items import Due, open_items
from node.pages.accounts import Right
from node.pages.card import noon
from node.pages.context import get_store, today
from node.pages.guard import page_blueprint, requires
from node.timeutil import read_written_date

bp = page_blueprint("due", __name__, url_prefix="/due")
PANEL_ITEMS = 6


@dataclass(frozen=True, slots=True)
class DueLine:
    item_id: str
    name: str
    person: str
    record_id: str
    kind: str
    owner: str
    due: date | None
    provisional: bool
    overdue: bool
    days_left: int | None


def due_lines(purpose: str) -> list[DueLine]:
    store = get_store()
    day = today()
    items = open_items(
        store, day, node_calendar(store.data_dir), actor=g.operator.name, purpose=purpose
    )
    return [_line(d, noon(day)) for d in items]


def _line(d: Due, now: datetime) -> DueLine:
    dated = d.item.has_due_date
    return DueLine(
        d.item_id,
        d.zh_name,
        d.person,
        d.record_id,
        d.kind,
        d.owner,
        d.item.due.due if dated else None,
        d.item.due.provisional if dated else False,
        d.item.is_overdue(now) if dated else False,
        d.item.days_left(now) if dated else None,
    )


@bp.get("")
@requires(Right.DUE)
def index() -> ResponseReturnValue:
    return render_template("due.html", lines=due_lines("due page"))


@bp.post("/done")
@requires(Right.CLOSE_ITEMS)
def done() -> ResponseReturnValue:
    item_id = request.form.get("item", "")[:200]
    when = request.form.get("done_date", "")[:40].strip()
    what = request.form.get("what", "").strip()[:100] or None
    day = read_written_date(when) if when else today()
    if day is None:
        flash(_("Write the date as 2026年3月5日 or 2026-03-05."), "error")
        return redirect(url_for("due.index"))
    try:
        close_item(get_store(), item_id, day, what, actor=g.operator.name, today=today())
    except ValidationError as refused:
        flash("；".join(p.zh for p in refused.problems), "error")
    else:
        flash(_("Recorded as done."))
    return redirect(url_for("due.index"))
