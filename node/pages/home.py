# SPDX-License-Identifier: Apache-2.0
"""The page an officer lands on after signing in: where to go next."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from node.pages.context import get_store
from node.pages.guard import page_blueprint

bp = page_blueprint("home", __name__)


@bp.get("/home")
def home() -> ResponseReturnValue:
    store = get_store()
    return render_template("home.html", village=store.name)
