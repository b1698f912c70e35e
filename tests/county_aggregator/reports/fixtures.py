# SPDX-License-Identifier: Apache-2.0
"""A small county written by hand: 2 townships, 3 villages, 52 merged records.

The expected figures of every report test were counted from this listing by hand (the
comments say who counts where), never by running the engine. Period of most tests:
2026H1 = 2025-10-01 .. 2026-03-31.

The floating and hukou cases of issue 16: a6 floats out (to Shenzhen, another county:
her hukou stays in A); c4 moves her hukou away (to Tianhe, another county: C closes her
card); b1 floats in from Haizhu on 2025-10-25 (five months by 2026-03-31) and c6 from
Tianhe on 2025-08-25 (seven months by then). b6's card says divorced today, but the
divorce is dated 2026-05-01, after the half-year.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from typing import Any

from node.timeutil import SHANGHAI

A, B, C = "440104001001", "440104001002", "440104002001"  # T1 = A, B; T2 = C
T1, T2, COUNTY = "440104001", "440104002", "440104"

# Same DDL as county_aggregator/migrations.py creates (the contract the reports read).
DDL = (
    """
    CREATE TABLE merged_records (
        kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, origins TEXT NOT NULL,
        village TEXT NOT NULL, retired TEXT, first_hlc INTEGER NOT NULL,
        last_hlc INTEGER NOT NULL,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX merged_records_village ON merged_records (village, kind)",
)


def hlc(day: str) -> int:
    """The HLC of noon (Shanghai) on ``day``."""
    d = date.fromisoformat(day)
    ms = int(datetime(d.year, d.month, d.day, 12, tzinfo=SHANGHAI).timestamp()) * 1000
    return ms << 16


OLD = "2025-01-01"  # when most records were entered


def person(
    village: str,
    pid: str,
    sex: str,
    born: str,
    marital: str,
    *,
    card: str = "woman",
    floating: str = "resident",
    since: str | None = None,
    married: str | None = None,
    hukou: str | None = None,
    place: str = "440105001001",
) -> tuple[str, str, str, dict[str, Any]]:
    data = {
        "card_type": card,
        "id_number": pid,
        "name": f"姓名{pid[-3:]}",
        "sex": sex,
        "birth_date": born,
        "marital_status": marital,
        "first_marriage_date": married,
        "hukou_code": hukou or village,
        "residence_code": village,
        "floating_status": floating,
        "floating_since": since,
        "floating_place": None if floating == "resident" else place,
    }
    return ("person", f"idn:{pid}", village, data)


def event(kind: str, key: str, village: str, **data: Any) -> tuple[str, str, str, dict[str, Any]]:
    return (kind, key, village, data)


def P(short: str) -> str:
    """The merged key of the person called ``short`` in the listing below."""
    return f"idn:{PIDS[short]}"


PIDS = {
    "a1": "440104199005010021", "a2": "440104198502010042", "a3": "440104199807150063",
    "a4": "440104196003030011", "a5": "440104202601050031", "a6": "440104199209090084",
    "b1": "440105199503030026", "b2": "440104197604010047", "b3": "440104197603310068",
    "b4": "440104195001010089", "b5": "440104195202020012", "b6": "440104200001010103",
    "c1": "440104198808080124", "c2": "440104199303030145", "c3": "440104198001010036",
    "c4": "440104199101010166", "c5": "440104199002020187", "c6": "440106199606060208",
    "c7": "440104194001010229",
}  # fmt: skip


def _p(short: str, village: str, *args: Any, **kw: Any) -> tuple[str, str, str, dict[str, Any]]:
    return person(village, PIDS[short], *args, **kw)


