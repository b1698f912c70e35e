# SPDX-License-Identifier: Apache-2.0
"""Closing an open item with what was done: always by recording it, never by ticking a box.

An item stays open until the record that closes it exists (node/open_items.py), so
closing one is recording that: the sending of a report (``report_submission``), the date
a birth registration was passed on, the answer to a complaint, a benefit change or an
in-person check. Everything goes through node/recording.py, is checked like any input
and travels to the township and the county like any change.

``what`` is what was done, as the officer says it; its meaning depends on the item:

* a report: to whom it was sent (optional);
* a complaint: the first-contact officer who answered (optional); a tip-off: ignored;
* a township review of a benefit application: ``passed`` or ``not_passed``;
* an in-person check: ``confirmed``, ``died`` or ``absent`` (default ``confirmed``);
* a benefit change in the month: the yearly amount for a new recipient (else ignored).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from node.domain import codes
from node.errors import FieldProblem, NotFoundError, ValidationError
from node.recording import add_record, update_record
from node.store.store import NodeStore

# Items closed by a date field of the record they are about.
DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "birth_registration_to_township": ("forwarded_date",),
    "floating_birth_registration_to_township": ("hukou_checked_date", "forwarded_date"),
    "birth_registration_township_report": ("township_registered_date",),
    "floating_birth_registration_township": ("township_registered_date",),
    "floating_birth_registration_notify_hukou": ("hukou_notified_date",),
    "tip_off_investigation": ("handled_date",),
}
REPORT_RULES = frozenset(codes.REPORTS)


def close_item(
    store: NodeStore, item_id: str, done: date, what: str | None, *, actor: str, today: date
) -> str:
    """Record what closes ``item_id``; return the id of the record written or changed.

    Args:
        store: the node's store.
        item_id: ``<rule>/<kind>/<record id>`` as :func:`node.open_items.open_items` lists.
        done: the day it was done (not after ``today``).
        what: what was done (module docstring).
        actor: who closes it (the checker of an in-person check).
        today: the Shanghai date the record is validated against.

    Raises:
        ValidationError: a malformed item id, an unknown item, or what the record refuses.
        NotFoundError: the record it names does not exist.
    """
    rule, kind, record_id = _parse(item_id)
    day = done.isoformat()
    if rule in REPORT_RULES and kind == "report":
        data = {"report": rule, "period": record_id, "sent_date": day, "sent_to": what}
        return add_record(store, "report_submission", data, today=today)
    if rule in DATE_FIELDS:
        update_record(store, kind, record_id, dict.fromkeys(DATE_FIELDS[rule], day), today=today)
        return record_id
    if rule == "complaint_follow_up":
        changes: dict[str, Any] = {"answered_date": day, "status": "answered"}
        if what:
            changes["first_contact_officer"] = what
        update_record(store, "complaint", record_id, changes, today=today)
        return record_id
    if rule == "benefit_recipient_change":
        result = what if what in codes.REVIEW_RESULTS else None
        if result is None:
            raise _bad("what", "item.review_result")
        changes = {"township_reviewed_date": day, "township_result": result}
        update_record(store, "benefit_application", record_id, changes, today=today)
        return record_id
    if rule == "benefit_in_person_check":
        change = _record(store, "benefit", record_id)
        result = what or "confirmed"
        data = {"person_ref": change["person_ref"], "programme": change["programme"]}
        data.update(checked_date=day, result=result, checker=actor)
        return add_record(store, "benefit_check", data, today=today)
    if rule == "benefit_change_in_month":
        return add_record(store, "benefit", _benefit_change(store, kind, record_id, day, what),
                          today=today)  # fmt: skip
    raise _bad("item", "item.unknown")


def _benefit_change(
    store: NodeStore, kind: str, record_id: str, day: str, what: str | None
) -> dict[str, Any]:
    """The recipient's change that the event calls for: new (a certificate issued),
    died, or moved out (the hukou moved away)."""
    source = _record(store, kind, record_id)
    if kind == "benefit_application":
        amount = source.get("annual_amount")
        if what and what.isdigit():
            amount = int(what)
        return {
            "person_ref": source["person_ref"],
            "programme": source["programme"],
            "change": "new",
            "effective_date": day,
            "annual_amount": amount,
            "application_ref": record_id,
        }
    person = str(source.get("person_ref"))
    programmes = {
        str(b["programme"])
        for _rid, b in store.records("benefit")
        if b.get("person_ref") == person and b.get("change") in codes.ACTIVE_CHANGES
    }
    if not programmes:
        raise _bad("item", "item.not_a_recipient")
    change = "died" if kind == "death" else "moved_out"
    return {
        "person_ref": person,
        "programme": sorted(programmes)[0],
        "change": change,
        "effective_date": day,
    }


def _record(store: NodeStore, kind: str, record_id: str) -> dict[str, Any]:
    found = store.record(kind, record_id)
    if found is None:
        raise NotFoundError(f"记录 {record_id} 不存在", f"record {kind}/{record_id} does not exist")
    return found


def _parse(item_id: object) -> tuple[str, str, str]:
    parts = item_id.split("/") if isinstance(item_id, str) else []
    if len(parts) != 3 or not all(parts):
        raise _bad("item", "item.format")
    return parts[0], parts[1], parts[2]


_MESSAGES = {
    "item.format": (
        "事项编号格式应为 规则/类别/编号，如 monthly_change_report/report/2026-03",
        "An item id is rule/kind/id, e.g. monthly_change_report/report/2026-03.",
    ),
    "item.unknown": ("没有这个待办事项", "There is no such open item."),
    "item.review_result": (
        "乡镇审核须说明结果：passed（符合条件）或 not_passed（不符合条件）",
        "A township review needs its result: passed or not_passed.",
    ),
    "item.not_a_recipient": (
        "此人目前不是奖励扶助对象，无需登记变更",
        "This person is not a current recipient; there is no change to record.",
    ),
}


def _bad(field: str, code: str) -> ValidationError:
    zh, en = _MESSAGES[code]
    return ValidationError([FieldProblem(field, code, zh, en)])
