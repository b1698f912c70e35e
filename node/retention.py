# SPDX-License-Identifier: Apache-2.0
"""Records past their retention, listed for controlled deletion (domain.md section 4).

Cards of women who aged out (50 and over) or moved away are kept at least two years,
then destroyed under control: deletion is a signed retire entry with reason
``retention``, which erases the card's fields and travels like any other change; the
log keeps its chain (payloads can be erased while headers still verify).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from node.store.store import NodeStore
from protocol import Retire

KEEP_YEARS = 2
AGE_LIMIT = 50


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
    out: list[Expired] = []
    for rid, card in store.records("person"):
        if card.get("card_type") != "woman":
            continue
        birth = date.fromisoformat(card["birth_date"])
        aged_out = _add_years(birth, AGE_LIMIT)
        if _add_years(aged_out, KEEP_YEARS) <= today:
            out.append(
                Expired(
                    "person", rid, "已满50周岁超过2年", "aged out more than 2 years ago", aged_out
                )
            )
            continue
        since = card.get("floating_since")
        if card.get("floating_status") == "flowed_out" and since:
            moved = date.fromisoformat(since)
            if _add_years(moved, KEEP_YEARS) <= today:
                out.append(
                    Expired("person", rid, "迁出超过2年", "moved away more than 2 years ago", moved)
                )
    return out


def delete_expired(store: NodeStore, record_ids: list[str], today: date) -> int:
    """Retire the named cards (only those really due) in one transaction; return the count."""
    due = {e.record_id for e in due_for_deletion(store, today)}
    chosen = [rid for rid in record_ids if rid in due]
    with store.bulk():
        for rid in chosen:
            op: Retire = store.retire_op("person", rid, "retention")
            store.write([op])
    return len(chosen)
