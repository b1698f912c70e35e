# SPDX-License-Identifier: Apache-2.0
"""Every report against figures counted by hand from fixtures.py (comments say whom).

Rows are given per village; townships and the county are checked to be their sums.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from county_aggregator.reports import DEFINITIONS, Report, build_report
from county_aggregator.reports.rules import TableDef
from node.errors import ValidationError
from tests.county_aggregator.reports.fixtures import (
    COUNTY,
    OLD,
    T1,
    T2,
    A,
    B,
    C,
    P,
    event,
    hlc,
    person,
)


def figures(report: Report, row: str) -> dict[str, Any]:
    return {c.key: report.value(row, c.key) for c in report.columns}


def nonzero(report: Report, row: str) -> dict[str, Any]:
    return {k: v for k, v in figures(report, row).items() if v not in (0, "—")}


def check_sums(report: Report) -> None:
    """A township is the sum of its villages, the county of all: for every count column."""
    counted = [c.key for c in report.columns if isinstance(report.value(A, c.key), int)]
    for col in counted:
        a, b, c, t1, t2, county = (int(report.value(row, col)) for row in (A, B, C, T1, T2, COUNTY))
        assert (t1, t2, county) == (a + b, c, t1 + t2)


def test_row_order_and_labels(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table2", period="2026H1")
    assert [r.key for r in report.rows] == [COUNTY, T1, A, B, T2, C]
    assert [r.level for r in report.rows][:3] == ["county", "township", "village"]
    assert report.rows[0].label == "越秀区"  # from the shipped division list


def test_table2(merged: sqlite3.Connection) -> None:
    """Issue 16 item 2, domain.md 4: 表2 of the hukou population; moves are hukou moves."""
    report = build_report(merged, "table2", period="2026H1")
    assert report.title == "表2 户籍人口自然变动及女性初婚情况"
    # A: a1 a2 a3 a4 a6 on 2025-09-30 (a5 born 2026). a6 floated out in December: her
    # hukou is still here, so she stays (no move). birth1 (2nd, boy); a4 died; a3 married.
    assert nonzero(report, A) == {
        "pop_start": 5, "births": 1, "births_m": 1, "b2_m": 1, "deaths": 1,
        "first_marriages": 1, "pop_end": 5,
    }  # fmt: skip
    # B: b2-b6; b1 floated in from Haizhu (not hukou population: birth3 is not counted
    # here, neither is she); b5 died.
    assert nonzero(report, B) == {"pop_start": 5, "deaths": 1, "pop_end": 4}
    # C: c1 c2 c3 c4 c7 (c5 withdrawn; c6 floated in); birth2 (1st, girl); c4's hukou
    # moved away on 2026-01-15; mar2 is a remarriage, not a first marriage.
    assert nonzero(report, C) == {
        "pop_start": 5, "births": 1, "births_f": 1, "b1_f": 1, "moved_out": 1, "pop_end": 5,
    }  # fmt: skip
    assert report.value(COUNTY, "pop_end") == 14
    check_sums(report)


def test_table2_resident(merged: sqlite3.Connection) -> None:
    """Issue 16 item 2, 篇10: the 暂住 version counts the hukou population and people who
    floated in more than six months ago. b1 (in since 2025-10-25: five months on
    2026-03-31) is not yet a resident; c6 (since 2025-08-25: seven months) became one
    during the half-year; a6 (floated out) stays, her hukou is here."""
    report = build_report(merged, "table2-resident", period="2026H1")
    assert report.title == "表2 人口（暂住）自然变动及女性初婚情况"
    assert nonzero(report, A) == {
        "hukou_start": 5, "pop_start": 5, "births": 1, "births_m": 1, "b2_m": 1, "deaths": 1,
        "first_marriages": 1, "pop_end": 5,
    }  # fmt: skip
    assert nonzero(report, B) == {"hukou_start": 5, "pop_start": 5, "deaths": 1, "pop_end": 4}
    assert nonzero(report, C) == {
        "hukou_start": 5, "pop_start": 5, "births": 1, "births_f": 1, "b1_f": 1,
        "moved_out": 1, "floaters_joined": 1, "pop_end": 6,
    }  # fmt: skip
    assert report.value(COUNTY, "pop_end") == 15
    check_sums(report)
    # In the whole statistical year b1 passes six months too (2026-04-25), and her birth
    # (birth3) is then a resident's birth.
    year = build_report(merged, "table2-resident", period="2026Y")
    assert nonzero(year, B) == {
        "hukou_start": 5, "pop_start": 5, "births": 1, "births_f": 1, "b3_f": 1, "deaths": 1,
        "floaters_joined": 1, "pop_end": 6,
    }  # fmt: skip


def test_table2_statistical_year_sees_the_later_births(merged: sqlite3.Connection) -> None:
    """The year adds nothing here (no event after March), but its start is the same."""
    year = build_report(merged, "table2", period="2026Y")
    half = build_report(merged, "table2", period="2026H1")
    assert year.as_rows() == half.as_rows()


def test_table3(merged: sqlite3.Connection) -> None:
    """Issue 16 item 2: 表3 of the hukou population, married as at the period's end."""
    report = build_report(merged, "table3", period="2026H1")
    # A: a1 IUD (fu1), a2 female sterilisation (pr1 in 2024), a3 married 2026-01-20 with
    # no record, a6 floating out (still hukou population here) with no record.
    assert nonzero(report, A) == {
        "married_women": 4, "iud": 1, "female_sterilisation": 1, "users": 2,
        "unrecorded": 2, "prevalence": "50.0",
    }  # fmt: skip
    # B: b2 pill (fu3, before the period still counts: latest up to the end); b6's card
    # says divorced, but the divorce is dated after 2026-03-31: married then, IUD removed
    # 2026-03-01 -> none. b3 is 50 on 2026-03-31; b1 floated in (not hukou population).
    assert nonzero(report, B) == {
        "married_women": 2, "pill_injection": 1, "users": 1, "none": 1, "prevalence": "50.0",
    }  # fmt: skip
    # C: c1 male sterilisation, c2 implant (fu7 'other' is after the period); c4's hukou
    # moved away in January; c5 withdrawn; c6 floated in.
    assert nonzero(report, C) == {
        "married_women": 2, "male_sterilisation": 1, "implant": 1, "users": 2,
        "prevalence": "100.0",
    }  # fmt: skip
    assert report.value(COUNTY, "prevalence") == "62.5"
    assert report.value(T1, "prevalence") == "50.0"
    check_sums(report)


