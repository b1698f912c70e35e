# SPDX-License-Identifier: Apache-2.0
"""Notifications an officer makes by hand: ⑦ doubtful marital or service data and ⑧
anything else (篇10 第24条, domain.md §3). The other four kinds come from the merged
events (derive.py); an officer cannot type a birth the records do not hold.

The woman must be on a card the county holds as floating in from another county, aged
18-49 on the day of the event (篇10 第3条): the exchange is about her and nobody else.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from county_aggregator.exchange.derive import by_hand_card
from county_aggregator.store_exchange import ExchangeStore
from node.deadlines.rules import due_date
from node.deadlines.workdays import WorkCalendar
from node.errors import FieldProblem, NodeError, ValidationError
from protocol.exchange import Notification, new_notification_id

BY_HAND = ("doubtful_data", "other")
MAX_DETAILS = 500


def notify_by_hand(
    merged: Any, store: ExchangeStore, county: str, id_number: str, kind: str, day: date,
    details: str, calendar: WorkCalendar, now: int,
) -> tuple[str, bool]:  # fmt: skip
    """Add a notification about the woman with ``id_number``; returns (id, whether new).

    Raises:
        ValidationError: another kind, no details or too long.
        NodeError: ``exchange.not_floating_in`` when the county holds no card of her as a
            woman aged 18-49 who floated in from another county.
    """
    problems = []
    if kind not in BY_HAND:
        problems.append(FieldProblem(
            "kind", "exchange.by_hand_kind",
            "手工通报只能是 doubtful_data（婚育信息存疑）或 other（其他）",
            "by hand: doubtful_data or other only",
        ))  # fmt: skip
    if not details.strip() or len(details) > MAX_DETAILS:
        problems.append(FieldProblem(
            "details", "exchange.details", f"须写明通报内容（1 至 {MAX_DETAILS} 字）",
            f"say what is notified (1 to {MAX_DETAILS} characters)",
        ))  # fmt: skip
    if problems:
        raise ValidationError(problems)
    found = by_hand_card(getattr(merged, "conn", merged), county, id_number, day)
    if found is None:
        raise NodeError(
            "本县没有该妇女作为外县流入育龄妇女（18-49 岁）的信息卡，未生成通报",
            "the county holds no card of her as a woman aged 18-49 who floated in from another "
            "county; nothing was notified",
            code="exchange.not_floating_in",
        )  # fmt: skip
    card = found[1]
    notice = Notification(
        kind, card["name"], card["id_number"], card["residence_address"],
        card["residence_code"], card["hukou_address"], card["hukou_code"], day.isoformat(),
        details,
    )  # fmt: skip
    nid = new_notification_id(f"{county}/by-hand/{kind}/{id_number}/{day}/{details}".encode())
    new = store.add_notifications([{
        "id": nid, "to_county": notice.hukou_code[:6], "kind": kind, "record_kind": "person",
        "record_key": f"idn:{id_number}", "person_key": f"idn:{id_number}",
        "village": found[0], "event_date": day.isoformat(),
        "due": due_date("floating_notification", day, calendar).due.isoformat(),
        "body": notice.body(), "made": now,
    }])  # fmt: skip
    return nid, bool(new)
