# SPDX-License-Identifier: Apache-2.0
"""Sending each origin the outcome of its entries after a merge, through the outbox.

The notice for entries ``first..last`` of a log is signed with the county node's key and
put in the county's outbox for the township on the path (the township itself for its
own log); the township passes a village's notice on to that village's outbox unopened.
Which ranges were told is kept in the merged database's ``meta``: a rebuilt merged
database tells everything again, which the node takes idempotently (a notice replaces
what an earlier one said about the same entries). The outbox write comes first, so a
crash between the two repeats a notice rather than losing one.
"""

from __future__ import annotations

from sqlite_utils import Database

from county_aggregator import store
from county_aggregator.outcomes import outcome_notice
from node.store.outbox import Outbox
from node.store.store import NodeStore
from protocol import LogId, Role, sign_outcome

META = "outcomes_told:"


def send_notices(merged: Database, county: NodeStore, now_ms: int) -> int:
    """Queue a notice for every log merged further than it was told; return how many."""
    sent = 0
    own = str(county.node)
    for log_text, merged_upto in sorted(store.cursor(merged).items()):
        log = LogId.parse(log_text)
        if str(log.node) == own:
            continue
        told = _told(merged, log_text)
        if merged_upto <= told:
            continue
        notice = outcome_notice(merged, county.node.code, log_text, told + 1, merged_upto, now_ms)
        raw = sign_outcome(notice, county.identity.signing)
        child = log.node if log.node.role is Role.TOWNSHIP else log.node.parent
        if child is None:
            continue
        with county.db.atomic():
            Outbox(county.db).add(str(child), raw)
        store.set_meta(merged, META + log_text, str(merged_upto))
        sent += 1
    return sent


def _told(merged: Database, log: str) -> int:
    told = store.get_meta(merged, META + log)
    return int(told) if told is not None else 0