def test_table3_resident(merged: sqlite3.Connection) -> None:
    """The 暂住 version adds c6 (floated in seven months before the end, condom, fu8);
    b1 (five months) is not a resident yet."""
    report = build_report(merged, "table3-resident", period="2026H1")
    assert report.title == "表3 已婚育龄夫妇（暂住）节育情况"
    assert report.value(B, "married_women") == 2
    assert nonzero(report, C) == {
        "married_women": 3, "male_sterilisation": 1, "implant": 1, "condom": 1, "users": 3,
        "prevalence": "100.0",
    }  # fmt: skip
    assert report.value(COUNTY, "married_women") == 9
    check_sums(report)


def test_table3_after_the_april_visit(merged: sqlite3.Connection) -> None:
    """In the statistical year fu7 (2026-04-15, 'other') is c2's latest method; in B, b6
    (divorced on 2026-05-01) is no longer married at its end and b2 turned 50 in April."""
    report = build_report(merged, "table3", period="2026Y")
    assert report.value(C, "implant") == 0 and report.value(C, "other") == 1
    assert report.value(B, "married_women") == 0


def test_table3_marital_status_as_at_the_period_end(merged: sqlite3.Connection) -> None:
    """Issue 16 item 2: a3's card says married (since 2026-01-20): in the statistical year
    2025 (ending 2025-09-30) she was not married yet."""
    before = build_report(merged, "table3", period="2025Y")
    records = set(before.cells[(A, "married_women")].records)
    assert ("person", P("a3")) not in records and ("person", P("a1")) in records


def test_table5(merged: sqlite3.Connection) -> None:
    """Issue 16 item 2, 篇10 第3条 / 第28条: annual only; floating women 18-49 who crossed
    a county line; births to floating women."""
    report = build_report(merged, "table5", period="2026Y")
    # a6 floated out to Shenzhen on 2025-12-01.
    assert nonzero(report, A) == {"flowed_out": 1, "flowed_out_new": 1}
    # b1 floated in 2025-10-25: health check hc1, follow-up fu2, and her birth3.
    assert nonzero(report, B) == {
        "flowed_in": 1, "flowed_in_new": 1, "records_kept": 1, "health_checks": 1,
        "follow_ups": 1, "services": 2, "births_in": 1,
    }  # fmt: skip
    # c6 floated in 2025-08-25 (before the year): fu8 and sh1 (sh2 names nobody).
    assert nonzero(report, C) == {
        "flowed_in": 1, "records_kept": 1, "follow_ups": 1, "supplies": 1, "services": 2,
    }  # fmt: skip
    # merged.db alone holds no exchange records (they live in the county node's database,
    # attached by the report command: tests/county_aggregator/exchange).
    assert report.value(COUNTY, "notices_sent") == 0 == report.value(COUNTY, "notices_on_time")
    check_sums(report)


