# SPDX-License-Identifier: Apache-2.0
"""The county's outcome notices (county_aggregator/notices.py) at a township and a village.

A township passes a notice about a village's log on to that village's outbox as it came
(signed by the county; the township adds nothing and cannot alter it). The node whose
log it is keeps, per entry and field, what did not simply apply, replacing whatever an
earlier notice said about the same range, so a notice told twice is taken once in
effect. ``renkou node status`` shows the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.store.store import NodeStore
from node.sync import holdings
from protocol import MalformedError, NodeId, Role, VerifyKey, decode_outcome


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    log: str
    seq: int
    field: str
    outcome: str
    code: str
    record: str
    conflict: str


def take(store: NodeStore, raw: bytes, county: NodeId, county_key: VerifyKey) -> str:
    """Relay or keep one notice; return a line for the round's report.

    Raises:
        ProtocolError: not an outcome notice signed by the county (protocol.notices), or
            one about a log that is neither ours nor a child's.
    """
    notice = decode_outcome(raw, county_key, county)
    log, first, last = notice.log, notice.first_seq, notice.last_seq
    me = store.node
    if log.node != me:
        if me.role is Role.TOWNSHIP and log.node.parent == me:
            holdings.add_to_outbox(store.db, str(log.node), raw)
            return f"passed the county's outcome of {log} {first}..{last} down"
        raise MalformedError("an outcome notice about a log that is neither ours nor a child's")
    rows = [
        OutcomeRow(str(log), i.seq, i.field, i.outcome, i.code, i.record, i.conflict)
        for i in notice.listed
    ]
    at = notice.at
    with store.db.atomic():
        store.db.execute(
            "DELETE FROM county_outcomes WHERE log = ? AND seq BETWEEN ? AND ?",
            [str(log), first, last],
        )
        store.db.conn.executemany(
            "INSERT OR REPLACE INTO county_outcomes"
            " (log, seq, field, outcome, code, record, conflict, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.log, r.seq, r.field, r.outcome, r.code, r.record, r.conflict, at) for r in rows],
        )
        store.db.execute(
            "INSERT INTO county_outcome_ranges (log, last_seq, applied, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (log) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq),"
            " applied = excluded.applied, at = excluded.at",
            [str(log), last, notice.applied, at],
        )
    return f"county merged {log} {first}..{last}: {notice.applied} applied, {len(rows)} not"


def summary(store: NodeStore) -> list[dict[str, Any]]:
    """Per log: how far the county has merged it, and what did not simply apply."""
    out = []
    for log, last, applied, at in store.db.execute(
        "SELECT log, last_seq, applied, at FROM county_outcome_ranges ORDER BY log"
    ):
        rows = store.db.execute(
            "SELECT seq, field, outcome, code, record, conflict FROM county_outcomes"
            " WHERE log = ? ORDER BY seq, field",
            [log],
        ).fetchall()
        out.append(
            {
                "log": log,
                "merged_through": last,
                "applied_in_last_notice": applied,
                "at": at,
                "not_applied": [
                    dict(
                        zip(
                            ("seq", "field", "outcome", "code", "record", "conflict"),
                            r,
                            strict=True,
                        )
                    )
                    for r in rows
                ],
            }
        )
    return out


def status_lines(store_db: Any) -> list[str]:
    """``renkou node status`` lines: merged through, and each entry that did not apply."""
    lines = []
    for log, last, _applied, _at in store_db.execute(
        "SELECT log, last_seq, applied, at FROM county_outcome_ranges ORDER BY log"
    ):
        lines.append(f"merged:    county merged {log} through seq {last} (县已合并)")
    shown = store_db.execute(
        "SELECT log, seq, field, outcome, code, record, conflict FROM county_outcomes"
        " ORDER BY log, seq, field LIMIT 50"
    ).fetchall()
    label = {"rejected": "未采用", "conflict": "冲突待处理", "superseded": "被权威值取代"}
    for log, seq, field, outcome, code, record, conflict in shown:
        where = f"{record}.{field}" if field else record or "-"
        queue = f" queue item {conflict[:12]}" if conflict else ""
        lines.append(f"county {outcome}: {log} seq {seq} {where} ({label[outcome]}, {code}){queue}")
    return lines
