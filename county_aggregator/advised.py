# SPDX-License-Identifier: Apache-2.0
"""Which advisories are still pending: read from the merged store, never stored.

An advisory (an entry of the county node's own log, conflicts.resolve) is *followed*
once the node it advises has written the field again after it; until then it is
pending, and advisories.py keeps sending it. Both the conflict queue (an item's status)
and the sending read this, so it sits below both.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from county_aggregator import store
from protocol import NodeId, ProtocolError


def pending_advisories(db: Database, node: str | None = None) -> list[dict[str, Any]]:
    """Advisories whose node has not written the field since (optionally for one node)."""
    out = []
    for adv in store.advisory_rows(db):
        if node is not None and adv["for_node"] != node:
            continue
        if not followed(db, adv):
            out.append({**adv, "value": json.loads(adv["value"])})
    return out


def advisories_by_conflict(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every advisory row, grouped by the conflict it resolves."""
    out: dict[str, list[dict[str, Any]]] = {}
    for adv in store.advisory_rows(db):
        out.setdefault(adv["conflict"], []).append(adv)
    return out


def followed(db: Database, adv: dict[str, Any]) -> bool:
    """Has the advised node written the field since the advisory (by its clock)?"""
    try:
        origin = NodeId.parse(adv["for_node"]).code
    except ProtocolError:
        return False
    field = adv["field"]
    if field.startswith("_"):
        return False
    return store.latest_version_hlc(db, adv["kind"], adv["key"], field, origin) > adv["hlc"]
