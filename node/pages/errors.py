# SPDX-License-Identifier: Apache-2.0
"""Errors on a page answer with a page in Chinese, not the sync API's JSON.

Registered on every page blueprint (``guard.page_blueprint``), so they apply only to
the pages; the sync API keeps its one JSON shape (node/server/errors.py). Nothing
unexpected is shown to the officer beyond "it was logged", and the log line names
the exception's type only: its text might hold what was typed into a form.
"""

from __future__ import annotations

import logging
import traceback

from flask import Blueprint, g, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from node.errors import NodeError

log = logging.getLogger(__name__)


def _titles() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        403: _("Your account may not open this page."),
        404: _("There is no such page or record."),
        405: _("This page cannot be used that way."),
        413: _("What was sent is too large."),
    }


def attach(bp: Blueprint) -> None:
    bp.register_error_handler(CSRFError, _csrf)
    bp.register_error_handler(HTTPException, _http)
    bp.register_error_handler(NodeError, _node)
    bp.register_error_handler(Exception, _unexpected)


def _page(status: int, message: str) -> ResponseReturnValue:
    g.setdefault("operator", None)
    return render_template("error.html", status=status, message=message), status


def _csrf(exc: CSRFError) -> ResponseReturnValue:
    return _page(
        400,
        _("The form had expired or did not come from this site. Open the page again and resend."),
    )


def page_for(exc: HTTPException) -> ResponseReturnValue:
    """The error page for an address that matched no route (outside the sync API)."""
    return _http(exc)


def _http(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    return _page(status, _titles().get(status, _("The request could not be understood.")))


def _node(exc: NodeError) -> ResponseReturnValue:
    return _page(exc.status, exc.zh)


def _unexpected(exc: Exception) -> ResponseReturnValue:
    # The frames say where; the message is left out, as it may quote a form's input.
    where = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s on a page\n%s", type(exc).__name__, where)
    return _page(500, _("Something went wrong on the server; it was logged. Please try again."))
