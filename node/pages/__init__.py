# SPDX-License-Identifier: Apache-2.0
"""The operator pages: server-rendered Chinese pages on every node's Flask app.

``init_app(app)`` adds them beside the sync API: gettext catalogues (zh_CN default,
node/i18n), the signed session cookie keyed from the node's keys/ directory, CSRF
protection on every page form (only the pages': the sync API authenticates each
request with its own MAC), and one blueprint per module. Pages use no JavaScript
framework and no build step; every asset is served from ``static/`` (villages are
offline).
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, g
from flask_babel import Babel

from node.errors import NodeError
from node.i18n import DEFAULT_LOCALE, LOCALE_DIR
from node.pages import (
    auth,
    due,
    errors,
    filters,
    home,
    households,
    imports,
    people,
    records,
    registers,
    review,
    sync_status,
)
from node.pages.accounts import Right, may
from node.pages.context import PagesState, close_store, get_store, today
from node.pages.guard import csrf
from node.pages.menu import menu_for
from node.pages.secret import NodeSessionInterface

SESSION_IDLE_S = 30 * 60
BLUEPRINTS = (
    auth.bp,
    home.bp,
    due.bp,
    people.bp,
    records.bp,
    households.bp,
    imports.bp,
    registers.bp,
    review.bp,
    sync_status.bp,
)
# Stylesheets and the few scripts, open to all (the sign-in page needs them): they hold
# nothing of the node's.
assets = Blueprint("static_pages", __name__, static_folder="static", static_url_path="/assets")


def init_app(app: Flask) -> None:
    app.config.setdefault("RENKOU_SESSION_IDLE_S", SESSION_IDLE_S)
    app.config.setdefault("RENKOU_NOW_MS", lambda: time.time_ns() // 1_000_000)
    # CSRF is checked by the page blueprints themselves (guard._guard), not app-wide.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # as long as the session lives
    # Flask's own defaults are in the config already, so these are set, not defaulted.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_NAME"] = "renkou_session"
    app.session_interface = NodeSessionInterface()
    app.extensions["renkou_pages"] = PagesState()
    Babel(
        app,
        default_locale=DEFAULT_LOCALE,
        default_translation_directories=str(LOCALE_DIR),
        default_timezone="Asia/Shanghai",
        locale_selector=lambda: DEFAULT_LOCALE,
    )
    csrf.init_app(app)
    filters.init_app(app)
    app.teardown_appcontext(close_store)

    app.context_processor(_page_context)
    app.register_blueprint(assets)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    # An address no route knows is answered with a Chinese page, not the sync API's
    # JSON (node/server/errors.py asks for this under its PAGE_ERROR key).
    app.extensions["renkou_page_error"] = errors.page_for


def _page_context() -> dict[str, object]:
    """What every page template may use: the rights of the operator, the header's pages
    (node/pages/menu.py), the village, today."""
    who = g.get("operator")
    try:
        store = get_store()
        village, node = store.name, store.node.role
    except NodeError:  # the error page of a node whose store cannot be opened
        village, node = "", None
    return {
        "may": lambda right: who is not None and may(who.role, Right(right)),
        "menu": menu_for(who.role, node) if who is not None and node is not None else [],
        "village": village,
        "today": today(),
    }
