# SPDX-License-Identifier: Apache-2.0
"""Sign-in and sign-out; ``/`` leads to the sign-in page or, once signed in, home."""

from __future__ import annotations

import logging

from flask import g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from node.pages.accounts import SignInRefused, sign_in
from node.pages.context import now_ms, operators
from node.pages.guard import (
    current_operator,
    describe_refusal,
    end_session,
    page_blueprint,
    public,
    safe_next,
    start_session,
)

bp = page_blueprint("auth", __name__)
log = logging.getLogger(__name__)


@bp.get("/")
@public
def index() -> ResponseReturnValue:
    if current_operator() is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for("home.home"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    error = describe_refusal() if session.pop("expired", False) else None
    name = ""
    if request.method == "POST":
        name = request.form.get("name", "")[:100]
        try:
            who = sign_in(operators(), name.strip(), request.form.get("password", ""), now_ms())
        except SignInRefused as refused:
            # No account name in the log: it may be a person's name, or a password typed
            # into the wrong box.
            log.info("sign-in refused (%s)", refused.code)
            return render_template("login.html", error=refused.zh, name=name), 401
        start_session(who)
        return redirect(safe_next(request.args.get("next")) or url_for("home.home"))
    g.operator = None
    return render_template("login.html", error=error, name=name)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    end_session()
    return redirect(url_for("auth.login"))
