# SPDX-License-Identifier: Apache-2.0
"""Recording what happens in the village: validate, check, write one entry.

This is the one path from an officer's input (CLI, page, import) to the store, so
every record is validated at the edge and checked against the village's other
records before anything is written. Three doors: a new record (:func:`add_record`), a
change of some fields of one (:func:`update_record`: a step of a workflow done, a
correction) and a record withdrawn (:func:`close_record`: entered in error, a duplicate).
An event's consequences for the card it names (node/domain/effects.py) are written in
the same entry as the event.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from node.checks import check_record, check_stock_with
from node.correcting import check_change, validate_change
from node.domain.effects import CardChange, CardClose, NewRecord, effects
from node.domain.records import RECORD_KINDS, SEALED_FIELDS, SUBJECT_REFS, validate_record
from node.errors import FieldProblem, NotFoundError, ValidationError
from node.households import check_one_head
from node.identity import load_certificate
from node.store.store import NodeStore, nfc
from protocol import Op
from protocol.fields import seal_field

COUNTY_CERT = "county.cert"
WITHDRAW_REASONS = {"entered_in_error": "录入错误", "duplicate": "重复记录"}
"""Why an officer may withdraw a record; closing a card for a move is an event's effect,
and deletion at the end of retention is node/retention.py's."""
# Card fields that are views of floating records: changed by recording one, not by hand.
FLOATING_FIELDS = ("floating_status", "floating_since", "floating_place")


def add_record(store: NodeStore, kind: str, data: dict[str, Any], *, today: date) -> str:
    """Validate and write a new record of ``kind``; return its id.

    Raises:
        ValidationError: field problems or missing references, every one listed.
        RuleViolation: a safeguard refused it (for example a pregnancy check for an
            unmarried woman, or a hand-out that would drive stock below zero).
    """
    clean = validate_record(kind, nfc(data), today=today)
    with store.bulk():  # one transaction, so one fsync for the id, the record and its entry
        check_record(store, kind, clean)
        if kind == "person":  # one head per household
            check_one_head(store, {"": (None, clean)})
        record_id = store.new_id(kind)
        _seal_fields(store, kind, record_id, clean)
        ops: list[Op] = [store.upsert_op(kind, record_id, clean)]
        ops += _effect_ops(store, kind, record_id, clean)
        store.write(ops)
    return record_id


def update_record(
    store: NodeStore, kind: str, record_id: str, changes: dict[str, Any], *, today: date
) -> None:
    """Change some fields of a live record: the whole record is validated and checked
    again as it will stand, and only the changed fields are written. A problem the
    record already had on a field left alone does not block it (node/correcting.py).

    A card's floating fields are not changed here: floating is recorded as a floating
    record, which keeps its date and place for the tables.

    Raises:
        NotFoundError: no live record ``kind``/``record_id``.
        ValidationError, RuleViolation: as for :func:`add_record`.
    """
    held = store.record(kind, record_id) if kind in RECORD_KINDS else None
    if held is None or held.get("_retired"):
        raise NotFoundError(
            f"记录 {record_id} 不存在或已注销", f"no live record {kind}/{record_id}"
        )
    changes = nfc(changes)
    refuse_floating_edits(kind, held, changes)
    sealed = set(SEALED_FIELDS.get(kind, ()))
    known = set(RECORD_KINDS[kind]().fields)
    # Fields an older ruleset wrote (a birth registration's former opinion date) stay
    # stored as they are; the record is judged by the fields of today's forms.
    base = {k: v for k, v in held.items() if k in known and k not in sealed}
    clean = validate_change(kind, base, changes, today=today)
    with store.bulk():
        check_change(store, kind, record_id, base, clean, changes)
        changed = {k: clean[k] for k in changes if k in clean and clean[k] != held.get(k)}
        if kind == "person":
            check_one_head(store, {record_id: (held, {**held, **changed})})
        _seal_fields(store, kind, record_id, changed)
        if changed:
            store.write([store.upsert_op(kind, record_id, changed)])


