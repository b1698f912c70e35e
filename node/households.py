# SPDX-License-Identifier: Apache-2.0
"""One head per household (户主): the rule, and the one edit that changes the head.

A household is the people whose cards name one hukou address (户籍地址); each card says
how its person is related to the head (``household_relation``, 与户主关系), and the
household has exactly one head at a time. So a change of cards is refused when it would
give a household a second head, or leave a household that had a head and still has
members without one (the head moved to another address, closed, or no longer "head").
Changing the head is then one edit of two cards (:func:`change_head`): the new head
becomes "head" (moving into the household if she lived elsewhere) and the former head
takes the relation the officer names, in one log entry, so no reader ever sees the
household with two heads or none.

Only what a change causes is refused: a household that already had two heads or none
(older data) does not block a correction of something else, and every card of such a
household can still be put right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from node.correcting import check_change, validate_change
from node.domain.codes import HEAD, HOUSEHOLD_RELATIONS
from node.errors import FieldProblem, NotFoundError, ValidationError
from node.store import lookup
from node.store.store import NodeStore, nfc
from protocol import Entry, Op

Card = Mapping[str, Any]
Changes = Mapping[str, tuple[Card | None, Card | None]]
"""Record id -> (the card before, the card after); None: no live card (new, closed)."""


@dataclass(frozen=True, slots=True)
class _Member:
    record_id: str
    name: str
    relation: str | None


def check_one_head(source: NodeStore, changes: Changes) -> None:
    """Refuse ``changes`` that give a household a second head or take its head away.

    Args:
        source: the node's store, as it stands before the changes are written.
        changes: the person cards the edit writes, before and after.

    Raises:
        ValidationError: ``household.second_head`` or ``household.head_leaves``, naming
            the household and its head.
    """
    touched = {rid: pair for rid, pair in changes.items() if _moves_in_households(*pair)}
    addresses = sorted({_address(c) for pair in touched.values() for c in pair} - {""})
    problems: list[FieldProblem] = []
    for address in addresses:
        before = {
            rid: _Member(rid, name, relation)
            for rid, name, relation in lookup.household_members(source.db, address)
        }
        after = {rid: m for rid, m in before.items() if rid not in changes}
        for rid, (_old, new) in changes.items():
            if new is not None and _address(new) == address:
                after[rid] = _Member(rid, str(new.get("name") or ""), new.get("household_relation"))
        problems += _judge(address, before, after, touched)
    if problems:
        raise ValidationError(problems)


def _address(card: Card | None) -> str:
    return str(card.get("hukou_address") or "") if card is not None else ""


def _moves_in_households(old: Card | None, new: Card | None) -> bool:
    """Can the change give a household a second head or take its head away? Only a
    card that is, or becomes, a head and changes its household or relation can (a
    member coming or going changes no household's heads)."""
    cards = [c for c in (old, new) if c is not None]
    if not any(c.get("household_relation") == HEAD for c in cards):
        return False
    if old is None or new is None:
        return True
    fields = ("hukou_address", "household_relation")
    return any(old.get(f) != new.get(f) for f in fields)


def _judge(
    address: str,
    before: dict[str, _Member],
    after: dict[str, _Member],
    touched: Changes,
) -> list[FieldProblem]:
    heads_before = [m for m in before.values() if m.relation == HEAD]
    heads_after = [m for m in after.values() if m.relation == HEAD]
    if len(heads_after) > max(1, len(heads_before)):
        head = next((m for m in heads_before if m.record_id in after), heads_after[0])
        new = next(m for m in heads_after if m.record_id != head.record_id)
        return [_second_head(address, head, new)]
    if heads_before and not heads_after and after:
        gone = next(m for m in heads_before if m.record_id in touched)
        _old, card = touched[gone.record_id]
        field = "record" if card is None else "household_relation"
        if card is not None and _address(card) != address:
            field = "hukou_address"
        return [_head_leaves(address, gone, len(after), field)]
    return []


def _second_head(address: str, head: _Member, new: _Member) -> FieldProblem:
    return FieldProblem(
        "household_relation",
        "household.second_head",
        f"户籍地址为 {address} 的户已有户主 {head.name}（{head.record_id}）：一户只能有一个"
        f"户主。要让 {new.name} 当户主，请用“更换户主”（页面上的户籍表单，或 renkou node "
        "change-head），两张信息卡一次改好",
        f"the household at {address} already has a head, {head.name} ({head.record_id}): a "
        f"household has one head. To make {new.name} its head, use change head (the "
        "household form of the pages, or renkou node change-head), which corrects both "
        "cards in one edit",
    )


def _head_leaves(address: str, head: _Member, left: int, field: str) -> FieldProblem:
    return FieldProblem(
        field,
        "household.head_leaves",
        f"{head.name}（{head.record_id}）是户籍地址为 {address} 的户的户主，户内还有 {left} "
        "人：请先更换户主（页面上的户籍表单，或 renkou node change-head），再迁出、注销或"
        "改变其与户主关系",
        f"{head.name} ({head.record_id}) is the head of the household at {address}, which "
        f"has {left} other member(s): name a new head first (the household form of the "
        "pages, or renkou node change-head), then move, close or change the relation of "
        "this card",
    )


@dataclass(frozen=True, slots=True)
class HeadChange:
    """The entry :func:`change_head` wrote and the cards it changed (for the audit)."""

    entry: Entry
    record_ids: tuple[str, ...]


def change_head(
    store: NodeStore,
    new_head: str,
    *,
    former_relation: str,
    today: date,
    address: str | None = None,
) -> HeadChange:
    """Make ``new_head`` the head of her household (of ``address`` when given: she moves
    into it) and give its former head ``former_relation``; both cards in one entry.

    Raises:
        NotFoundError: no live card ``new_head``.
        ValidationError: an unknown relation, a card that does not validate, or a
            household that would still not have exactly one head.
    """
    card = _live(store, new_head)
    target = nfc(address) if address else str(card.get("hukou_address") or "")
    members = lookup.household_members(store.db, target) if target else []
    former = next((m for m in members if m[2] == HEAD and m[0] != new_head), None)
    if former is not None and former_relation not in HOUSEHOLD_RELATIONS:
        raise ValidationError([_relation_problem()])
    if former is not None and former_relation == HEAD:
        raise ValidationError([_relation_problem()])
    edits = {new_head: {"hukou_address": target, "household_relation": HEAD}}
    if former is not None:
        edits[former[0]] = {"household_relation": former_relation}
    with store.bulk():
        pairs: dict[str, tuple[Card | None, Card | None]] = {}
        ops: list[Op] = []
        changed_ids: list[str] = []
        for record_id, changes in edits.items():
            held = _live(store, record_id)
            clean = validate_change("person", held, changes, today=today)
            check_change(store, "person", record_id, held, clean, changes)
            pairs[record_id] = (held, {**held, **clean})
            changed = {k: v for k, v in clean.items() if k in changes and v != held.get(k)}
            if changed:
                ops.append(store.upsert_op("person", record_id, changed))
                changed_ids.append(record_id)
        check_one_head(store, pairs)
        if not ops:
            raise ValidationError([_already_head(new_head)])
        return HeadChange(store.write(ops), tuple(changed_ids))


def _live(store: NodeStore, record_id: str) -> dict[str, Any]:
    found = store.record("person", record_id)
    if found is None or found.pop("_retired", None):
        raise NotFoundError(
            f"信息卡 {record_id} 不存在或已注销", f"no live person card {record_id}"
        )
    return found


def _relation_problem() -> FieldProblem:
    return FieldProblem(
        "former_relation",
        "household.former_relation",
        "请选择原户主今后与户主的关系（不能仍为户主）",
        "choose the former head's relation to the new head (not head): "
        + ", ".join(k for k in HOUSEHOLD_RELATIONS if k != HEAD),
    )


def _already_head(record_id: str) -> FieldProblem:
    return FieldProblem(
        "household_relation",
        "household.already_head",
        f"{record_id} 已是该户户主，未做更改",
        f"{record_id} is already the head of this household; nothing was changed",
    )
