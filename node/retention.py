# SPDX-License-Identifier: Apache-2.0
"""Records past their retention, listed for controlled deletion (domain.md section 4).

The village keeps its cards long-term (篇3 第30条). Two kinds of women's cards are kept
at least two years and then destroyed under control:

* the card of a woman who left the childbearing age (two years after her 50th birthday);
* the card of a woman whose hukou moved away (迁出: her card here was closed, reason
  ``moved_away``; two years after the move).

A floating-out (流出) woman's card is never due: she lives elsewhere, but her hukou is
still here and the village still answers for her, however long she has been away and
whatever her age (domain.md section 4: "never due"). A
card of a current benefit recipient is not due either: the village still pays her.

Deletion is one signed entry per card: retires with reason ``retention`` of the card and
of the records about her (her marriages, births, services: parts of her card); it
travels like any change, and every holder erases the earlier payloads (node/store/
erasure.py): here at once, at the county when it receives the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from node.domain.codes import ACTIVE_CHANGES
from node.domain.effects import CLOSED_MOVED_AWAY
from node.domain.records import RECORD_KINDS, SUBJECT_REFS
from node.store import erasure
from node.store.lookup import RecordLookup
from node.store.store import NodeStore
from protocol import Op

KEEP_YEARS = 2
AGE_LIMIT = 50
# A hand-out of free supplies names who took it, but it is the stock's record, not hers:
# it stays (its reference then names nothing).
KEPT_KINDS = frozenset({"supply_handout"})


@dataclass(frozen=True)
class Expired:
    kind: str
    record_id: str
    reason_zh: str
    reason_en: str
    since: date


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def due_for_deletion(store: NodeStore, today: date) -> list[Expired]:
    """Women's cards whose retention ended by ``today``, oldest reason first."""
    lookup = RecordLookup(store.db)
    recipients = _current_recipients(store)
    out: list[Expired] = []
    for rid, card in store.records("person", include_retired=True):
        if card.get("card_type") != "woman" or rid in recipients:
            continue
        closed = lookup.retired("person", rid)
        if closed == CLOSED_MOVED_AWAY:
            moved = _moved_away_on(lookup, rid)
            if moved is not None and _add_years(moved, KEEP_YEARS) <= today:
                out.append(
                    Expired(
                        "person", rid, "户籍迁出满2年", "hukou moved away over 2 years ago", moved
                    )
                )
            continue
        if closed is not None or not card.get("birth_date"):
            continue  # withdrawn, or already deleted
        if card.get("floating_status") == "flowed_out":
            continue  # her hukou is still here, at any age (domain.md 4)
        aged_out = _add_years(date.fromisoformat(card["birth_date"]), AGE_LIMIT)
        if _add_years(aged_out, KEEP_YEARS) <= today:
            out.append(
                Expired(
                    "person", rid, "已满50周岁超过2年", "aged out more than 2 years ago", aged_out
                )
            )
    return sorted(out, key=lambda e: (e.since, e.record_id))


def delete_expired(store: NodeStore, record_ids: list[str], today: date) -> int:
    """Delete the named cards that are really due, with the records about them; return
    how many cards were deleted.

    One transaction: a retire entry per card, then the erasure of the payloads those
    deletions make erasable (node/store/erasure.py); the chain still verifies.
    """
    due = {e.record_id for e in due_for_deletion(store, today)}
    chosen = [rid for rid in dict.fromkeys(record_ids) if rid in due]
    if not chosen:
        return 0
    with store.bulk():
        for rid in chosen:
            ops: list[Op] = [store.retire_op("person", rid, erasure.ERASING_REASON)]
            ops += [
                store.retire_op(kind, other, erasure.ERASING_REASON)
                for kind, other in _records_about(store, rid)
            ]
            store.write(ops)
        erasure.erase_own_log(store.db)
    erasure.checkpoint(store.db)
    return len(chosen)


def _records_about(store: NodeStore, person: str) -> list[tuple[str, str]]:
    """Every record whose subject is ``person`` (retired ones too: their payloads hold
    her data as well), except the stock's."""
    lookup = RecordLookup(store.db)
    out: list[tuple[str, str]] = []
    for kind, schema in RECORD_KINDS.items():
        if kind in KEPT_KINDS or kind == "person":
            continue
        for ref in SUBJECT_REFS:
            if ref in schema._declared_fields:
                out += [
                    (kind, rid) for rid, _ in lookup.naming(kind, ref, person, include_retired=True)
                ]
    return sorted(set(out))


def _moved_away_on(lookup: RecordLookup, person: str) -> date | None:
    moves = [
        m for _rid, m in lookup.naming("move", "person_ref", person) if m.get("direction") == "out"
    ]
    return max((date.fromisoformat(str(m["move_date"])) for m in moves), default=None)


def _current_recipients(store: NodeStore) -> set[str]:
    standing: dict[tuple[str, str], bool] = {}
    changes = sorted(store.records("benefit"), key=lambda r: str(r[1].get("effective_date")))
    for _rid, change in changes:
        key = (str(change.get("person_ref")), str(change.get("programme")))
        standing[key] = change.get("change") in ACTIVE_CHANGES
    return {person for (person, _p), active in standing.items() if active}
