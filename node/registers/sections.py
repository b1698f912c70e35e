# SPDX-License-Identifier: Apache-2.0
"""The tables printed under three registers: stock ledger, benefit roster, floating roster.

Free supplies must balance (篇4 第35条): what was on the shelf at the start of the month,
plus what arrived, less what was handed out, is what is on the shelf at its end. The
benefit register lists the month's changes (篇3 第12条); the roster under it lists who
is a recipient at the month's end, and flags anyone who has died so payments stop
(the twice-yearly in-person check exists for exactly that, 篇4 第16条).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from node.deadlines.rules import add_months
from node.registers.labels import ITEM_ORDER, display_value
from node.registers.model import Column, MonthRange, Section
from node.store.lookup import RecordLookup

LEDGER_COLUMNS = (
    Column("item", "药具名称"),
    Column("opening", "上月结存"),
    Column("received", "本月入库"),
    Column("handed_out", "本月发放"),
    Column("closing", "本月结存"),
)

ROSTER_COLUMNS = (
    Column("no", "序号"),
    Column("name", "姓名"),
    Column("id_number", "身份证号码"),
    Column("hukou_address", "户籍地址"),
    Column("programme", "扶助项目"),
    Column("since_change", "纳入类别"),
    Column("since", "纳入日期"),
    Column("annual_amount", "扶助金额（元/年）"),
    Column("checked_in_person_date", "最近本人核验日期"),
    Column("check_due", "下次核验截止日期"),
    Column("note", "备注"),
    Column("record_id", "记录编号"),
)
FLOATING_COLUMNS = (
    Column("no", "序号"),
    Column("name", "姓名"),
    Column("id_number", "身份证号码"),
    Column("event", "流动类别"),
    Column("since", "流动日期"),
    Column("place_code", "对方地区划代码"),
    Column("record_id", "信息卡编号"),
)
CHECK_MONTHS = 6  # the in-person check of every recipient, twice a year (篇4 第16条)

IN_CHANGES = frozenset({"new", "moved_in"})


@dataclass
class _Stock:
    opening: int = 0
    received: int = 0
    handed_out: int = 0

    @property
    def closing(self) -> int:
        return self.opening + self.received - self.handed_out


def stock_ledger(lookup: RecordLookup, month: MonthRange) -> tuple[Section, ...]:
    """Opening balance, received, handed out and closing balance per item.

    Every live receipt and hand-out up to the month's last day counts; one dated
    before the month moves the opening balance, one inside it the month's columns.
    Retired records (entered in error) count nowhere, as in the register itself.
    """
    stock: dict[str, _Stock] = {}
    first = month.first.isoformat()
    moves = (("supply_receipt", "received_date", 1), ("supply_handout", "handout_date", -1))
    for kind, date_field, sign in moves:
        for _id, data in lookup.live_until(kind, date_field, month.last.isoformat()):
            quantity = data.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool):
                continue
            item = stock.setdefault(str(data.get("item")), _Stock())
            if data[date_field] < first:
                item.opening += sign * quantity
            elif sign > 0:
                item.received += quantity
            else:
                item.handed_out += quantity
    rows = [
        {
            "item": display_value("item", name),
            "opening": s.opening,
            "received": s.received,
            "handed_out": s.handed_out,
            "closing": s.closing,
        }
        for name, s in sorted(stock.items(), key=lambda kv: _item_key(kv[0]))
    ]
    return (Section("药具库存台账", LEDGER_COLUMNS, rows),)


def _item_key(item: str) -> tuple[int, str]:
    return (ITEM_ORDER.index(item), "") if item in ITEM_ORDER else (len(ITEM_ORDER), item)


@dataclass
class _Standing:
    record_id: str = ""
    person_ref: str = ""
    programme: str = ""
    receiving: bool = False
    since: str = ""
    since_change: str = ""
    amount: int | None = None
    checked: list[str] = field(default_factory=list)


def benefit_roster(lookup: RecordLookup, month: MonthRange) -> tuple[Section, ...]:
    """Recipients at the month's end, one line per person and programme.

    A person is a recipient after a ``new`` or ``moved_in`` change and stops being one
    after ``moved_out``, ``died`` or ``stopped``; changes are taken in date order.
    """
    standing: dict[tuple[str, str], _Standing] = {}
    for record_id, data in lookup.live_until("benefit", "effective_date", month.last.isoformat()):
        key = (str(data.get("person_ref")), str(data.get("programme")))
        s = standing.setdefault(key, _Standing(person_ref=key[0], programme=key[1]))
        if data.get("change") in IN_CHANGES:
            s.receiving, s.since, s.since_change = True, data["effective_date"], data["change"]
            s.record_id, s.amount = record_id, data.get("annual_amount")
        else:
            s.receiving = False
        if isinstance(data.get("checked_in_person_date"), str):
            s.checked.append(data["checked_in_person_date"])
    for _rid, check in lookup.live_until("benefit_check", "checked_date", month.last.isoformat()):
        key = (str(check.get("person_ref")), str(check.get("programme")))
        if key in standing:
            standing[key].checked.append(str(check["checked_date"]))
    deaths = {
        str(d.get("person_ref")): d["death_date"]
        for _id, d in lookup.live_until("death", "death_date", month.last.isoformat())
    }
    current = sorted(
        (s for s in standing.values() if s.receiving),
        key=lambda s: (s.since, s.programme, s.record_id),
    )
    rows = [_roster_row(n, s, lookup, deaths, month) for n, s in enumerate(current, start=1)]
    return (Section("月末在册奖励扶助对象", ROSTER_COLUMNS, rows),)


def _roster_row(
    n: int, s: _Standing, lookup: RecordLookup, deaths: dict[str, str], month: MonthRange
) -> dict[str, Any]:
    card = lookup.get("person", s.person_ref) or {}
    died = deaths.get(s.person_ref)
    last = max(s.checked) if s.checked else ""
    due = add_months(date.fromisoformat(last or s.since), CHECK_MONTHS).isoformat()
    note = f"本人已于{died}死亡，请办理停发" if died else ""
    if not died and due < month.last.isoformat():
        note = "逾期未进行本人核验"  # overdue: the six-monthly check stops payments to the dead
    return {
        "no": n,
        "name": display_value("name", card.get("name")),
        "id_number": display_value("id_number", card.get("id_number")),
        "hukou_address": display_value("hukou_address", card.get("hukou_address")),
        "programme": display_value("programme", s.programme),
        "since_change": display_value("change", s.since_change),
        "since": s.since,
        "annual_amount": display_value("annual_amount", s.amount),
        "checked_in_person_date": last,
        "check_due": due,
        "note": note,
        "record_id": s.record_id,
    }


def floating_roster(lookup: RecordLookup, month: MonthRange) -> tuple[Section, ...]:
    """Women on cards floating in or out at the month's end, by their latest floating
    record up to then (domain.md section 2: the hukou village keeps a floating-out
    woman's card open; the residence village keeps a floating-in woman's)."""
    latest: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for rid, event in lookup.live_until("floating", "event_date", month.last.isoformat()):
        who = str(event.get("person_ref"))
        held = latest.get(who)
        if held is None or (event["event_date"], rid) >= held[:2]:
            latest[who] = (event["event_date"], rid, event)
    rows: list[dict[str, Any]] = []
    for who, (day, _rid, event) in sorted(latest.items(), key=lambda kv: (kv[1][0], kv[0])):
        card = lookup.get("person", who) or {}
        if event.get("event") not in ("flow_in", "flow_out") or card.get("card_type") != "woman":
            continue
        rows.append(
            {
                "no": len(rows) + 1,
                "name": display_value("name", card.get("name")),
                "id_number": display_value("id_number", card.get("id_number")),
                "event": "流入" if event["event"] == "flow_in" else "流出",
                "since": day,
                "place_code": event.get("place_code") or "",
                "record_id": who,
            }
        )
    return (Section("月末流入流出育龄妇女名单", FLOATING_COLUMNS, rows),)
