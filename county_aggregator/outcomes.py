# SPDX-License-Identifier: Apache-2.0
"""What the merge made of each entry, for the node that wrote it (issue 4, item 5).

The county's acknowledgement says an entry was verified and stored; it does not say the
entry's values stand. After a merge, each origin is told, per log and range, which of
its entries did not simply apply and why:

- ``rejected``: kept as evidence, never merged (revoked key, unknown kind, ...);
- ``conflict``: a field lost a concurrent edit (or the same event recorded twice) and
  waits in the conflict queue;
- ``superseded``: a field's value gave way to one with more authority (the hukou
  village's value of a hukou field, for example); the queue lists it under the rule
  ``authority``, and the notice names that item.

Everything else in the range was applied. The notice names records, fields and reasons,
never values: a relay carries it, and the node already holds its own values.
"""

from __future__ import annotations

from sqlite_utils import Database

from county_aggregator import store
from county_aggregator.ruleset import REF_FIELDS
from protocol import LogId, OutcomeItem, OutcomeNotice

MAX_LISTED = 200  # per notice; the count says how many more there were


def outcomes(db: Database, log: str, first: int, last: int) -> list[OutcomeItem]:
    """The entries ``first..last`` of ``log`` that were rejected, lost a conflict or were
    superseded, in seq order (one line per entry and field)."""
    found: list[OutcomeItem] = [
        OutcomeItem(seq, "rejected", code) for seq, code in store.rejected_in(db, log, first, last)
    ]
    lost = _lost_conflicts(db, log, first, last)
    origin = LogId.parse(log).node.code
    rows = store.versions_in(db, origin, log, first, last)
    for kind, key, field, value, seq, hlc, line in rows:
        record = line.partition("@")[0]  # the village's id, not the county's line name
        if (seq, field) in lost:
            cid, rule = lost[seq, field]
            outcome = "superseded" if rule == "authority" else "conflict"
            found.append(OutcomeItem(seq, outcome, rule, record, field, cid))
            continue
        if hlc < store.latest_version_hlc(db, kind, key, field, origin):
            continue  # this origin wrote the field again later: that version answers
        if field in _ref_fields(kind):
            continue  # merged as the referenced record's key, not the local id: not comparable
        standing = store.merged_field(db, kind, key, field)
        if standing is not None and standing != (value,):
            found.append(OutcomeItem(seq, "superseded", "authority", record, field))
    found.sort(key=lambda o: (o.seq, o.field, o.outcome))
    return found


def outcome_notice(
    db: Database, county: str, log: str, first: int, last: int, at_ms: int
) -> OutcomeNotice:
    """The notice for entries ``first..last`` of ``log`` (protocol.notices signs it)."""
    found = outcomes(db, log, first, last)
    entries = {o.seq for o in found}
    return OutcomeNotice(
        county,
        LogId.parse(log),
        first,
        last,
        last - first + 1 - len(entries),
        tuple(found[:MAX_LISTED]),
        max(0, len(found) - MAX_LISTED),
        at_ms,
    )


def _lost_conflicts(
    db: Database, log: str, first: int, last: int
) -> dict[tuple[int, str], tuple[str, str]]:
    """(seq, field) -> (conflict id, rule), where this log's entry is the side that lost."""
    out: dict[tuple[int, str], tuple[str, str]] = {}
    prefix = f"{log}/"
    for cid, field, rule, a_entry, b_entry, winner in store.conflicts_of_log(db, log):
        loser = b_entry if winner == "a" else a_entry
        if loser.startswith(prefix):
            seq = int(loser[len(prefix) :])
            if first <= seq <= last:
                out[seq, field] = (cid, rule)
    return out


def _ref_fields(kind: str) -> frozenset[str]:
    return frozenset(field for field, _target in REF_FIELDS.get(kind, ()))