def add_rows(conn: sqlite3.Connection, rows: list[tuple[str, str, str, dict[str, Any]]]) -> None:
    """Write more hand-made records into the merged county (entered on OLD, live)."""
    conn.executemany(
        "INSERT INTO merged_records VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
        [
            (kind, key, json.dumps(data, ensure_ascii=False), json.dumps([village]), village,
             hlc(OLD), hlc(OLD))
            for kind, key, village, data in rows
        ],
    )  # fmt: skip


def test_table5_counts_women_18_49_who_crossed_a_county_line(merged: sqlite3.Connection) -> None:
    """篇10 第3条: floating-population work is about people who crossed a county line,
    aged 18-49. Added: d1 floats out of A to a village of the same county; d2 (17 at the
    year's end) and d3 (56) float into B from Haizhu; d4, a man, floats into C; d5 moves
    to C from A (same county). None of them is counted. d6 (18) floats into B from
    Haizhu: she is, which shows the added rows are read."""
    before = build_report(merged, "table5", period="2026Y").as_rows()
    haizhu, same_county = "440105001001", "440104001001"
    rows = [
        person(A, "440104199001010301", "F", "1990-01-01", "married", floating="flowed_out",
               since="2025-12-01", place=C),
        event("floating", "fl-d1", A, person_ref="idn:440104199001010301", event="flow_out",
              event_date="2025-12-01", place_code=C),
        person(B, "440105200906010322", "F", "2009-06-01", "unmarried", floating="flowed_in",
               since="2025-11-01", hukou=haizhu, place=haizhu),
        event("floating", "fl-d2", B, person_ref="idn:440105200906010322", event="flow_in",
              event_date="2025-11-01", place_code=haizhu),
        person(B, "440105197001010343", "F", "1970-01-01", "married", card="family",
               floating="flowed_in", since="2025-11-01", hukou=haizhu, place=haizhu),
        event("floating", "fl-d3", B, person_ref="idn:440105197001010343", event="flow_in",
              event_date="2025-11-01", place_code=haizhu),
        person(C, "440105199001010351", "M", "1990-01-01", "married", card="family",
               floating="flowed_in", since="2025-11-01", hukou=haizhu, place=haizhu),
        event("floating", "fl-d4", C, person_ref="idn:440105199001010351", event="flow_in",
              event_date="2025-11-01", place_code=haizhu),
        person(C, "440104199501010364", "F", "1995-01-01", "married", floating="flowed_in",
               since="2025-11-01", hukou=same_county, place=same_county),
        event("floating", "fl-d5", C, person_ref="idn:440104199501010364", event="flow_in",
              event_date="2025-11-01", place_code=same_county),
    ]  # fmt: skip
    add_rows(merged, rows)
    assert build_report(merged, "table5", period="2026Y").as_rows() == before
    add_rows(merged, [
        person(B, "440105200801010385", "F", "2008-01-01", "unmarried", floating="flowed_in",
               since="2025-11-01", hukou=haizhu, place=haizhu),
        event("floating", "fl-d6", B, person_ref="idn:440105200801010385", event="flow_in",
              event_date="2025-11-01", place_code=haizhu),
    ])  # fmt: skip
    after = build_report(merged, "table5", period="2026Y")
    assert (after.value(B, "flowed_in"), after.value(B, "flowed_in_new")) == (2, 2)


def test_table5_is_annual_only(merged: sqlite3.Connection) -> None:
    with pytest.raises(ValidationError) as caught:
        build_report(merged, "table5", period="2026H1")
    assert caught.value.problems[0].code == "period.kind"


def test_monthly(merged: sqlite3.Connection) -> None:
    march = build_report(merged, "monthly", period="2026-03")
    assert nonzero(march, A) == {}
    assert nonzero(march, B) == {"births": 1, "deaths": 1, "procedures": 1, "benefit_changes": 1}
    assert nonzero(march, C) == {}
    check_sums(march)
    february = build_report(merged, "monthly", period="2026-02")
    assert nonzero(february, A) == {"deaths": 1}
    assert nonzero(february, B) == {"health_checks": 1, "follow_ups": 1}
    assert nonzero(february, C) == {}
    # Hukou moves and floating are separate columns (issue 16 item 1).
    january = build_report(merged, "monthly", period="2026-01")
    assert nonzero(january, C) == {"moved_out": 1, "benefit_changes": 1}  # mv4, bn4
    assert nonzero(build_report(merged, "monthly", period="2025-12"), A) == {"flowed_out": 1}
    october = build_report(merged, "monthly", period="2025-10")
    assert nonzero(october, B) == {"flowed_in": 1, "procedures": 1}  # fl2, pr2


