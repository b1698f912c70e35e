# SPDX-License-Identifier: Apache-2.0
"""The county's outcome notices (county_aggregator/notices.py) at a township and a village.

A township passes a notice about a village's log on to that village's outbox as it came
(signed by the county; the township adds nothing and cannot alter it). The node whose
log it is keeps, per entry and field, what did not simply apply, replacing whatever an
earlier notice said about the same range (node/store/outcomes.py), so a notice told
twice is taken once in effect. ``renkou node status`` shows the result.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from node.i18n import gettext
from node.store.outbox import Outbox
from node.store.outcomes import CountyOutcomes, OutcomeRow
from node.store.store import NodeStore
from protocol import MalformedError, NodeId, Role, VerifyKey, decode_outcome

STATUS_SHOWN = 50


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
            Outbox(store.db).add(str(log.node), raw)
            return f"passed the county's outcome of {log} {first}..{last} down"
        raise MalformedError("an outcome notice about a log that is neither ours nor a child's")
    rows = [
        OutcomeRow(str(log), i.seq, i.field, i.outcome, i.code, i.record, i.conflict)
        for i in notice.listed
    ]
    CountyOutcomes(store.db).replace(str(log), first, last, rows, notice.applied, notice.at)
    return f"county merged {log} {first}..{last}: {notice.applied} applied, {len(rows)} not"


def summary(store: NodeStore) -> list[dict[str, Any]]:
    """Per log: how far the county has merged it, and what did not simply apply."""
    outcomes = CountyOutcomes(store.db)
    return [
        {
            "log": merged.log,
            "merged_through": merged.last_seq,
            "applied_in_last_notice": merged.applied,
            "at": merged.at,
            "not_applied": [
                {
                    "seq": r.seq,
                    "field": r.field,
                    "outcome": r.outcome,
                    "code": r.code,
                    "record": r.record,
                    "conflict": r.conflict,
                }
                for r in outcomes.rows(merged.log)
            ],
        }
        for merged in outcomes.ranges()
    ]


def status_lines(db: Database) -> list[str]:
    """``renkou node status`` lines: merged through, and each entry that did not apply."""
    outcomes = CountyOutcomes(db)
    lines = [
        gettext("merged:    county merged %(log)s through seq %(seq)s", log=m.log, seq=m.last_seq)
        for m in outcomes.ranges()
    ]
    for r in outcomes.rows(limit=STATUS_SHOWN):
        line = _outcome_line(r)
        if r.conflict:
            line += gettext(" queue item %(item)s", item=r.conflict[:12])
        lines.append(line)
    return lines


def _outcome_line(r: OutcomeRow) -> str:
    where = f"{r.record}.{r.field}" if r.field else r.record or "-"
    said = {"log": r.log, "seq": r.seq, "where": where, "code": r.code}
    if r.outcome == "rejected":
        return gettext("county rejected: %(log)s seq %(seq)s %(where)s (%(code)s)", **said)
    if r.outcome == "conflict":
        return gettext("county conflict: %(log)s seq %(seq)s %(where)s (%(code)s)", **said)
    return gettext("county superseded: %(log)s seq %(seq)s %(where)s (%(code)s)", **said)
