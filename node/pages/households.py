# SPDX-License-Identifier: Apache-2.0
"""Households: a household is the people registered at one hukou address (户籍地址).

Moving a person into another household, or into a new one, and saying how she is
related to its head (户主, the card's ``household_relation``), is a correction of her
card (node/editing.py: validated whole, only the changed fields written with their base
version), so it shows in her history and travels like any change. A household has one head at
a time (node/households.py): making someone the head of a household that has one is
the change of head, one edit of both cards, and the form asks for the former head's
relation to the new one; without it the move is refused, naming the household's head.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from node.domain.codes import HEAD, HOUSEHOLD_RELATIONS
from node.editing import correct_record
from node.errors import ValidationError
from node.households import change_head
from node.pages.accounts import Right
from node.pages.context import get_store, state, today
from node.pages.guard import page_blueprint, requires
from node.pages.people import RECORD_ID
from node.pages.people_index import PersonHit
from node.store.queries import entry_mark
from node.store.store import NodeStore

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
    relation = request.form.get("relation", "")[:40]
    former = request.form.get("former_relation", "")[:40]
    if request.method == "POST":
        members = [h for h in index.household(target) if h.record_id != record_id]
        try:
            with store.bulk():  # the cards and their audit rows: one durable commit
                for changed, mark in _save(store, record_id, target, relation, former):
                    store.audit(g.operator.name, "correct", "person", changed, mark)
        except ValidationError as refused:
            error = "；".join(p.zh for p in refused.problems)
        else:
            _said(members, relation)
            return redirect(url_for("people.card", record_id=record_id))
    current = str(card.get("hukou_address") or "")
    return render_template(
        "household_move.html",
        record_id=record_id,
        name=card.get("name", ""),
        current=current,
        members=[h for h in index.household(current) if h.record_id != record_id],
        target=target,
        relation=relation if request.method == "POST" else card.get("household_relation") or "",
        relations=list(HOUSEHOLD_RELATIONS.items()),
        former=former,
        error=error,
    ), (400 if error else 200)


def _save(
    store: NodeStore, record_id: str, target: str, relation: str, former: str
) -> list[tuple[str, str]]:
    """The move, or with the former head's relation given, the change of head; the cards
    written with their entry's mark (none when nothing changed)."""
    if relation == HEAD and former:
        done = change_head(store, record_id, former_relation=former, today=today(), address=target)
        mark = entry_mark(done.entry.log.epoch, done.entry.seq)
        return [(changed, mark) for changed in done.record_ids]
    changes = {"hukou_address": target, "household_relation": relation or None}
    entry = correct_record(store, "person", record_id, changes, today=today())
    return [] if entry is None else [(record_id, entry_mark(entry.log.epoch, entry.seq))]


def _said(members: list[PersonHit], relation: str) -> None:
    """What the officer is told after a move: whose household she joined, as what."""
    if not members:
        flash(_("Registered as a new household at this address."))
        return
    head = next((h for h in members if h.relation == HEAD), None)
    if relation == HEAD and head is not None:
        flash(_("Now the head of this household; %(name)s is no longer its head.", name=head.name))
        return
    flash(_("Moved into the household of %(name)s.", name=members[0].name))
