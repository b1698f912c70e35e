# SPDX-License-Identifier: Apache-2.0
"""The township's review of its villages' month: per village, each change kept, audited.

Reads the review store only (node/store/review.py), after taking in the batches the
county has not yet acknowledged (node/review/intake.py) and purging what left the
window, so the review shows a village's changes whether or not the county has
confirmed them, and never a month outside the window. Every record shown is an audit
row (who, when, which village's record, why), in one transaction with nothing else: the
rows are built first, and nothing is returned if the audit cannot be written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from node.errors import FieldProblem, ValidationError
from node.i18n import gettext as _
from node.registers.changes import ADDED, MODIFIED, RETIRED
from node.registers.labels import (
    FIELD_LABELS,
    KIND_LABELS,
    REF_KINDS,
    RETIRE_REASONS,
    display_value,
    field_label,
)
from node.registers.model import parse_month
from node.review.intake import take_readable
from node.store import review as kept
from node.store.review import ReviewChange, ReviewStore
from node.store.store import NodeStore
from node.timeutil import SHANGHAI

ACTIONS = {kept.ADDED: ADDED, kept.MODIFIED: MODIFIED, kept.RETIRED: RETIRED}
VILLAGE_CODE = re.compile(r"[0-9]{12}\Z")
AUDIT_ACTION = "review"


@dataclass(frozen=True)
class VillageMonth:
    """One village's changes of one month, as the review shows them."""

    village: str
    rows: list[dict[str, Any]]


def review_month(
    store: NodeStore, month: str, *, actor: str, village: str | None = None, now_ms: int
) -> list[VillageMonth]:
    """The changes kept for ``month`` (of one ``village`` or of all), every record
    shown audited.

    Raises:
        ValidationError: ``month`` is not 'YYYY-MM', or lies outside the review window;
            ``village`` is not a 12-digit village code.
    """
    span = parse_month(month)
    if village is not None and not VILLAGE_CODE.match(village):
        raise ValidationError(
            [FieldProblem("village", "review.village", "村代码应为12位数字",
                          "A village code has 12 digits.")]
        )  # fmt: skip
    if not kept.in_window(span.month, now_ms):
        oldest = kept.first_month(now_ms)
        raise ValidationError(
            [
                FieldProblem(
                    "month",
                    "review.window",
                    f"{span.month} 不在审核保留期内（{oldest} 至本月），其变更已删除或尚未发生",
                    f"{span.month} is outside the review window ({oldest} to this month): "
                    "its changes were deleted, or are yet to come",
                )
            ]
        )
    take_readable(store, now_ms)
    kept.purge_expired(store.db, now_ms)
    reviews = ReviewStore(store.db)
    shown: list[VillageMonth] = []
    records: dict[tuple[str, str], None] = {}
    for code in [village] if village else reviews.villages(span.month):
        changes = reviews.changes(code, span.month)
        names = _Names(reviews.names(code))
        shown.append(VillageMonth(code, [_row(n, c, names) for n, c in enumerate(changes, 1)]))
        records.update({(c.kind, f"{code}/{c.record_id}"): None for c in changes})
        records.update({("person", f"{code}/{pid}"): None for pid in sorted(names.used)})
    store.audit_many(actor, AUDIT_ACTION, records, f"township review {span.month}")
    return shown


def villages_kept(store: NodeStore, month: str) -> list[str]:
    """The codes of the villages with changes kept for ``month`` ('YYYY-MM'): what the
    review page offers to choose from. Codes only, no record is read: not audited."""
    return ReviewStore(store.db).villages(parse_month(month).month)


class _Names:
    """The names of a village's cards kept in the window, by id, and which of them a
    review showed: a birth named through the mother's card read that card, so it is
    audited too (REVIEW4 F8), even when the card changed in another month."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.used: set[str] = set()

    def get(self, person: str) -> str | None:
        found = self.names.get(person)
        if found is not None:
            self.used.add(person)
        return found


def _row(no: int, change: ReviewChange, names: _Names) -> dict[str, Any]:
    at = datetime.fromtimestamp(change.at_ms / 1000, SHANGHAI)
    subject = change.subject or ""
    return {
        "no": no,
        "time": at.strftime("%Y-%m-%d %H:%M"),
        "kind": KIND_LABELS.get(change.kind, change.kind),
        "record_id": change.record_id,
        "name": (names.get(subject) or change.fields.get("name", "")) if subject else "",
        "changes": _changes(change, names),
        "action": ACTIONS.get(change.action, change.action),
    }


def _changes(change: ReviewChange, names: _Names) -> str:
    """'field：value' for each kept field, in the order of the printed card."""
    if change.action == kept.RETIRED:
        label, reason = _("Reason retired"), str(change.fields.get("reason", ""))
        return f"{label}：{RETIRE_REASONS.get(reason, reason)}"
    order = [name for name in FIELD_LABELS.get(change.kind, {}) if name in change.fields]
    parts = [
        f"{field_label(change.kind, name)}：{_show(name, change.fields[name], names)}"
        for name in order
    ]
    return "；".join(parts) if parts else _("(only fields outside the review changed)")


def _show(name: str, value: Any, names: _Names) -> str:
    if name in REF_KINDS and isinstance(value, str):
        person = names.get(value)
        return f"{person}（{value}）" if person is not None else value
    shown = display_value(name, value)
    return _("(empty)") if shown == "" else str(shown)
