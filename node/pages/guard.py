# SPDX-License-Identifier: Apache-2.0
"""Every page's gate: a signed-in, unexpired session, the right for the view, CSRF.

Each page blueprint is made by :func:`page_blueprint`, which puts the checks in front of
all its views, so no view can forget them: a request without a live session goes to the
sign-in page (and returns to where it was going), a POST without the form's CSRF token is
refused, and :func:`requires` names the right a view needs (domain.md section 5: least
access). Responses carrying personal data are never cached by the browser.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFProtect

from node.pages import errors
from node.pages.accounts import Right, SignedIn, may
from node.pages.context import now_ms, operators

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
TOUCH_EVERY_MS = 30_000
"""A session's last use is written at most this often (a write per page is wasted work)."""


def page_blueprint(name: str, import_name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint whose views all need a signed-in operator (``public`` views excepted)."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix, template_folder="templates")
    bp.before_request(_guard)
    bp.after_request(_headers)
    errors.attach(bp)
    return bp


def public(view: F) -> F:
    """Mark a view that needs no session (the sign-in page)."""
    view._renkou_public = True  # type: ignore[attr-defined]  # a marker read by _guard
    return view


def requires(right: Right) -> Callable[[F], F]:
    """The view answers 403 to an operator whose role lacks ``right``."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not may(g.operator.role, right):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature

    return decorate


def current_operator() -> SignedIn | None:
    """The operator of this request's session, or None (no, ended or idle session).

    An idle session is ended here, in the database, so it cannot come back later; so is
    the session of an account disabled meanwhile.
    """
    token = session.get("sid")
    if not isinstance(token, str):
        return None
    store, now = operators(), now_ms()
    found = store.session(token)
    idle_ms = int(_config("RENKOU_SESSION_IDLE_S")) * 1000
    if found is None or found.ended_at is not None:
        session.clear()
        return None
    account = store.get(found.operator)
    if now - found.last_seen > idle_ms or account is None or account.disabled:
        store.end_session(token, now)
        session.clear()
        session["expired"] = True
        return None
    if now - found.last_seen >= TOUCH_EVERY_MS:
        store.touch_session(token, now)
    return SignedIn(account.name, account.role)


def start_session(who: SignedIn) -> None:
    """A fresh session (and a fresh CSRF token) for ``who``: nothing of the old one survives."""
    session.clear()
    token = secrets.token_urlsafe(32)
    operators().open_session(token, who.name, now_ms())
    session["sid"] = token


def end_session() -> None:
    token = session.get("sid")
    if isinstance(token, str):
        operators().end_session(token, now_ms())
    session.clear()


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _guard() -> ResponseReturnValue | None:
    if request.method == "POST":
        csrf.protect()
    view = request.endpoint and _view_function(request.endpoint)
    if view is not None and getattr(view, "_renkou_public", False):
        g.operator = None
        return None
    who = current_operator()
    if who is None:
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.login", next=safe_next(target and target.rstrip("?"))))
    g.operator = who
    return None


def _view_function(endpoint: str) -> Callable[..., Any] | None:
    from flask import current_app

    return current_app.view_functions.get(endpoint)


def _config(key: str) -> Any:
    from flask import current_app

    return current_app.config[key]


def _headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " form-action 'self'; frame-ancestors 'none'",
    )
    return response


def describe_refusal() -> str:
    """The sentence the sign-in page shows after a session ended by itself."""
    return _("Your session ended after a while without use. Please sign in again.")
