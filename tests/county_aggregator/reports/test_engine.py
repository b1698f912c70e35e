# SPDX-License-Identifier: Apache-2.0
"""The rule language and its engine: a new table is data; pushdown never changes a figure."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from typing import Any

import pytest

from county_aggregator.reports import DEFINITIONS, build_report
from county_aggregator.reports import engine as engine_module
from county_aggregator.reports.assemble import compile_formula, percent
from county_aggregator.reports.periods import Period
from county_aggregator.reports.plan import Layout, age_deriver, age_range, query
from county_aggregator.reports.rules import (
    AgeAt,
    Column,
    Count,
    Formula,
    Percent,
    TableDef,
    Where,
    between,
    eq,
)
from tests.county_aggregator.reports.fixtures import COUNTY, A, B, C, P, hlc

PERIODS = ("2026-02", "2026-03", "2026H1", "2026Y", "2025Y")


def _no_pushdown(layout: Layout, filters: Any, uses: Any, period: Any) -> tuple[str, list[Any]]:
    """The query without the alternatives the columns need: only the kind, the table's
    filters and the live state, which the engine leaves to SQL (as it leaves the tests
    of a kind's only use)."""
    if len(uses) == 1:  # a single use is a conjunction, not an alternative
        return query(layout, filters, uses, period)
    return query(layout, filters, [([], live) for _, live in uses], period)


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_pushdown_is_only_an_optimisation(
    merged: sqlite3.Connection, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every report gives the same figures and records when SQL filters nothing."""
    defn = DEFINITIONS[name]
    periods = [p for p in PERIODS if ("-" in p) == (defn.periods == ("month",))]
    periods = [p for p in periods if not (p.endswith("H1") and "half1" not in defn.periods)]
    pushed = {p: build_report(merged, name, period=p) for p in periods}
    monkeypatch.setattr(engine_module, "query", _no_pushdown)
    for p in periods:
        plain = build_report(merged, name, period=p)
        assert plain.as_rows() == pushed[p].as_rows()
        for key, cell in plain.cells.items():
            assert list(cell.records) == list(pushed[p].cells[key].records)


def test_a_new_table_is_data(merged: sqlite3.Connection) -> None:
    """Women 15-49 on cards per village, and the share of them married: no new code."""
    defn = TableDef(
        name="women",
        title="育龄妇女",
        periods=("half1", "year"),
        derived={"age": AgeAt("end")},
        filters={"person": (eq("sex", "F"), between("$age", 15, 49))},
        columns=(
            Column("women", "育龄妇女", Count("person")),
            Column("married", "已婚", Count("person", where=(eq("marital_status", "married"),))),
            Column("unmarried", "未婚等", Formula("women - married")),
            Column("share", "已婚比例（%）", Percent("married", "women")),
        ),
        levels=("county", "village"),
    )
    report = build_report(merged, defn, period="2026H1")
    assert [r.key for r in report.rows] == [COUNTY, A, B, C]  # no township rows
    # A: a1 a2 a3 a6; B: b1 b2 b6 (b3 is 50; b6's card says divorced); C: c1 c2 c6 (c2 is
    # remarried; c4's card was closed when her hukou moved away and c5 is withdrawn: a
    # Count takes live records unless told otherwise).
    assert [report.value(v, "women") for v in (A, B, C)] == [4, 3, 3]
    assert [report.value(v, "married") for v in (A, B, C)] == [4, 2, 2]
    assert report.value(C, "unmarried") == 1 and report.value(C, "share") == "66.7"


def test_same_day_follow_up_beats_procedure(merged: sqlite3.Connection) -> None:
    """Ties on the date go to the source listed first: the follow-up visit."""
    data = {"person_ref": P("b6"), "visit_date": "2026-03-01", "method_in_use": "condom"}
    merged.execute(
        "INSERT INTO merged_records VALUES ('follow_up', 'fu9', ?, '[]', ?, NULL, ?, ?)",
        (json.dumps(data), B, hlc("2026-03-02"), hlc("2026-03-02")),
    )
    report = build_report(merged, "table3", period="2026H1")
    assert report.value(B, "none") == 0 and report.value(B, "condom") == 1


def test_a_retired_event_does_not_count(merged: sqlite3.Connection) -> None:
    merged.execute("UPDATE merged_records SET retired = 'duplicate' WHERE key = 'birth1'")
    report = build_report(merged, "table2", period="2026H1")
    assert report.value(A, "births") == 0 and report.value(A, "pop_end") == 4


@pytest.mark.parametrize(
    ("n", "d", "places", "shown"),
    [(2, 3, 1, "66.7"), (1, 8, 1, "12.5"), (1, 16, 1, "6.3"), (1, 3, 2, "33.33"),
     (7, 10, 0, "70"), (0, 5, 1, "0.0"), (5, 5, 1, "100.0"), (3, 0, 1, "—"), (-1, 3, 1, "-33.3")],
)  # fmt: skip
def test_percent_in_integers(n: int, d: int, places: int, shown: str) -> None:
    assert percent(n, d, places) == shown


@pytest.mark.parametrize(
    "expr",
    ["a / b", "a ** 2", "__import__('os')", "a.real", "later + a", "1.5 * a", "a if b else c",
     "f(a)", "True + a"],
)  # fmt: skip
def test_formulas_allow_only_integer_arithmetic_over_earlier_columns(expr: str) -> None:
    with pytest.raises(ValueError):
        compile_formula(expr, {"a", "b", "c"})


def test_formula() -> None:
    evaluate = compile_formula("a + b * (c - 1) - -a", {"a", "b", "c"})
    assert evaluate({"a": 2, "b": 3, "c": 4}) == (13, ["a", "b", "c"])


@pytest.mark.parametrize(
    "name", ["birth_date; DROP TABLE x", "a'b", "@nope", "Sex", "$", "data.sex", ""]
)
def test_field_names_are_plain_identifiers(name: str) -> None:
    """Names are spliced into SQL json paths, so nothing else may pass."""
    with pytest.raises(ValueError):
        Where(name, "eq", 1)


def test_unknown_operator_and_bad_column_key() -> None:
    with pytest.raises(ValueError):
        Where("sex", "like", "F")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Column("出生", "出生", Count("birth"))


@pytest.mark.parametrize(
    "day", ["2026-03-31", "2024-02-29", "2025-02-28", "2028-03-01", "2025-12-31", "2025-01-01"]
)
def test_age_range_is_exactly_the_age(day: str) -> None:
    """The birth-date range SQL uses gives the same answer as counting years, for every
    birth date of three years around each edge, 29 February included."""
    at = date.fromisoformat(day)
    period = Period(day, "month", at, at)
    layout = Layout("person", fields=["birth_date"])
    age = age_deriver(AgeAt("end"), layout, period)
    after, upto = age_range(AgeAt("end"), (15, 49), period)
    for edge in (15, 50):
        start = date(at.year - edge - 1, 1, 1)
        for offset in range(3 * 366):
            born = (start + timedelta(days=offset)).isoformat()
            row = ("k", "v", born)
            assert (15 <= age(row) <= 49) == (after < born <= upto), born
