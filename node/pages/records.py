# SPDX-License-Identifier: Apache-2.0
"""Record, correct and close, through forms generated from the record schemas.

Nothing is written unless the whole record passes: a refused form comes back with
every problem next to its field, in Chinese, and what was typed kept. Every write made
here leaves an audit row naming the officer and the log entry it made, which is how
a card's history says who changed what.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from node.domain.records import RECORD_KINDS, REF_KINDS, SEALED_FIELDS
from node.editing import CLOSE_REASONS, close_record, correct_record
from node.errors import FieldProblem, ValidationError
from node.pages.accounts import Right
from node.pages.context import get_store, state, today
from node.pages.forms import build_form, read_form
from node.pages.guard import page_blueprint, requires
from node.pages.labels import CLOSE_REASONS as CLOSE_LABELS
from node.pages.labels import kind_label
from node.recording import add_record
from node.registers.labels import SUBJECT_REFS
from node.store.queries import entry_mark, record_versions
from node.store.store import NodeStore
from protocol import Entry

bp = page_blueprint("records", __name__, url_prefix="/records")
RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")


def _kind(kind: str) -> str:
    if kind not in RECORD_KINDS:
        abort(404)
    return kind


def _record_id(record_id: str) -> str:
    if not RECORD_ID.match(record_id):
        abort(404)
    return record_id


def _audit_write(store: NodeStore, action: str, kind: str, record_id: str, entry: Entry) -> None:
    """The operator's row for a write; called inside the write's own transaction
    (``store.bulk()``), so a save is one durable commit, not two fsyncs, and no record
    is ever saved without the row naming who wrote it."""
    store.audit(g.operator.name, action, kind, record_id, entry_mark(entry.log.epoch, entry.seq))


def _subject(kind: str, data: dict[str, Any]) -> str | None:
    """The person a record is about, whose card the officer returns to."""
    if kind == "person":
        return None
    for ref in SUBJECT_REFS:
        if isinstance(data.get(ref), str):
            return str(data[ref])
    return None


def _back(kind: str, record_id: str, data: dict[str, Any]) -> ResponseReturnValue:
    person = record_id if kind == "person" else _subject(kind, data)
    if person and RECORD_ID.match(person):
        return redirect(url_for("people.card", record_id=person))
    return redirect(url_for("records.view", kind=kind, record_id=record_id))


def _ref_names(values: dict[str, Any]) -> dict[str, str]:
    """Names of the people the form's references point at, shown beside the boxes."""
    index = state().people
    index.refresh(get_store())
    return {
        name: index.name_of(str(values[name]))
        for name, target in REF_KINDS.items()
        if target == "person" and isinstance(values.get(name), str)
    }


def _form_page(
    kind: str, values: dict[str, Any], problems: list[FieldProblem], **extra: Any
) -> str:
    skip = frozenset(SEALED_FIELDS.get(kind, ())) if extra.get("editing") else frozenset()
    fields, loose = build_form(kind, _fold(values), problems, skip=skip)
    return render_template(
        "form.html",
        kind=kind,
        kind_label=kind_label(kind),
        fields=fields,
        loose=loose,
        names=_ref_names(values),
        **extra,
    )


