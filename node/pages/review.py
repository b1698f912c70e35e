# SPDX-License-Identifier: Apache-2.0
"""The township's review of its villages' monthly changes, on a page.

The same review as ``renkou node review`` (node/review/listing.py): each village's
changes of a month (of every village, or of the one chosen, as ``--village``), from the
township's review store, which keeps what the review needs for the review window
(SPEC.md §6.3.2), so it works after the county has acknowledged the batches. Every
record shown is an audit row naming the operator. A month outside the window is not an
error page: the page says why it shows nothing.
"""

from __future__ import annotations

from flask import abort, g, render_template, request
from flask.typing import ResponseReturnValue

from node.errors import ValidationError
from node.pages.accounts import Right
from node.pages.context import get_store, now_ms, today
from node.pages.guard import page_blueprint, requires
from node.pages.registers import asked_month, last_month
from node.review.listing import review_month, villages_kept
from node.store.review import in_window
from protocol import Role as NodeRole

bp = page_blueprint("review", __name__, url_prefix="/review")


def _month() -> str:
    """The month asked for; by default the previous one (under review until the 6th)
    while it is inside the window, else this one."""
    previous = last_month(today())
    return asked_month(previous if in_window(previous, now_ms()) else today().strftime("%Y-%m"))


@bp.get("")
@requires(Right.REGISTERS)
def index() -> ResponseReturnValue:
    store = get_store()
    if store.node.role is not NodeRole.TOWNSHIP:
        abort(404)  # only a township keeps its villages' changes (node/pages/menu.py)
    month, village = _month(), request.args.get("village", "")
    try:
        villages = review_month(
            store, month, actor=g.operator.name, village=village or None, now_ms=now_ms()
        )
        problem = ""
    except ValidationError as exc:
        villages, problem = [], exc.problems[0].zh
    # The villages to choose from are codes only (no record is read, so no audit row);
    # the one asked for stays selectable even in a month it has no changes.
    choices = sorted({*villages_kept(store, month), village}) if not problem else []
    return render_template(
        "review.html",
        month=month,
        village=village,
        choices=[c for c in choices if c],
        villages=villages,
        problem=problem,
    )
