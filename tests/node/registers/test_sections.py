# SPDX-License-Identifier: Apache-2.0
"""The stock ledger balances (篇4 第35条) and the benefit roster flags the dead (篇4 第16条)."""

from __future__ import annotations

from node.registers import build_register
from tests.node.registers.sample import Village, add


def ledger(village: Village, month: str) -> dict[str, tuple[int, int, int, int]]:
    (section,) = build_register(village.store.db, "supplies", month).sections
    assert "药具库存台账" == section.title
    assert ["药具名称", "上月结存", "本月入库", "本月发放", "本月结存"] == [
        c.heading for c in section.columns
    ]
    return {
        r["item"]: (r["opening"], r["received"], r["handed_out"], r["closing"])
        for r in section.rows
    }


def test_march_stock_ledger_balances(village: Village) -> None:
    # Condoms: 100 in and 10 out in February; 50 in, 5 + 3 out in March (the retired
    # hand-out of 1000 counts nowhere; April's movements not yet).
    # Pills: 30 in and 2 out in March.
    assert {"避孕套": (90, 50, 8, 132), "口服避孕药": (0, 30, 2, 28)} == ledger(village, "2026-03")


def test_closing_balance_is_next_opening_balance(village: Village) -> None:
    march, april = ledger(village, "2026-03"), ledger(village, "2026-04")
    assert {k: v[3] for k, v in march.items()} == {k: v[0] for k, v in april.items()}
    assert {"避孕套": (132, 20, 7, 145), "口服避孕药": (28, 0, 0, 28)} == april


def test_ledger_rows_follow_the_item_order(village: Village) -> None:
    add(
        village.store,
        "supply_receipt",
        item="spermicide",
        quantity=4,
        received_date="2026-03-02",
        source="区计生站",
    )
    assert ["避孕套", "口服避孕药", "外用杀精剂"] == list(ledger(village, "2026-03"))


def test_ledger_before_any_stock_is_empty(village: Village) -> None:
    assert {} == ledger(village, "2025-12")


def test_benefit_roster_at_month_end(village: Village) -> None:
    register = build_register(village.store.db, "benefits", "2026-03")
    assert [("李娜", "新增"), ("陈静", "停止")] == [(r["name"], r["change"]) for r in register.rows]
    (roster,) = register.sections
    assert "月末在册奖励扶助对象" == roster.title
    rows = [(r["name"], r["since"], r["checked_in_person_date"], r["note"]) for r in roster.rows]
    assert [
        ("张伟", "2026-01-05", "", "本人已于2026-03-25死亡，请办理停发"),
        ("李娜", "2026-03-01", "2026-03-01", ""),
    ] == rows
    assert "农村部分计划生育家庭奖励扶助" == roster.rows[0]["programme"]


def test_roster_before_the_death_has_no_note(village: Village) -> None:
    (roster,) = build_register(village.store.db, "benefits", "2026-02").sections
    assert [("陈静", ""), ("张伟", "")] == [(r["name"], r["note"]) for r in roster.rows]