RECORDS: list[tuple[str, str, str, dict[str, Any]]] = [
    # Village A
    _p("a1", A, "F", "1990-05-01", "married", married="2015-05-01"),
    _p("a2", A, "F", "1985-02-01", "married", married="2008-01-01"),
    _p("a3", A, "F", "1998-07-15", "married", married="2026-01-20"),
    _p("a4", A, "M", "1960-03-03", "married", card="family"),
    _p("a5", A, "M", "2026-01-05", "unmarried", card="family"),
    _p("a6", A, "F", "1992-09-09", "married", floating="flowed_out", since="2025-12-01",
       place="440306"),
    # Village B
    _p("b1", B, "F", "1995-03-03", "married", floating="flowed_in", since="2025-10-25",
       hukou="440105001001"),
    _p("b2", B, "F", "1976-04-01", "married"),  # 49 on 2026-03-31
    _p("b3", B, "F", "1976-03-31", "married"),  # 50 on 2026-03-31: out of 15-49
    _p("b4", B, "F", "1950-01-01", "widowed", card="family"),
    _p("b5", B, "M", "1952-02-02", "married", card="family"),
    _p("b6", B, "F", "2000-01-01", "divorced"),  # divorced 2026-05-01 (mc1)
    # Village C
    _p("c1", C, "F", "1988-08-08", "married"),
    _p("c2", C, "F", "1993-03-03", "remarried"),
    _p("c3", C, "M", "1980-01-01", "married", card="family"),
    _p("c4", C, "F", "1991-01-01", "married", hukou="440106001001"),  # hukou moved away
    _p("c5", C, "F", "1990-02-02", "married"),  # withdrawn as a duplicate (RETIRED)
    _p("c6", C, "F", "1996-06-06", "married", floating="flowed_in", since="2025-08-25",
       hukou="440106001001", place="440106001001"),
    _p("c7", C, "F", "1940-01-01", "widowed", card="family"),
    # Births (birth4 is before the period)
    event("birth", "birth1", A, mother_ref=P("a1"), birth_date="2026-01-05", birth_order=2,
          child_sex="M"),
    event("birth", "birth2", C, mother_ref=P("c1"), birth_date="2025-12-20", birth_order=1,
          child_sex="F"),
    event("birth", "birth3", B, mother_ref=P("b1"), birth_date="2026-03-10", birth_order=3,
          child_sex="F"),
    event("birth", "birth4", A, mother_ref=P("a2"), birth_date="2025-09-30", birth_order=1,
          child_sex="M"),
    event("death", "death1", A, person_ref=P("a4"), death_date="2026-02-10"),
    event("death", "death2", B, person_ref=P("b5"), death_date="2026-03-01"),
    event("marriage", "mar1", A, woman_ref=P("a3"), marriage_date="2026-01-20",
          first_marriage=True),
    event("marriage", "mar2", C, woman_ref=P("c2"), marriage_date="2025-11-11",
          first_marriage=False),
    event("floating", "fl1", A, person_ref=P("a6"), event="flow_out", event_date="2025-12-01",
          place_code="440306"),
    event("floating", "fl2", B, person_ref=P("b1"), event="flow_in", event_date="2025-10-25",
          place_code="440105001001"),
    event("floating", "fl3", C, person_ref=P("c6"), event="flow_in", event_date="2025-08-25",
          place_code="440106001001"),
    event("move", "mv3", C, person_ref=P("c3"), direction="in", move_date="2024-05-01"),
    event("move", "mv4", C, person_ref=P("c4"), direction="out", move_date="2026-01-15",
          to_code="440106001001"),
    event("marital_change", "mc1", B, person_ref=P("b6"), marital_status="divorced",
          change_date="2026-05-01"),
    event("follow_up", "fu1", A, person_ref=P("a1"), visit_date="2025-11-10", method_in_use="iud"),
    event("follow_up", "fu2", B, person_ref=P("b1"), visit_date="2026-02-01",
          method_in_use="condom"),
    event("follow_up", "fu3", B, person_ref=P("b2"), visit_date="2025-06-01",
          method_in_use="pill_injection"),
    event("follow_up", "fu4", B, person_ref=P("b3"), visit_date="2025-12-01", method_in_use="iud"),
    event("follow_up", "fu5", C, person_ref=P("c1"), visit_date="2025-12-12",
          method_in_use="male_sterilisation"),
    event("follow_up", "fu6", C, person_ref=P("c2"), visit_date="2025-01-01",
          method_in_use="implant"),
    event("follow_up", "fu7", C, person_ref=P("c2"), visit_date="2026-04-15",
          method_in_use="other"),  # after the period: ignored by 2026H1
    event("follow_up", "fu8", C, person_ref=P("c6"), visit_date="2025-10-20",
          method_in_use="condom"),
    event("contraceptive_procedure", "pr1", A, person_ref=P("a2"),
          method="female_sterilisation", procedure_date="2024-06-01"),
    event("contraceptive_procedure", "pr2", B, person_ref=P("b6"), method="iud_insertion",
          procedure_date="2025-10-15"),
    event("contraceptive_procedure", "pr3", B, person_ref=P("b6"), method="iud_removal",
          procedure_date="2026-03-01"),
    event("health_check", "hc1", B, person_ref=P("b1"), done_date="2026-02-01"),
    event("health_check", "hc2", A, person_ref=P("a1"), done_date="2026-01-15"),
    event("supply_handout", "sh1", C, person_ref=P("c6"), handout_date="2026-01-10",
          item="condom", quantity=10),
    event("supply_handout", "sh2", C, person_ref=None, handout_date="2026-01-10",
          item="condom", quantity=5),
    event("benefit", "bn1", B, person_ref=P("b4"), programme="reward_support", change="new",
          effective_date="2020-01-01", annual_amount=960),
    event("benefit", "bn2", B, person_ref=P("b5"), programme="reward_support", change="new",
          effective_date="2021-01-01", annual_amount=960),
    event("benefit", "bn3", B, person_ref=P("b5"), programme="reward_support", change="died",
          effective_date="2026-03-01"),
    event("benefit", "bn4", C, person_ref=P("c7"), programme="special_support", change="new",
          effective_date="2026-01-01", annual_amount=4800),
]  # fmt: skip

# (first entered, last changed) when not OLD/OLD, and the withdrawn records.
STAMPS = {
    ("birth", "birth3"): ("2026-03-12", "2026-03-12"),
    ("contraceptive_procedure", "pr3"): ("2026-03-02", "2026-03-02"),
    ("person", P("b6")): (OLD, "2026-03-02"),
    ("person", P("a5")): ("2026-03-05", "2026-03-05"),
    ("benefit", "bn3"): ("2026-03-03", "2026-03-20"),
    ("person", P("c5")): (OLD, "2026-03-15"),
}
RETIRED = {("person", P("c5")): "duplicate", ("person", P("c4")): "moved_away"}


def create_merged(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Create ``merged_records`` in ``conn`` and write the listing into it."""
    for ddl in DDL:
        conn.execute(ddl)
    rows = []
    for kind, key, village, data in RECORDS:
        first, last = STAMPS.get((kind, key), (OLD, OLD))
        rows.append(
            (
                kind,
                key,
                json.dumps(data, ensure_ascii=False),
                json.dumps([village]),
                village,
                RETIRED.get((kind, key)),
                hlc(first),
                hlc(last),
            )
        )
    conn.executemany("INSERT INTO merged_records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    return conn
