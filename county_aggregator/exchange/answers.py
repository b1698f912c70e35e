# SPDX-License-Identifier: Apache-2.0
"""The hukou place's answer to a notification it received (篇10 第24-25条).

The officer checks the woman's card at her hukou village (the village's officers
update it; the county writes nothing there) and answers: found and updated, not found,
or other. "Not found" may be answered only after the data was cross-checked with other
records (篇10 第25条), so it is refused without the cross-check made. An answer given
within 5 working days of receipt is on time; one answer per notification.

The due day is computed from the receipt with the calendar as it is when it is looked
at (:func:`reply_due`), never frozen at receipt: for a year whose holiday schedule was
not yet published it is a Monday-Friday guess, marked provisional, and the schedule
installed later moves it (REVIEW4 F3).
"""

from __future__ import annotations

from datetime import date

from county_aggregator.store_exchange import ExchangeStore, Received
from node.deadlines.rules import DueDate, due_date
from node.deadlines.workdays import WorkCalendar
from node.errors import FieldProblem, NodeError, NotFoundError, ValidationError
from protocol.exchange import OUTCOMES

MAX_TEXT = 500


def find_one(store: ExchangeStore, prefix: str) -> Received:
    """The received notification whose id starts with ``prefix`` (at least 6 digits).

    Raises:
        NotFoundError: none, or several, match.
    """
    found = store.find(prefix.lower()) if len(prefix) >= 6 else []
    if len(found) != 1:
        raise NotFoundError(
            f"收件箱中没有唯一以 {prefix!r} 开头的通报（至少输入 6 位）",
            f"no single notification in the inbox starts with {prefix!r} (type 6 digits or more)",
            code="exchange.no_such_notification",
        )
    return found[0]


def reply_due(item: Received, calendar: WorkCalendar) -> DueDate:
    """When our answer to ``item`` is due by ``calendar`` as it is now."""
    return due_date("floating_hukou_reply", date.fromisoformat(item.received_date), calendar)


def answer(
    store: ExchangeStore, item: Received, outcome: str, cross_check: str, note: str,
    by: str, today: date, calendar: WorkCalendar,
) -> bool:  # fmt: skip
    """Record our answer to ``item``; returns whether it was on time.

    Raises:
        ValidationError: an unknown outcome, "not found" without a cross-check, or a
            text over 500 characters.
        NodeError: ``exchange.answered`` when the notification was answered already.
    """
    problems = []
    if outcome not in OUTCOMES:
        problems.append(FieldProblem(
            "outcome", "exchange.outcome", "反馈结果只能是 updated、not_found 或 other",
            "the outcome is updated, not_found or other",
        ))  # fmt: skip
    if outcome == "not_found" and not cross_check.strip():
        problems.append(FieldProblem(
            "cross_check", "exchange.cross_check_needed",
            "答复“查无此人”前须与其他记录核对，并写明核对了哪些记录（篇10 第25条）",
            "'not found' may be answered only after a cross-check with other records: say "
            "which (篇10 第25条)",
        ))  # fmt: skip
    if today.isoformat() < item.received_date:
        problems.append(FieldProblem(
            "answered", "exchange.before_receipt", "反馈日期早于收到通报的日期",
            "the answer would be dated before the notification was received",
        ))  # fmt: skip
    for name, text in (("cross_check", cross_check), ("note", note)):
        if len(text) > MAX_TEXT:
            problems.append(FieldProblem(name, "exchange.too_long", f"不超过 {MAX_TEXT} 字",
                                         f"at most {MAX_TEXT} characters"))  # fmt: skip
    if problems:
        raise ValidationError(problems)
    on_time = today <= reply_due(item, calendar).due
    if not store.answer(item.from_county, item.id, outcome, today.isoformat(), cross_check,
                        note, by, on_time):  # fmt: skip
        raise NodeError(
            "该通报已经反馈过，未做更改", "this notification was answered already; nothing changed",
            code="exchange.answered",
        )  # fmt: skip
    return on_time
