# SPDX-License-Identifier: Apache-2.0
"""The conflict queue: list, inspect, resolve into an advisory for the owning node.

design.md: "Resolution in the queue produces an advisory to the owning node, never a
write; the owner records the fix as its own change, which then supersedes both." So
:func:`resolve` appends a ``Note`` (topic ``advisory``) to the county node's *own* log,
one op per field of the item, naming the node that should change its record and that
record's local id there. It is merged back at once (the county's own log is one of the
logs the merged store is a function of), listed as pending until that node writes the
field again, and queued for that node, sealed for it alone (advisories.py; the node
applies it as its own change, node/advisories.py). Resolving an item again the same way
while its advisory is pending returns that advisory instead of writing a second one.

Status of an item (derived when read, never stored, so the merged tables stay a pure
function of the logs): ``open``; ``advised`` once an advisory for it is in the county's
log; ``settled`` once every advised node has written the field after the advisory.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from county_aggregator import store
from county_aggregator.advised import advisories_by_conflict, followed
from county_aggregator.advisories import issue_pending
from county_aggregator.merge import apply_entries
from node.errors import NotFoundError
from node.store.store import NodeStore
from protocol import Entry, LogId, NodeId, Note, Op

ADVISORY_TOPIC = "advisory"
CHOICES = ("a", "b")


def find(db: Database, conflict: str) -> str:
    """The full id of the conflict ``conflict`` names (an id or an unambiguous prefix).

    Raises:
        NotFoundError: no conflict, or several, start with ``conflict``.
    """
    ids = store.conflict_ids_with_prefix(db, conflict.lower()) if conflict else []
    if len(ids) != 1:
        raise NotFoundError(
            f"冲突 {conflict[:16]} 不存在或不唯一",
            f"conflict {conflict[:16]!r} does not exist or is ambiguous ({len(ids)} match)",
            code="conflict_not_found",
        )
    return ids[0]


def list_conflicts(db: Database, *, status: str | None = None) -> list[dict[str, Any]]:
    """One summary per conflict item, ordered by kind, key and id."""
    items: dict[str, dict[str, Any]] = {}
    for row in store.conflict_rows(db):
        item = items.setdefault(
            row["id"],
            {
                "id": row["id"],
                "kind": row["kind"],
                "key": row["key"],
                "rule": row["rule"],
                "fields": [],
                "a_origin": row["a_origin"],
                "b_origin": row["b_origin"],
            },
        )
        item["fields"].append(row["field"])
    advised = advisories_by_conflict(db)
    out = []
    for item in items.values():
        item["status"] = _status(db, item["id"], advised)
        if status is None or item["status"] == status:
            out.append(item)
    return sorted(out, key=lambda i: (i["kind"], i["key"], i["id"]))


def show(db: Database, conflict: str) -> dict[str, Any]:
    """Everything about one item: both values, origins, times and records, per field."""
    cid = find(db, conflict)
    rows = store.conflict_rows(db, cid)
    first = rows[0]
    advised = advisories_by_conflict(db)
    return {
        "id": cid,
        "kind": first["kind"],
        "key": first["key"],
        "rule": first["rule"],
        "status": _status(db, cid, advised),
        "a": _side(first, "a"),
        "b": _side(first, "b"),
        "fields": [
            {
                "field": r["field"],
                "a": json.loads(r["a_value"]),
                "b": json.loads(r["b_value"]),
                "provisional": r["winner"],
            }
            for r in rows
        ],
        "advisories": advised.get(cid, []),
    }


def _side(row: dict[str, Any], side: str) -> dict[str, Any]:
    return {
        "entry": row[f"{side}_entry"],
        "origin": row[f"{side}_origin"],
        "hlc": row[f"{side}_hlc"],
        "record": row[f"{side}_record"],
    }


def resolve(merged_db: Database, county_store: NodeStore, conflict: str, choose: str) -> Entry:
    """Choose side ``a`` or ``b`` of a conflict: append the advisory to the county's log.

    The advisory goes to the node on the other side (whose record holds the value not
    chosen); it is merged back at once, so the item shows as ``advised``, and queued for
    that node (advisories.issue_pending; one that cannot be sealed yet is sent by a later
    ``renkou county merge``). Resolving the same way again while it is pending returns
    the advisory already written.

    Raises:
        ValueError: ``choose`` is not ``"a"`` or ``"b"``.
        NotFoundError: no such conflict.
    """
    if choose not in CHOICES:
        raise ValueError("choose 'a' or 'b'")
    cid = find(merged_db, conflict)
    other = "b" if choose == "a" else "a"
    ops: list[Op] = []
    bodies: list[dict[str, Any]] = []
    for row in store.conflict_rows(merged_db, cid):
        body = {
            "conflict": cid,
            "kind": row["kind"],
            "key": row["key"],
            "field": row["field"],
            "value": json.loads(row[f"{choose}_value"]),
            "for_node": str(NodeId.for_code(row[f"{other}_origin"])),
            # The village's own id: a line name (county_aggregator/lines.py) is the
            # county's, and the village's record is the one its current log sees.
            "record": row[f"{other}_record"].partition("@")[0],
        }
        ops.append(Note(ADVISORY_TOPIC, body))
        bodies.append(body)
    entry = _same_pending(merged_db, county_store, cid, bodies)
    if entry is None:
        entry = county_store.write(ops)
        county = store.get_meta(merged_db, "county") or county_store.node.county_code
        apply_entries(merged_db, [entry], county=county)
    issue_pending(merged_db, county_store, county_store.clock())
    return entry


def _same_pending(
    db: Database, county_store: NodeStore, cid: str, bodies: list[dict[str, Any]]
) -> Entry | None:
    """The county's pending advisory entry for ``cid`` that says exactly ``bodies``."""
    wanted = sorted((b["field"], b["for_node"], json.dumps(b["value"])) for b in bodies)
    by_entry: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
    for adv in advisories_by_conflict(db).get(cid, []):
        if not followed(db, adv):
            said = (adv["field"], adv["for_node"], json.dumps(json.loads(adv["value"])))
            by_entry.setdefault((adv["log"], adv["seq"]), []).append(said)
    for (log_text, seq), saids in sorted(by_entry.items()):
        log = LogId.parse(log_text)
        if log.node == county_store.node and sorted(saids) == wanted:
            return next(county_store.changelog.entries(seq, seq, epoch=log.epoch), None)
    return None


def _status(db: Database, cid: str, advised: dict[str, list[dict[str, Any]]]) -> str:
    items = advised.get(cid)
    if not items:
        return "open"
    return "settled" if all(followed(db, adv) for adv in items) else "advised"
