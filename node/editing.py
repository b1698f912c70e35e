# SPDX-License-Identifier: Apache-2.0
"""Correcting a record and closing a card: the one path for the pages and the CLI.

A correction is validated whole (the record as it would be after the change, through
the same ``validate_record`` and village checks as a new record), then written as an
upsert of the changed fields only, each with the version this node holds as its base
(design.md: concurrency is detected with base versions), so a concurrent edit of the
same field elsewhere becomes a conflict at the county, never a silent overwrite. The
officer's form carries the record's last seq; if the record changed since the form
was opened, nothing is written and she is asked to look again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from node.correcting import check_change, validate_change
from node.domain.records import SEALED_FIELDS
from node.errors import FieldProblem, NotFoundError, ValidationError
from node.households import check_one_head
from node.recording import refuse_floating_edits
from node.store.queries import record_versions
from node.store.store import NodeStore, nfc
from protocol import Entry

CLOSE_REASONS = ("moved_away", "died", "left_age_band", "entered_in_error", "duplicate")
"""Why a card may be closed by hand; deletion at the end of retention has its own
command (``renkou node retention delete``) because it erases the card's fields."""


def _problem(field: str, code: str, zh: str, en: str) -> ValidationError:
    return ValidationError([FieldProblem(field, code, zh, en)])


def current(store: NodeStore, kind: str, record_id: str) -> dict[str, Any]:
    """The record as stored, without the store's own ``_retired`` key.

    Raises:
        NotFoundError: no such record; ValidationError: it was closed.
    """
    found = store.record(kind, record_id)
    if found is None:
        raise NotFoundError(f"记录 {record_id} 不存在", f"record {kind}/{record_id} does not exist")
    if found.pop("_retired", None):
        raise _problem(
            "record",
            "record.closed",
            "该记录已注销，不能更正",
            "the record was closed and cannot be corrected",
        )
    return found


def correct_record(
    store: NodeStore,
    kind: str,
    record_id: str,
    changes: dict[str, Any],
    *,
    today: date,
    seen_seq: int | None = None,
) -> Entry | None:
    """Apply ``changes`` (field -> new value, None clears an optional field).

    Args:
        seen_seq: the record's last seq when the officer's form was made; a record
            changed since is refused (nothing written).

    Returns:
        The log entry written, or None when nothing actually changed.

    Raises:
        ValidationError / RuleViolation: the corrected record would be invalid, every
            problem listed; ``record.changed`` when the record moved on meanwhile.
    """
    before = current(store, kind, record_id)
    refuse_floating_edits(kind, before, changes)
    sealed = set(SEALED_FIELDS.get(kind, ()))
    held = nfc({k: v for k, v in before.items() if k not in sealed})
    merged = {**held, **changes}
    clean = validate_change(kind, held, nfc(changes), today=today)
    changed = {
        k: v for k, v in clean.items() if k not in sealed and v != before.get(k) and k in merged
    }
    changed.update({k: None for k, v in changes.items() if v is None and before.get(k) is not None})
    if not changed:
        return None
    with store.bulk():
        versions = record_versions(store.db, kind, record_id)
        if seen_seq is not None and versions is not None and versions[1] != seen_seq:
            raise _problem(
                "record",
                "record.changed",
                "打开表单后该记录已被修改，未保存；请重新打开后再更正",
                "the record changed after the form was opened; nothing was saved, open it again",
            )
        # The village checks of a new record; ``record_id`` keeps the record from counting
        # against itself (its own death, its own hand-out in the stock, its own ID number),
        # and a problem it already had on a field left alone does not block the change.
        check_change(store, kind, record_id, held, clean, changes)
        if kind == "person":  # one head per household (node/households.py)
            check_one_head(store, {record_id: (before, {**before, **changed})})
        return store.write([store.upsert_op(kind, record_id, changed)])


def close_record(store: NodeStore, kind: str, record_id: str, reason: str) -> Entry:
    """Close (retire) a record with one of CLOSE_REASONS; its data stay in the log.

    Raises:
        ValidationError: an unknown reason, or the record is already closed.
        NotFoundError: no such record.
    """
    if reason not in CLOSE_REASONS:
        raise _problem(
            "reason",
            "close.reason",
            "请选择注销原因",
            f"choose a reason: {', '.join(CLOSE_REASONS)}",
        )
    held = current(store, kind, record_id)
    with store.bulk():
        if kind == "person":  # a head leaves no household of others headless
            check_one_head(store, {record_id: (held, None)})
        return store.write([store.retire_op(kind, record_id, reason)])
