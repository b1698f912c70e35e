# SPDX-License-Identifier: Apache-2.0
"""Find a person, and open her card (every view audited, with the search that led there)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import timedelta

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from node.errors import TooManyRequests
from node.pages.accounts import Right
from node.pages.card import build_card
from node.pages.context import audit_time, get_store, now, state, today
from node.pages.guard import page_blueprint, requires
from node.pages.people_index import MAX_QUERY
from node.store.queries import audit_row, log_search, searches_since

bp = page_blueprint("people", __name__, url_prefix="/people")
RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
SEARCHES_PER_HOUR = 200
"""An officer's busiest hour (a month's changes, a household at a time) stays far below
this; walking the register name by name (a leaked password, a curious colleague) does
not. Set per node with the app's ``RENKOU_SEARCHES_PER_HOUR``."""


@dataclass(frozen=True)
class Query:
    """What an officer searched for; kept in the search's audit row, never in a URL
    (a township's proxy would log an ID number there)."""

    q: str = ""
    group: str = ""
    household: str = ""
    closed: bool = False

    @classmethod
    def from_form(cls) -> Query:
        def text(name: str) -> str:
            return request.form.get(name, "").strip()[:MAX_QUERY]

        return cls(text("q"), text("group"), text("household"), request.form.get("closed") == "1")

    @classmethod
    def from_audit(cls, purpose: str) -> Query:
        try:
            found = json.loads(purpose)
            return cls(
                str(found.get("q", ""))[:MAX_QUERY],
                str(found.get("group", ""))[:MAX_QUERY],
                str(found.get("household", ""))[:MAX_QUERY],
                bool(found.get("closed", False)),
            )
        except (ValueError, AttributeError):
            return cls()

    def as_audit(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    def describe(self) -> str:
        """The search in words, for the audit row of a card it led to."""
        parts = [self.q, f"{self.group}组" if self.group else "", self.household]
        return " ".join(p for p in parts if p)

    @property
    def given(self) -> bool:
        return bool(self.q or self.group or self.household)


@bp.post("")
@requires(Right.READ_CARDS)
def start_search() -> ResponseReturnValue:
    query = Query.from_form()
    if not query.given:
        return redirect(url_for("people.search"))
    _below_the_cap(g.operator.name)
    via = log_search(get_store().db, audit_time(), g.operator.name, query.as_audit())
    return redirect(url_for("people.search", s=via))


def _below_the_cap(operator: str) -> None:
    """Refuse a new search once this operator made the hour's allowance of them: the
    searches stay in the audit trail, so the administrator sees who walked the register."""
    cap = int(current_app.config.get("RENKOU_SEARCHES_PER_HOUR", SEARCHES_PER_HOUR))
    since = (now() - timedelta(hours=1)).isoformat(timespec="seconds")
    if searches_since(get_store().db, operator, since, cap) >= cap:
        raise TooManyRequests(
            _("You made %(n)s searches in the past hour, the most allowed; try again later,"
              " or ask the administrator if your work needs more.", n=cap),
            f"{cap} searches in the past hour, the most allowed; try again later",
        )  # fmt: skip


@bp.get("")
@requires(Right.READ_CARDS)
def search() -> ResponseReturnValue:
    store = get_store()
    index = state().people
    index.refresh(store)
    via = request.args.get("s", type=int)
    query = Query()
    if via:
        found = audit_row(store.db, via)
        if found is None or found.action != "search" or found.actor != g.operator.name:
            abort(404)  # another officer's search, or none: nothing to show
        query = Query.from_audit(found.purpose)
    hits = []
    if query.given:
        hits = index.search(
            query.q, group=query.group, household=query.household, closed=query.closed
        )
    return render_template(
        "search.html", hits=hits, via=via, query=query, groups=index.groups(), searched=query.given
    )


@bp.get("/<record_id>")
@requires(Right.READ_CARDS)
def card(record_id: str) -> ResponseReturnValue:
    if not RECORD_ID.match(record_id):
        abort(404)
    store = get_store()
    purpose = "opened directly"
    via = request.args.get("via", type=int)
    if via:
        found = audit_row(store.db, via)
        if found and found.action == "search" and found.actor == g.operator.name:
            purpose = f"search #{via}: {Query.from_audit(found.purpose).describe()}"
    data = store.read("person", record_id, actor=g.operator.name, purpose=purpose)
    pages = state()
    pages.people.refresh(store)
    pages.log.refresh(store)
    pages.refs.refresh(store)
    view = build_card(store, pages.people, pages.refs, record_id, data, today(), g.operator.name)
    view.history = pages.log.history(store, "person", record_id)
    from node.pages.records import close_choices

    return render_template("card.html", card=view, close_reasons=close_choices())
