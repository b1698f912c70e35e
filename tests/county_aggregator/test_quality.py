# SPDX-License-Identifier: Apache-2.0
"""Data-quality checks over the merged records, per village (domain.md section 2)."""

from __future__ import annotations

from county_aggregator.quality import build_quality
from tests.county_aggregator.conftest import merge
from tests.county_aggregator.scenario import T0, Villages, card, id_number

H, R = "440104001002", "440104002001"
YEAR_MS = 365 * 86_400_000


def findings(villages: Villages, now_ms: int, months: int = 12) -> set[tuple[str, str, str]]:
    rows = build_quality(merge(villages), now_ms=now_ms, stale_months=months)
    assert rows == sorted(rows, key=lambda f: (f["village"], f["check"], f["kind"], f["key"]))
    return {(r["village"], r["check"], r["key"]) for r in rows}


def test_every_check_finds_its_case_in_its_village(villages: Villages) -> None:
    young, old = id_number("2010-01-01", 1), id_number("1980-01-01", 2)
    villages.write(H, "person", "P1", card(young, "张", "2010-01-01", H, H))
    villages.write(H, "person", "P2", card(old, "李", "1980-01-01", H, H))
    villages.write(R, "person", "P7", card(old, "黎", "1980-01-01", H, R))
    villages.write(
        H,
        "birth",
        "B1",
        {"mother_ref": "P1", "child_sex": "F", "birth_date": "2020-06-01", "birth_order": 1},
    )
    villages.write(
        R,
        "birth",
        "B2",
        {"mother_ref": "P99", "child_sex": "M", "birth_date": "2021-06-01", "birth_order": 1},
    )
    villages.write(H, "death", "D1", {"person_ref": "P2", "death_date": "2023-01-01"})
    villages.write(
        H,
        "follow_up",
        "F1",
        {"person_ref": "P2", "visit_date": "2024-01-01", "method_in_use": "iud"},
    )
    villages.write(
        H,
        "follow_up",
        "F2",
        {"person_ref": "P2", "visit_date": "2022-01-01", "method_in_use": "iud"},
    )
    found = findings(villages, now_ms=T0 + 30 * 86_400_000)
    assert {
        (H, "mother_under_12", f"{H}/B1"),
        (R, "birth_without_mother", f"{R}/B2"),
        (H, "event_after_death", f"{H}/F1"),
        (R, "duplicate_id_names", f"idn:{old}"),
    } == found


def test_stale_cards_are_live_cards_unchanged_for_n_months(villages: Villages) -> None:
    a, b, c = (id_number("1990-01-01", n) for n in (1, 2, 3))
    villages.write(H, "person", "P1", card(a, "甲", "1990-01-01", H, H))
    villages.write(H, "person", "P2", card(b, "乙", "1990-01-01", H, H))
    villages.write(H, "person", "P3", card(c, "丙", "1990-01-01", H, H))
    villages.retire(H, "person", "P3", "moved")
    villages.clock.tick(YEAR_MS)
    villages.write(H, "person", "P2", {"phone": "13900000000"})
    now = villages.clock.now + 30 * 86_400_000
    assert {(H, "stale_card", f"idn:{a}")} == findings(villages, now_ms=now)
    assert set() == findings(villages, now_ms=now, months=24)
