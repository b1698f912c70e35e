# SPDX-License-Identifier: Apache-2.0
"""Each figure must trace back to the records it counts (domain.md section 4)."""

from __future__ import annotations

import sqlite3

import pytest

from county_aggregator.reports import DEFINITIONS, build_report, drill_down
from county_aggregator.reports.rules import Count, TableDef
from node.errors import NotFoundError
from tests.county_aggregator.reports.fixtures import COUNTY, T1, A, B, C, P


def refs(records: object) -> list[tuple[str, str]]:
    return [(r.kind, r.key) for r in records]  # type: ignore[attr-defined]


def test_births_second_child_boys(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table2", period="2026H1")
    records = drill_down(report, COUNTY, "b2_m")
    assert refs(records) == [("birth", "birth1")]
    (birth,) = records
    assert birth.data["mother_ref"] == P("a1") and birth.village == A
    assert birth.origins == [A] and birth.retired is None


def test_population_at_start_of_a_village(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table2", period="2026H1")
    expected = sorted(P(s) for s in ("c1", "c2", "c3", "c4", "c7"))
    assert refs(drill_down(report, C, "pop_start")) == [("person", k) for k in expected]


def test_township_cells_are_their_villages_records(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table3", period="2026H1")
    township = list(report.cells[(T1, "married_women")].records)
    villages = [
        *report.cells[(A, "married_women")].records,
        *report.cells[(B, "married_women")].records,
    ]
    assert township == villages and len(township) == report.value(T1, "married_women") == 6


def test_method_columns(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table3-resident", period="2026H1")
    assert list(report.cells[(COUNTY, "condom")].records) == [("person", P("c6"))]
    assert list(report.cells[(B, "none")].records) == [("person", P("b6"))]
    assert sorted(report.cells[(COUNTY, "unrecorded")].records) == sorted(
        [("person", P("a3")), ("person", P("a6"))]
    )


def test_formula_cells_trace_to_their_operands(merged: sqlite3.Connection) -> None:
    """pop_end of A = start + births - deaths + in - out: the records of all five."""
    report = build_report(merged, "table2", period="2026H1")
    traced = set(report.cells[(A, "pop_end")].records)
    operands = ("pop_start", "births", "deaths", "moved_in", "moved_out")
    assert traced == {r for k in operands for r in report.cells[(A, k)].records}
    assert ("death", "death1") in traced and ("birth", "birth1") in traced


def test_services_to_floating_women(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table5", period="2026Y")
    assert refs(drill_down(report, COUNTY, "follow_ups")) == [
        ("follow_up", "fu2"),
        ("follow_up", "fu8"),
    ]
    assert refs(drill_down(report, C, "supplies")) == [("supply_handout", "sh1")]


def test_list_rows_trace_to_the_change_and_the_person(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "benefit-changes", period="2026H1")
    assert [r.key for r in report.rows] == ["bn3", "bn4"]
    assert refs(drill_down(report, "bn3", "name")) == [("benefit", "bn3"), ("person", P("b5"))]


@pytest.mark.parametrize("name", [n for n, d in DEFINITIONS.items() if isinstance(d, TableDef)])
def test_every_count_is_the_number_of_its_distinct_records(
    merged: sqlite3.Connection, name: str
) -> None:
    defn = DEFINITIONS[name]
    assert isinstance(defn, TableDef)
    period = "2026-03" if "month" in defn.periods else "2026H1"
    period = "2026Y" if defn.periods == ("year",) else period
    report = build_report(merged, name, period=period)
    for column in defn.columns:
        if not isinstance(column.rule, Count):
            continue  # a Sum's figure is an amount, not a number of records
        for row in report.rows:
            records = list(report.cells[(row.key, column.key)].records)
            assert len(records) == len(set(records)) == report.value(row.key, column.key)
            kinds = {k for k, _ in records}
            assert kinds <= set(column.rule.kinds)


def test_unknown_cell(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "table2", period="2026H1")
    with pytest.raises(NotFoundError) as caught:
        drill_down(report, "440104009", "births")
    assert "440104009" in caught.value.zh and "440104009" in caught.value.en


def test_drill_down_with_another_connection(merged: sqlite3.Connection) -> None:
    report = build_report(merged, "monthly", period="2026-03")
    report.source = None
    with pytest.raises(ValueError):
        drill_down(report, B, "births")
    assert refs(drill_down(report, B, "births", db=merged)) == [("birth", "birth3")]
