# SPDX-License-Identifier: Apache-2.0
"""County report figures: Tables 2, 3 and 5 over a generated county's merged records.

"report.table2", "report.table3", "report.table5": seconds to build each table for
2026H1 (2025-10-01 .. 2026-03-31) from ``merged_records``, target <= 5 s each for a
county of 250,000 women aged 15-49 (issue 5). The county is generated to the national
proportions of domain.md section 6: the women are 23 % of the residents, so it also
holds ~840k family-member cards, and two statistical years of events (births, deaths,
marriages, moves, follow-ups, procedures, health checks, hand-outs, benefits). ``quick``
generates 20,000 women with the same proportions. The table is the merge engine's
(``county_aggregator/migrations.py``: WITHOUT ROWID, index on village).
"""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from county_aggregator.reports import build_report
from tests.county_aggregator.reports.fixtures import DDL

COUNTY = "441322"
TOWNSHIPS, VILLAGES_PER_TOWNSHIP = 20, 15
WOMEN_SHARE = 0.23
START, DAYS = date(2024, 10, 1), 730  # two statistical years of events
HLC = 1_750_000_000_000 << 16


def _day(rng: random.Random, first: date = START, days: int = DAYS) -> str:
    return (first + timedelta(days=rng.randrange(days))).isoformat()


def _born(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _family_born(rng: random.Random, sex: str) -> str:
    """Women aged 15-49 all have a woman's card; family cards hold the others."""
    if sex == "M":
        return _born(rng, 1935, 2025)
    return _born(rng, 1935, 1975) if rng.random() < 0.6 else _born(rng, 2012, 2025)


def generate(conn: sqlite3.Connection, women: int, seed: int = 7) -> dict[str, int]:
    """Write a county of ``women`` women 15-49 (and the rest) into ``merged_records``."""
    rng = random.Random(seed)
    for ddl in DDL:
        conn.execute(ddl)
    villages = [
        f"{COUNTY}{t:03d}{v:03d}"
        for t in range(1, TOWNSHIPS + 1)
        for v in range(1, VILLAGES_PER_TOWNSHIP + 1)
    ]
    residents = int(women / WOMEN_SHARE)
    people: list[tuple[str, str]] = []  # (key, village)
    married: list[tuple[str, str]] = []
    rows: list[tuple[Any, ...]] = []

    def add(kind: str, key: str, village: str, data: dict[str, Any]) -> None:
        text = json.dumps(data, ensure_ascii=False)
        rows.append((kind, key, text, f'["{village}"]', village, None, HLC, HLC))
        if len(rows) >= 50_000:
            flush()

    def flush() -> None:
        conn.executemany("INSERT INTO merged_records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        rows.clear()

    for i in range(residents):
        village = rng.choice(villages)
        woman = i < women
        sex = "F" if woman or rng.random() < 0.45 else "M"
        is_married = rng.random() < 0.7
        floating = rng.choices(("resident", "flowed_in", "flowed_out"), (77, 15, 8))[0]
        key = f"idn:{COUNTY}{i:012d}"
        add("person", key, village, {
            "card_type": "woman" if woman else "family", "id_number": key[4:], "name": f"居民{i}",
            "sex": sex, "birth_date": _born(rng, 1977, 2010) if woman else _family_born(rng, sex),
            "ethnicity": None, "hukou_code": village, "hukou_address": "某路1号",
            "residence_code": village, "residence_address": "某路1号",
            "marital_status": "married" if is_married else "unmarried",
            "first_marriage_date": _born(rng, 1995, 2024) if is_married else None,
            "spouse_ref": None, "phone": None, "floating_status": floating,
            "floating_since": None if floating == "resident" else _day(rng, date(2020, 1, 1), 2400),
            "floating_place": None if floating == "resident" else "440104001001",
        })  # fmt: skip
        people.append((key, village))
        if woman and is_married:
            married.append((key, village))
    years = DAYS / 365
    plan: dict[str, tuple[float, list[tuple[str, str]], Any]] = {  # kind: (n, subjects, data)
        "birth": (6.6e-3 * residents * years, married, lambda: {
            "birth_date": _day(rng), "birth_order": rng.choices((1, 2, 3), (45, 40, 15))[0],
            "child_sex": rng.choices(("M", "F"), (111, 100))[0], "birth_place": "县医院"}),
        "death": (7.8e-3 * residents * years, people, lambda: {"death_date": _day(rng)}),
        "marriage": (5e-3 * residents * years, married, lambda: {
            "marriage_date": _day(rng), "first_marriage": rng.random() < 0.9,
            "husband_name": "某", "registered_at": "民政局"}),
        "move": (0.04 * residents * years, people, lambda: {
            "direction": rng.choice(("in", "out")), "move_date": _day(rng), "reason": "work",
            "from_code": "440104001001", "to_code": "440104001002"}),
        "follow_up": (len(married) * years, married, lambda: {
            "visit_date": _day(rng), "method_in_use": rng.choices(
                ("iud", "female_sterilisation", "condom", "male_sterilisation", "implant",
                 "pill_injection", "other", "none"), (50, 25, 15, 3, 2, 2, 1, 2))[0]}),
        "contraceptive_procedure": (0.03 * len(married) * years, married, lambda: {
            "method": rng.choice(("iud_insertion", "iud_removal", "implant_insertion")),
            "procedure_date": _day(rng), "chosen_date": "2024-01-01", "provider": "站",
            "informed_consent": True}),
        "health_check": (0.5 * women * years, people[:women], lambda: {
            "done_date": _day(rng), "check_type": "reproductive_health",
            "scheduled_date": "2024-01-01", "place": "站"}),
        "supply_handout": (0.4 * len(married) * years, married, lambda: {
            "item": "condom", "quantity": 10, "handout_date": _day(rng)}),
        "benefit": (0.02 * residents, people, lambda: {
            "programme": rng.choice(("reward_support", "special_support")),
            "change": rng.choices(("new", "died", "stopped"), (90, 7, 3))[0],
            "effective_date": _day(rng, date(2018, 1, 1), 3100)}),
    }  # fmt: skip
    ref = {"birth": "mother_ref", "marriage": "woman_ref"}
    counts = {"person": residents}
    for kind, (n, subjects, make) in plan.items():
        counts[kind] = int(n)
        for j in range(int(n)):
            key, village = rng.choice(subjects)
            add(kind, f"{kind[:3]}{j}", village, {ref.get(kind, "person_ref"): key, **make()})
    flush()
    conn.commit()
    return counts


def run(quick: bool = False) -> Iterator[dict[str, Any]]:
    women = 20_000 if quick else 250_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "county.db"
        conn = sqlite3.connect(path)
        t0 = time.perf_counter()
        counts = generate(conn, women)
        generate_s = time.perf_counter() - t0
        conn.close()
        rows = sum(counts.values())
        for name in ("table2", "table3", "table5"):
            conn = sqlite3.connect(path)
            t0 = time.perf_counter()
            report = build_report(conn, name, period="2026H1")
            seconds = time.perf_counter() - t0
            county = report.rows[0].key
            first = report.columns[0].key
            yield {
                "name": f"report.{name}",
                "seconds": round(seconds, 2),
                "women": women,
                "merged_records": rows,
                "persons": counts["person"],
                "rows": len(report.rows),
                f"county_{first}": report.value(county, first),
                "generate_seconds": round(generate_s, 1),
            }
            conn.close()
