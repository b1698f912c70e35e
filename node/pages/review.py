# SPDX-License-Identifier: Apache-2.0
"""The township's review of its villages' monthly changes, on a page.

The same review as ``renkou node review`` (node/review/listing.py): each village's
changes of a month, from the township's review store, which keeps what the review needs
for the review window (SPEC.md §6.3.2), so it works after the county has acknowledged
the batches. Every record shown is an audit row naming the operator. A month outside the
window is not an error page: the page says why it shows nothing.
"""

from __future__ import annotations

import re

from flask import abort, g, render_template, request
from flask.typing import ResponseReturnValue

from node.errors import ValidationError
from node.pages.accounts import Right
from node.pages.context import get_store, now_ms, today
from node.pages.guard import page_blueprint, requires
from node.pages.registers import last_month
from node.review.listing import review_month
from node.store.review import in_window

bp = page_blueprint("review", __name__, url_prefix="/review")
_MONTH = re.compile(r"\d{4}-\d{2}\Z")


def _month() -> str:
    """The month asked for; by default the previous one (under review until the 6th)
    while it is inside the window, else this one."""
    month = request.args.get("month", "")
    if not month:
        previous = last_month(today())
        month = previous if in_window(previous, now_ms()) else today().strftime("%Y-%m")
    if not _MONTH.match(month):
        abort(400)
    return month


@bp.get("")
@requires(Right.REGISTERS)
def index() -> ResponseReturnValue:
    month = _month()
    try:
        villages = review_month(get_store(), month, actor=g.operator.name, now_ms=now_ms())
        problem = ""
    except ValidationError as exc:
        villages, problem = [], exc.problems[0].zh
    return render_template("review.html", month=month, villages=villages, problem=problem)
