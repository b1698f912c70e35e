# SPDX-License-Identifier: Apache-2.0
"""Recording what happens in the village: validate, check, write one entry.

This is the one path from an officer's input (CLI, page, import) to the store, so
every record is validated at the edge and checked against the village's other
records before anything is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from node.checks import check_record, effects
from node.domain.records import validate_record
from node.store.store import NodeStore


def add_record(store: NodeStore, kind: str, data: dict[str, Any], *, today: date) -> str:
    """Validate and write a new record of ``kind``; return its id.

    Raises:
        ValidationError: field problems or missing references, every one listed.
        RuleViolation: a safeguard refused it (for example a pregnancy check for an
            unmarried woman, or a hand-out that would drive stock below zero).
    """
    clean = validate_record(kind, data, today=today)
    check_record(store, kind, clean)
    record_id = store.new_id(kind)
    ops = [store.upsert_op(kind, record_id, clean)]
    ops += [store.upsert_op(k, rid, fields) for k, rid, fields in effects(store, kind, clean)]
    store.write(ops)
    return record_id