def _fold(values: dict[str, Any]) -> dict[str, Any]:
    """A re-shown form's flat ``reporter.name`` keys as the nested record they fill."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        outer, dot, inner = key.partition(".")
        if dot:
            out.setdefault(outer, {})[inner] = value
        else:
            out[key] = value
    return out


@bp.get("/new")
@requires(Right.WRITE_RECORDS)
def choose() -> ResponseReturnValue:
    person = request.args.get("for", "")
    kinds = [(k, kind_label(k)) for k in RECORD_KINDS if not (person and k == "person")]
    return render_template("choose_kind.html", kinds=kinds, person=_safe_id(person))


def _safe_id(value: str) -> str:
    return value if RECORD_ID.match(value or "") else ""


@bp.route("/new/<kind>", methods=["GET", "POST"])
@requires(Right.WRITE_RECORDS)
def new(kind: str) -> ResponseReturnValue:
    kind = _kind(kind)
    if request.method == "GET":
        person = _safe_id(request.args.get("for", ""))
        fields = RECORD_KINDS[kind]._declared_fields
        values = {ref: person for ref in SUBJECT_REFS if person and ref in fields}
        return _form_page(kind, values, [], person=person)
    data = read_form(kind, request.form)
    store = get_store()
    try:
        with store.bulk():
            record_id = add_record(store, kind, data, today=today())
            entry = next(iter(store.entries(store.changelog.head_seq)))
            _audit_write(store, "record", kind, record_id, entry)
    except ValidationError as refused:
        status = 422 if refused.code == "rule_violation" else 400
        return _form_page(kind, dict(request.form), refused.problems), status
    flash(_("Saved: %(kind)s.", kind=kind_label(kind)))
    return _back(kind, record_id, data)


@bp.get("/<kind>/<record_id>")
@requires(Right.READ_CARDS)
def view(kind: str, record_id: str) -> ResponseReturnValue:
    kind, record_id = _kind(kind), _record_id(record_id)
    if kind == "person":
        return redirect(url_for("people.card", record_id=record_id))
    data = get_store().read(kind, record_id, actor=g.operator.name, purpose="opened directly")
    retired = data.pop("_retired", None)
    from node.pages.card import facts_of

    facts = [f for f in facts_of(kind, data) if f.name not in SEALED_FIELDS.get(kind, ())]
    return render_template(
        "record.html", kind=kind, record_id=record_id, facts=facts, retired=retired, data=data
    )


@bp.route("/<kind>/<record_id>/edit", methods=["GET", "POST"])
@requires(Right.WRITE_RECORDS)
def edit(kind: str, record_id: str) -> ResponseReturnValue:
    kind, record_id = _kind(kind), _record_id(record_id)
    store = get_store()
    if request.method == "GET":
        data = store.read(kind, record_id, actor=g.operator.name, purpose="correction form")
        versions = record_versions(store.db, kind, record_id)
        return _form_page(kind, data, [], editing=record_id, seen=versions[1] if versions else 0)
    skip = frozenset(SEALED_FIELDS.get(kind, ()))
    typed = read_form(kind, request.form, skip=skip)
    changes = {name: typed.get(name) for name in _form_names(kind, skip)}
    seen = request.form.get("seen", type=int)
    try:
        with store.bulk():
            entry = correct_record(store, kind, record_id, changes, today=today(), seen_seq=seen)
            if entry is not None:
                _audit_write(store, "correct", kind, record_id, entry)
    except ValidationError as refused:
        status = 422 if refused.code == "rule_violation" else 400
        values = dict(request.form)
        return _form_page(kind, values, refused.problems, editing=record_id, seen=seen), status
    if entry is None:
        flash(_("Nothing was changed."))
    else:
        flash(_("Correction saved."))
    return _back(kind, record_id, changes)


def _form_names(kind: str, skip: frozenset[str]) -> list[str]:
    return [name for name in RECORD_KINDS[kind]._declared_fields if name not in skip]


@bp.post("/<kind>/<record_id>/close")
@requires(Right.WRITE_RECORDS)
def close(kind: str, record_id: str) -> ResponseReturnValue:
    kind, record_id = _kind(kind), _record_id(record_id)
    store = get_store()
    reason = request.form.get("reason", "")
    try:
        with store.bulk():
            entry = close_record(store, kind, record_id, reason)
            _audit_write(store, "close", kind, record_id, entry)
    except ValidationError as refused:
        flash(refused.problems[0].zh, "error")
        return _back(kind, record_id, {})
    flash(_("Closed: %(reason)s.", reason=CLOSE_LABELS.get(reason, reason)))
    return _back(kind, record_id, {})


def close_choices() -> list[tuple[str, str]]:
    return [(r, CLOSE_LABELS.get(r, r)) for r in CLOSE_REASONS]
