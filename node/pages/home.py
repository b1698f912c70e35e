# SPDX-License-Identifier: Apache-2.0
"""The page an officer lands on after signing in: where to go next."""

from __future__ import annotations

from flask import g, render_template
from flask.typing import ResponseReturnValue

from node.pages.accounts import Right, may
from node.pages.context import get_store, state
from node.pages.guard import page_blueprint

bp = page_blueprint("home", __name__)


@bp.get("/home")
def home() -> ResponseReturnValue:
    store = get_store()
    groups: list[str] = []
    if may(g.operator.role, Right.READ_CARDS):
        state().people.refresh(store)
        groups = state().people.groups()
    due_panel = None
    if may(g.operator.role, Right.DUE):
        from node.pages.due import PANEL_ITEMS, due_lines

        due_panel = due_lines("home page")[:PANEL_ITEMS]
    return render_template("home.html", groups=groups, due_panel=due_panel)
