# SPDX-License-Identifier: Apache-2.0
"""Every report against figures counted by hand from fixtures.py (comments say whom).

Rows are given per village; townships and the county are checked to be their sums.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from county_aggregator.reports import DEFINITIONS, Report, build_report
from county_aggregator.reports.rules import TableDef
from tests.county_aggregator.reports.fixtures import COUNTY, T1, T2, A, B, C


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
    report = build_report(merged, "table2", period="2026H1")
    # A: a1 a2 a3 a4 a6 present on 2025-09-30 (a5 born 2026, a6 left only in December).
    # Births: A birth1 (2nd, boy); deaths a4; first marriage a3; a6 moved out.
    assert nonzero(report, A) == {
        "pop_start": 5, "births": 1, "births_m": 1, "b2_m": 1, "deaths": 1,
        "first_marriages": 1, "moved_out": 1, "pop_end": 4,
    }  # fmt: skip
    # B: b2-b6 (b1 arrives 2025-11-15); birth3 (3rd, girl); b5 died; b1 moved in.
    assert nonzero(report, B) == {
        "pop_start": 5, "births": 1, "births_f": 1, "b3_f": 1, "deaths": 1, "moved_in": 1,
        "pop_end": 6,
    }  # fmt: skip
    # C: c1 c2 c3 c6 c7 (c4 away since 2025-08, c5 withdrawn); birth2 (1st, girl);
    # c4 came back 2026-02-01; mar2 is a remarriage, not a first marriage.
    assert nonzero(report, C) == {
        "pop_start": 5, "births": 1, "births_f": 1, "b1_f": 1, "moved_in": 1, "pop_end": 7,
    }  # fmt: skip
    assert report.value(COUNTY, "pop_end") == 17
    check_sums(report)


def test_table2_statistical_year_sees_the_later_births(merged: sqlite3.Connection) -> None:
    """The year adds nothing here (no event after March), but its start is the same."""
    year = build_report(merged, "table2", period="2026Y")
    half = build_report(merged, "table2", period="2026H1")
    assert year.as_rows() == half.as_rows()


def test_table3(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table3", period="2026H1")
    # A: a1 IUD (fu1), a2 female sterilisation (pr1 in 2024), a3 married 2026-01-20 with
    # no record; a6 moved out, so not counted.
    assert nonzero(report, A) == {
        "married_women": 3, "iud": 1, "female_sterilisation": 1, "users": 2,
        "unrecorded": 1, "prevalence": "66.7",
    }  # fmt: skip
    # B: b1 condom (fu2), b2 pill (fu3, before the period still counts: latest up to
    # the end), b6 IUD removed 2026-03-01 -> none; b3 is 50 on 2026-03-31.
    assert nonzero(report, B) == {
        "married_women": 3, "pill_injection": 1, "condom": 1, "users": 2, "none": 1,
        "prevalence": "66.7",
    }  # fmt: skip
    # C: c1 male sterilisation, c2 implant (fu7 'other' is after the period), c4 back
    # since February with no record, c6 condom; c5 withdrawn.
    assert nonzero(report, C) == {
        "married_women": 4, "male_sterilisation": 1, "implant": 1, "condom": 1, "users": 3,
        "unrecorded": 1, "prevalence": "75.0",
    }  # fmt: skip
    assert report.value(COUNTY, "prevalence") == "70.0"
    assert report.value(T1, "prevalence") == "66.7"
    check_sums(report)


def test_table3_after_the_april_visit(merged: sqlite3.Connection) -> None:
    """In the statistical year fu7 (2026-04-15, 'other') is c2's latest method."""
    report = build_report(merged, "table3", period="2026Y")
    assert report.value(C, "implant") == 0 and report.value(C, "other") == 1


def test_table5(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table5", period="2026H1")
    assert nonzero(report, A) == {"flowed_out": 1, "flowed_out_new": 1, "records_kept": 1}
    # b1 flowed in 2025-11-15: health check hc1 and follow-up fu2.
    assert nonzero(report, B) == {
        "flowed_in": 1, "flowed_in_new": 1, "records_kept": 1, "health_checks": 1,
        "follow_ups": 1, "services": 2,
    }  # fmt: skip
    # c6 flowed in 2024: fu8 and sh1 (the anonymous hand-out sh2 names nobody).
    assert nonzero(report, C) == {
        "flowed_in": 1, "records_kept": 1, "follow_ups": 1, "supplies": 1, "services": 2,
    }  # fmt: skip
    # No notification records exist yet (floating-population exchange issue).
    assert report.value(COUNTY, "notices_sent") == 0 == report.value(COUNTY, "notices_on_time")
    check_sums(report)


def test_monthly(merged: sqlite3.Connection) -> None:
    march = build_report(merged, "monthly", period="2026-03")
    assert nonzero(march, A) == {}
    assert nonzero(march, B) == {"births": 1, "deaths": 1, "procedures": 1, "benefit_changes": 1}
    assert nonzero(march, C) == {}
    check_sums(march)
    february = build_report(merged, "monthly", period="2026-02")
    assert nonzero(february, A) == {"deaths": 1}
    assert nonzero(february, B) == {"health_checks": 1, "follow_ups": 1}
    assert nonzero(february, C) == {"moved_in": 1}


def test_monthly_changes(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "monthly-changes", period="2026-03")
    assert nonzero(report, A) == {"new_cards": 1, "total": 1}  # a5's card
    # b6's card changed; birth3, pr3 and bn3 entered in March (bn3 changed again: new).
    assert nonzero(report, B) == {"changed_cards": 1, "new_records": 3, "total": 4}
    assert nonzero(report, C) == {"retired": 1, "total": 1}  # c5 withdrawn
    assert nonzero(build_report(merged, "monthly-changes", period="2026-02"), COUNTY) == {}


def test_benefit_fund(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "benefit-fund", period="2026H1")
    assert nonzero(report, A) == {}
    # b4 and b5 receive reward support since 2020/2021; b5 died 2026-03-01.
    assert nonzero(report, B) == {"reward_start": 2, "reward_died": 1, "reward_end": 1}
    assert nonzero(report, C) == {"special_new": 1, "special_end": 1}  # c7 from January
    later = build_report(merged, "benefit-fund", period="2026H2")
    assert nonzero(later, B) == {"reward_start": 1, "reward_end": 1}
    assert nonzero(later, C) == {"special_start": 1, "special_end": 1}


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
        period = "2026-03" if "month" in defn.periods else "2026H1"
        assert build_report(merged, name, period=period).rows == ()


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_column_key_is_a_canonical_json_key(name: str) -> None:
    defn = DEFINITIONS[name]
    keys = [c.key for c in defn.columns] if isinstance(defn, TableDef) else []
    assert len(keys) == len(set(keys))
    assert all(k.isascii() and k == k.lower() for k in keys)


def test_table3_reads_only_married_women(merged: sqlite3.Connection) -> None:
    """Table 3's person filters are pushed into SQL (the 250k-women budget needs it)."""
    from county_aggregator.reports.engine import _plan
    from county_aggregator.reports.periods import parse_period

    scan = _plan(DEFINITIONS["table3"], parse_period("2026H1"))["person"]
    assert "json_extract(data, '$.sex') = ?" in scan.sql and "marital_status" in scan.sql
    # Ages 15-49 on 2026-03-31: born after 1976-03-31, on or before 2011-03-31.
    at = scan.params.index("1976-03-31")
    assert scan.params[at + 1] == "2011-03-31"
