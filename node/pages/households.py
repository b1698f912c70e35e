# SPDX-License-Identifier: Apache-2.0
"""Households: a household is the people registered at one hukou address (户籍地址).

Moving a person into another household, or into a new one, is a correction of her
card's hukou address (node/editing.py: validated whole, only the changed field written
with its base version), so it shows in her history and travels like any change. The
record schemas have no head-of-household field yet; until the domain adds one, the
page says who shares the address and nothing more.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from node.editing import correct_record
from node.errors import ValidationError
from node.pages.accounts import Right
from node.pages.context import get_store, state, today
from node.pages.guard import page_blueprint, requires
from node.pages.people import RECORD_ID
from node.store.queries import entry_mark

bp = page_blueprint("households", __name__, url_prefix="/households")
MAX_ADDRESS = 200


@bp.route("/<record_id>/move", methods=["GET", "POST"])
@requires(Right.WRITE_RECORDS)
def move(record_id: str) -> ResponseReturnValue:
    if not RECORD_ID.match(record_id):
        abort(404)
    store = get_store()
    card = store.read("person", record_id, actor=g.operator.name, purpose="household form")
    index = state().people
    index.refresh(store)
    error = ""
    target = request.form.get("address", "").strip()[:MAX_ADDRESS]
    if request.method == "POST":
        members = index.household(target) if target else []
        try:
            entry = correct_record(
                store, "person", record_id, {"hukou_address": target}, today=today()
            )
        except ValidationError as refused:
            error = "；".join(p.zh for p in refused.problems)
        else:
            if entry is not None:
                store.audit(
                    g.operator.name, "correct", "person", record_id,
                    entry_mark(entry.log.epoch, entry.seq),
                )  # fmt: skip
            flash(
                _("Moved into the household of %(name)s.", name=members[0].name)
                if members
                else _("Registered as a new household at this address.")
            )
            return redirect(url_for("people.card", record_id=record_id))
    current = str(card.get("hukou_address") or "")
    return render_template(
        "household_move.html",
        record_id=record_id,
        name=card.get("name", ""),
        current=current,
        members=[h for h in index.household(current) if h.record_id != record_id],
        target=target,
        error=error,
    ), (400 if error else 200)
