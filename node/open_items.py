# SPDX-License-Identifier: Apache-2.0
"""What the village office owes, and by when: open items with their deadlines.

Derived from the records each time (nothing to keep in step): a birth registration
waiting for the village's opinion or for forwarding, a complaint not yet answered, a
benefit change to forward, this month's change report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from node.deadlines import OpenItem, WorkCalendar
from node.store.store import NodeStore


@dataclass(frozen=True)
class Due:
    """One open item as the officer's list shows it."""

    kind: str
    record_id: str
    item: OpenItem


def _d(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def open_items(store: NodeStore, today: date, calendar: WorkCalendar) -> list[Due]:
    out: list[Due] = []
    for rid, reg in store.records("birth_registration"):
        received = _d(reg["registered_date"])
        if received is None:
            continue
        opinion, forwarded = _d(reg.get("village_opinion_date")), _d(reg.get("forwarded_date"))
        if opinion is None:
            out.append(
                Due(
                    "birth_registration",
                    rid,
                    OpenItem("birth_registration_village_opinion", received, None, calendar),
                )
            )
        if forwarded is None:
            out.append(
                Due(
                    "birth_registration",
                    rid,
                    OpenItem("birth_registration_to_township", received, None, calendar),
                )
            )
    for rid, complaint in store.records("complaint"):
        received = _d(complaint["received_date"])
        if received is not None and complaint.get("status") in ("received", "investigating"):
            out.append(
                Due("complaint", rid, OpenItem("complaint_investigation", received, None, calendar))
            )
    month_start = today.replace(day=1)
    out.append(
        Due(
            "report",
            today.strftime("%Y-%m"),
            OpenItem("monthly_change_report", month_start, None, calendar),
        )
    )
    return sorted(out, key=lambda d: (d.item.due.due, d.kind, d.record_id))