def test_monthly_changes(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "monthly-changes", period="2026-03")
    assert nonzero(report, A) == {"new_cards": 1, "total": 1}  # a5's card
    # b6's card changed; birth3, pr3 and bn3 entered in March (bn3 changed again: new).
    assert nonzero(report, B) == {"changed_cards": 1, "new_records": 3, "total": 4}
    assert nonzero(report, C) == {"retired": 1, "total": 1}  # c5 withdrawn
    assert nonzero(build_report(merged, "monthly-changes", period="2026-02"), COUNTY) == {}


def test_benefit_fund(merged: sqlite3.Connection) -> None:
    """Issue 16 item 2, 篇4 第16条: recipients and amounts, April half-year and October
    statistical-year reports, no second half-year."""
    report = build_report(merged, "benefit-fund", period="2026H1")
    assert nonzero(report, A) == {}
    # b4 and b5 receive reward support (960 a year) since 2020/2021; b5 died 2026-03-01.
    assert nonzero(report, B) == {
        "reward_start": 2, "reward_died": 1, "reward_end": 1, "reward_amount": 960,
    }  # fmt: skip
    # c7 from January, 4,800 a year.
    assert nonzero(report, C) == {"special_new": 1, "special_end": 1, "special_amount": 4800}
    year = build_report(merged, "benefit-fund", period="2026Y")
    assert year.period.first.isoformat() == "2025-10-01" == report.period.first.isoformat()
    assert year.period.last.isoformat() == "2026-09-30"
    assert year.as_rows() == report.as_rows()  # nothing changed after March
    with pytest.raises(ValidationError):
        build_report(merged, "benefit-fund", period="2026H2")


def test_benefit_changes(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "benefit-changes", period="2026H1")
    assert report.as_rows() == [
        {"township": T1, "village": B, "name": "姓名012", "id_number": "440104195202020012",
         "programme": "农村部分计划生育家庭奖励扶助", "change": "死亡",
         "effective_date": "2026-03-01", "checked": ""},
        {"township": T2, "village": C, "name": "姓名229", "id_number": "440104194001010229",
         "programme": "计划生育家庭特别扶助", "change": "新增", "effective_date": "2026-01-01",
         "checked": ""},
    ]  # fmt: skip
    assert build_report(merged, "benefit-changes", period="2026-02").rows == ()


def test_a_village_without_cards_still_gets_its_row(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "monthly", period="2026-03")
    assert A in {r.key for r in report.rows}  # no event in March, still listed
    extra = "440104002009"
    report = build_report(merged, "monthly", period="2026-03", villages=[A, B, C, extra])
    assert report.value(extra, "births") == 0 and report.rows[-1].key == extra


def test_an_empty_county(merged: sqlite3.Connection) -> None:
    merged.execute("DELETE FROM merged_records")
    for name, defn in DEFINITIONS.items():
        period = {"month": "2026-03", "half1": "2026H1", "year": "2026Y"}[defn.periods[0]]
        assert build_report(merged, name, period=period).rows == ()


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_column_key_is_a_canonical_json_key(name: str) -> None:
    defn = DEFINITIONS[name]
    keys = [c.key for c in defn.columns] if isinstance(defn, TableDef) else []
    assert len(keys) == len(set(keys))
    assert all(k.isascii() and k == k.lower() for k in keys)


def test_table3_reads_only_women_of_the_ages(merged: sqlite3.Connection) -> None:
    """Table 3's person filters SQL can decide are pushed into SQL (the 250k-women budget
    needs it); marital status is decided from dated records, after the scan."""
    from county_aggregator.reports.engine import _plan
    from county_aggregator.reports.periods import parse_period

    scan = _plan(DEFINITIONS["table3"], parse_period("2026H1"))["person"]
    assert "json_extract(data, '$.sex') = ?" in scan.sql
    # Ages 15-49 on 2026-03-31: born after 1976-03-31, on or before 2011-03-31.
    at = scan.params.index("1976-03-31")
    assert scan.params[at + 1] == "2011-03-31"