def close_record(store: NodeStore, kind: str, record_id: str, reason: str, *, today: date) -> None:
    """Withdraw a live record (entered in error, or a duplicate of another).

    Withdrawing a stock receipt must not leave any day's stock below zero, so that is
    checked as for a hand-out.

    Raises:
        ValidationError: an unknown reason, or the stock would go negative.
        NotFoundError: no live record.
    """
    if reason not in WITHDRAW_REASONS:
        names = "、".join(f"{k}（{v}）" for k, v in WITHDRAW_REASONS.items())
        raise ValidationError(
            [
                FieldProblem(
                    "reason",
                    "withdraw.reason",
                    f"注销原因应为：{names}",
                    f"A record is withdrawn as one of: {', '.join(WITHDRAW_REASONS)}.",
                )
            ]
        )
    held = store.record(kind, record_id)
    if held is None or held.get("_retired"):
        raise NotFoundError(
            f"记录 {record_id} 不存在或已注销", f"no live record {kind}/{record_id}"
        )
    with store.bulk():
        if kind == "supply_receipt":
            check_stock_with(store.db, held["item"], (held["received_date"], 0), without=record_id)
        if kind == "person":
            check_one_head(store, {record_id: (held, None)})
        store.write([store.retire_op(kind, record_id, reason)])


def _effect_ops(store: NodeStore, kind: str, record_id: str, clean: dict[str, Any]) -> list[Op]:
    subject = next((clean[r] for r in SUBJECT_REFS if clean.get(r) is not None), None)
    card = store.record("person", subject) if subject is not None else None
    ops: list[Op] = []
    for effect in effects(kind, record_id, clean, card, str(store.node.code)):
        if isinstance(effect, CardChange):
            ops.append(store.upsert_op("person", effect.record_id, effect.fields))
        elif isinstance(effect, CardClose):
            ops.append(store.retire_op("person", effect.record_id, effect.reason))
        elif isinstance(effect, NewRecord):
            ops.append(store.upsert_op(effect.kind, store.new_id(effect.kind), effect.fields))
    return ops


def refuse_floating_edits(kind: str, held: dict[str, Any], changes: dict[str, Any]) -> None:
    """A card's floating fields follow its floating records (流出/流入/返回/离开): an
    edit of them by hand would be a floating without a date and a place for the tables.

    Raises:
        ValidationError: a change of a floating field of a person card.
    """
    if kind != "person":
        return
    moved = [f for f in FLOATING_FIELDS if f in changes and changes[f] != held.get(f)]
    if moved:
        raise ValidationError([_floating_by_record(f) for f in moved])


def _floating_by_record(field: str) -> FieldProblem:
    return FieldProblem(
        field,
        "person.floating_by_record",
        "流动状态由流动登记（流出、流入、返回、离开）确定，请登记流动记录而不是修改卡片",
        "The floating state follows the floating records (out, in, return, leave); record "
        "one instead of editing the card.",
    )


def _seal_fields(store: NodeStore, kind: str, record_id: str, clean: dict[str, Any]) -> None:
    """Seal fields such as a complainant's identity for the county alone, before writing.

    The plain value never reaches the store or the log: the officer who recorded it,
    the township that relays it and anyone who copies the PC read only ciphertext.
    """
    names = [n for n in SEALED_FIELDS.get(kind, ()) if clean.get(n) is not None]
    if not names:
        return
    county = load_certificate(store.data_dir, COUNTY_CERT)
    if county is None:
        raise ValidationError(
            [
                FieldProblem(
                    names[0],
                    "sealed.not_enrolled",
                    "本节点尚未登记，无法加密保护举报人身份；可先匿名登记，或待管理员登记本机后再录入",
                    "this node is not enrolled yet, so the reporter's identity cannot be sealed; "
                    "record the complaint without it or after the administrator enrols this PC",
                )
            ]
        )
    for name in names:
        where = f"{store.node}/{kind}/{record_id}/{name}"
        clean[name] = seal_field(clean[name], [county.kem_key], where)
