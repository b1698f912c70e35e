# SPDX-License-Identifier: Apache-2.0
"""Compiling a definition into a scan plan: one SQL query per record kind, and closures.

A county has up to a million person cards, and SQLite's JSON parsing is most of the cost
of reading them, so the plan extracts only the fields a table mentions
(``json_extract``) and pushes every test it can into the query's WHERE clause: the
table's filters always, and the OR of what each column and derived fact needs (a date in
the period, say). What SQL cannot decide (derived facts, formulas) is compiled into plain
closures over the row tuples, evaluated once per record. Tests pushed as alternatives (the
OR of what the columns need) are evaluated again in Python, so pushing them down is only
an optimisation; a table's filters, ANDed into the query, are left to SQL where SQL
decides them exactly, as are the tests of a kind's only use and the live/withdrawn state
when every use agrees on it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from county_aggregator.reports.periods import Period
from county_aggregator.reports.rules import (
    HLC_FIELDS,
    AgeAt,
    AllOf,
    AnyOf,
    Bound,
    Cond,
    Count,
    Where,
    check_name,
)

Row = tuple[Any, ...]
Pred = Callable[[Row], bool]
STORED_META = ("@first_hlc", "@last_hlc", "@retired")
_META_SQL = {
    "@key": "key",
    "@village": "village",
    "@first_hlc": "first_hlc",
    "@last_hlc": "last_hlc",
    "@retired": "retired",
    "@township": "substr(village, 1, 9)",
    "@county": "substr(village, 1, 6)",
}


@dataclass
class Layout:
    """Where each named value sits in the row tuples of one kind.

    Derived facts are not stored in the rows: ``facts`` maps ``$name`` to the table of
    values by person key (filled while the events are scanned) and its default, and
    ``computed`` to a function of the row (an age). They are looked up only when a test
    needs them, so a person who fails a cheap test first costs no lookup at all.
    """

    kind: str
    meta: list[str] = field(default_factory=lambda: ["@key", "@village"])
    fields: list[str] = field(default_factory=list)
    facts: dict[str, tuple[dict[str, Any], Any]] = field(default_factory=dict)
    computed: dict[str, Callable[[Row], Any]] = field(default_factory=dict)
    ages: dict[str, AgeAt] = field(default_factory=dict)
    sealed: bool = False

    def add(self, name: str) -> None:
        """Read ``name`` too (a data field, or a column of merged_records)."""
        check_name(name)
        if name in STORED_META:
            target = self.meta
        elif name[0] not in "@$":
            target = self.fields
        else:
            return
        if name not in target:
            if self.sealed:
                raise RuntimeError("layout changed after a test was compiled against it")
            target.append(name)

    @property
    def index(self) -> dict[str, int]:
        """Positions in a row: key and village first, always; fetching only what is
        used saves a quarter of the time of reading a million cards."""
        self.sealed = True
        return {n: i for i, n in enumerate((*self.meta, *self.fields))}

    def getter(self, name: str) -> Callable[[Row], Any]:
        """A fast accessor: ``itemgetter`` for stored values, a slice for areas."""
        if name in self.facts:
            table, default = self.facts[name]
            get = table.get
            return lambda r: get(r[0], default)
        if name in self.computed:
            return self.computed[name]
        if name == "@township":
            return lambda r: r[1][:9]
        if name == "@county":
            return lambda r: r[1][:6]
        try:
            return operator.itemgetter(self.index[name])
        except KeyError:
            raise ValueError(f"{name!r} is not available on {self.kind} records") from None


def resolve(name: str, value: Any, period: Period) -> Any:
    """Replace START/END by the period's days (or HLC bounds for the clock columns)."""
    if isinstance(value, Bound):
        if name in HLC_FIELDS:
            if value.months:
                raise ValueError("clock columns take the period's bounds, not shifted ones")
            return period.start_hlc if value.which == "start" else period.end_hlc - 1
        day = period.first if value.which == "start" else period.last
        return shift_months(day, value.months).isoformat()
    if isinstance(value, tuple):
        return tuple(resolve(name, v, period) for v in value)
    return value


def span_tests(name: str, span: str, period: Period) -> list[Where]:
    """The tests saying that ``name`` (a date or an HLC) falls in ``span``."""
    lo, hi = resolve(name, (Bound("start"), Bound("end")), period)
    if span == "period":
        return [Where(name, "between", (lo, hi))]
    if span == "before_start":
        return [Where(name, "lt", lo)]
    if span == "to_end":
        return [Where(name, "le", hi)]
    raise ValueError(f"unknown span {span!r}")


def upto_tests(name: str, upto: str, period: Period) -> list[Where]:
    if upto == "any":
        return []
    if upto == "after_end":
        return [Where(name, "gt", resolve(name, Bound("end"), period))]
    return span_tests(name, "before_start" if upto == "before_start" else "to_end", period)


def compile_conds(conds: list[Cond], layout: Layout, period: Period) -> Pred | None:
    """One closure for a conjunction (None when there is nothing to test)."""
    preds = [_compile(c, layout, period) for c in conds]
    if not preds:
        return None
    if len(preds) == 1:
        return preds[0]

    def all_of(r: Row) -> bool:
        for p in preds:
            if not p(r):
                return False
        return True

    return all_of


def split_conds(
    conds: list[Cond], layout: Layout, period: Period
) -> tuple[Pred | None, Pred | None, bool]:
    """Compile a conjunction for persons with derived facts and for persons without.

    Nine persons in ten have no event that feeds a derived fact (no death, no move, no
    follow-up), so their facts are the defaults and every test of facts alone has the
    same answer for all of them: it is decided once, here, instead of once per person.

    Returns:
        ``(full, bare, bare_possible)``: the test for a person with facts (plain tests
        first, facts last), the test for one without, and whether one without can pass.
    """
    facts = [c for c in conds if _fact_only(c, layout)]
    plain = [c for c in conds if not _fact_only(c, layout)]
    fixed = compile_conds(facts, layout, period)
    possible = fixed is None or fixed(("\x00 a key no table holds",))
    return (
        compile_conds(plain + facts, layout, period),
        compile_conds(plain, layout, period),
        possible,
    )


def _fact_only(cond: Cond, layout: Layout) -> bool:
    names = list(fields_of([cond]))
    return bool(names) and all(n in layout.facts for n in names)


def shift_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months; a day the target month lacks becomes its
    last day (31 March - 1 month = 28 or 29 February)."""
    if not months:
        return day
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, d)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def fields_of(conds: tuple[Cond, ...] | list[Cond]) -> Iterator[str]:
    """Every field a list of tests mentions, inside AnyOf and AllOf too."""
    for c in conds:
        if isinstance(c, AnyOf | AllOf):
            yield from fields_of(c.tests)
        else:
            yield c.field


def sql_live(uses: list[tuple[list[Cond], bool | None]]) -> bool | None:
    """The live state SQL enforces for a kind: one every use agrees on, else None."""
    lives = {live for _, live in uses}
    return lives.pop() if len(lives) == 1 else None


def _compile(cond: Cond, layout: Layout, period: Period) -> Pred:
    if isinstance(cond, AllOf):
        conj = compile_conds(list(cond.tests), layout, period)
        return conj if conj is not None else (lambda r: True)
    if isinstance(cond, AnyOf):
        parts = [_compile(c, layout, period) for c in cond.tests]

        def any_of(r: Row) -> bool:
            for p in parts:
                if p(r):
                    return True
            return False

        return any_of
    v = resolve(cond.field, cond.value, period)
    op = cond.op
    if cond.field in layout.facts and op in ("eq", "ne", "in", "absent", "present"):
        return _fact_test(layout.facts[cond.field], op, v)
    if cond.field in layout.ages and op == "between":
        rule = layout.ages[cond.field]
        after, upto = age_range(rule, v, period)
        born = layout.getter(rule.field)
        return lambda r: (b := born(r)) is not None and after < b <= upto
    get = layout.getter(cond.field)
    if op == "eq":
        return lambda r: get(r) == v
    if op == "ne":
        return lambda r: get(r) != v
    if op in ("in", "not_in"):
        values = frozenset(v)
        if op == "in":
            return lambda r: get(r) in values
        return lambda r: get(r) not in values
    if op == "present":
        return lambda r: get(r) is not None
    if op == "absent":
        return lambda r: get(r) is None
    if op == "between":
        lo, hi = v
        return lambda r: (x := get(r)) is not None and lo <= x <= hi
    if op in ("in_county", "out_of_county"):
        inside = op == "in_county"
        # Row position 1 is always the record's village (Layout.meta).
        return lambda r: type(x := get(r)) is str and (x[:6] == r[1][:6]) is inside
    compare = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}[op]
    return lambda r: (x := get(r)) is not None and compare(x, v)


def _fact_test(fact: tuple[dict[str, Any], Any], op: str, v: Any) -> Pred:
    """A test of a derived fact in one closure (a person's key -> the fact's value)."""
    table, default = fact
    get = table.get
    if op == "eq":
        return lambda r: get(r[0], default) == v
    if op == "ne":
        return lambda r: get(r[0], default) != v
    if op == "in":
        values = frozenset(v)
        return lambda r: get(r[0], default) in values
    if op == "absent":
        return lambda r: get(r[0], default) is None
    return lambda r: get(r[0], default) is not None


def to_sql(cond: Cond, period: Period, layout: Layout) -> tuple[str, list[Any]] | None:
    """The SQL form of a test, or None if SQL cannot decide it (derived facts)."""
    if isinstance(cond, AllOf):
        parts = [to_sql(c, period, layout) for c in cond.tests]
        if not parts or any(p is None for p in parts):
            return None
        return (
            "(" + " AND ".join(p[0] for p in parts if p) + ")",
            [x for p in parts if p for x in p[1]],
        )
    if isinstance(cond, AnyOf):
        parts = [to_sql(c, period, layout) for c in cond.tests]
        if not parts or any(p is None for p in parts):
            return None
        return (
            "(" + " OR ".join(p[0] for p in parts if p) + ")",
            [x for p in parts if p for x in p[1]],
        )
    name = cond.field
    if name in layout.ages and cond.op == "between":
        return _age_sql(layout.ages[name], cond.value, period)
    if name.startswith("$"):
        return None
    expr = _META_SQL.get(name) or f"json_extract(data, '$.{name}')"
    if cond.op in ("in_county", "out_of_county"):
        same = "=" if cond.op == "in_county" else "!="
        return (
            f"(typeof({expr}) = 'text' AND substr({expr}, 1, 6) {same} substr(village, 1, 6))",
            [],
        )
    v = resolve(name, cond.value, period)
    values = list(v) if isinstance(v, tuple) else [v]
    if cond.op not in ("present", "absent") and not all(isinstance(x, str | int) for x in values):
        return None
    marks = ", ".join("?" * len(values))
    sql = {
        "eq": f"{expr} = ?",
        "ne": f"{expr} IS NOT ?",
        "in": f"{expr} IN ({marks})",
        "not_in": f"({expr} IS NULL OR {expr} NOT IN ({marks}))",
        "present": f"{expr} IS NOT NULL",
        "absent": f"{expr} IS NULL",
        "lt": f"{expr} < ?",
        "le": f"{expr} <= ?",
        "gt": f"{expr} > ?",
        "ge": f"{expr} >= ?",
        "between": f"{expr} BETWEEN ? AND ?",
    }[cond.op]
    return sql, ([] if cond.op in ("present", "absent") else values)


def exact_in_sql(cond: Cond, period: Period, layout: Layout) -> bool:
    """Whether SQL decides ``cond`` exactly as Python would: all but derived facts,
    except an age range, which is a birth-date range (see :func:`age_range`)."""
    names = list(fields_of([cond]))
    return to_sql(cond, period, layout) is not None and all(
        not n.startswith("$") or n in layout.ages for n in names
    )


def age_range(rule: AgeAt, bounds: tuple[int, int], period: Period) -> tuple[str, str]:
    """Ages ``lo..hi`` on a day as births ``after < birth_date <= upto`` (ISO strings).

    Exact, 29 February included: age >= lo iff born on or before the day lo years
    earlier (28 February when that year has no 29th), and age <= hi iff born after the
    day hi + 1 years earlier. String comparison of ISO dates is date comparison, so
    SQL can decide it and a million cards need no date arithmetic in Python.
    """
    at = period.first if rule.at == "start" else period.last
    lo, hi = bounds
    return _years_before(at, hi + 1).isoformat(), _years_before(at, lo).isoformat()


def _age_sql(rule: AgeAt, bounds: tuple[int, int], period: Period) -> tuple[str, list[Any]]:
    after, upto = age_range(rule, bounds, period)
    expr = f"json_extract(data, '$.{rule.field}')"
    return f"({expr} > ? AND {expr} <= ?)", [after, upto]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def conjunction_sql(
    conds: list[Cond], period: Period, layout: Layout
) -> tuple[str, list[Any]] | None:
    """The pushable part of a conjunction (None when nothing is pushable)."""
    parts = [p for c in conds if (p := to_sql(c, period, layout)) is not None]
    if not parts:
        return None
    return " AND ".join(p[0] for p in parts), [x for p in parts for x in p[1]]


EXCHANGE_KINDS = {"floating_notification": "exchange_records"}
"""Kinds that are not merged records: the county's exchange with other counties
(county_aggregator/store_exchange.py attaches the view a report reads them from)."""


def source_of(kind: str) -> str:
    """The table or view the records of ``kind`` are read from."""
    return EXCHANGE_KINDS.get(kind, "merged_records")


def query(
    layout: Layout, filters: list[Cond], uses: list[tuple[list[Cond], bool | None]], period: Period
) -> tuple[str, list[Any]]:
    """The scan of one kind: its filters AND (the OR of what each use needs).

    Args:
        layout: the fields to extract.
        filters: the table's filters for this kind (every use is subject to them).
        uses: per column or derived fact, its tests and whether it wants live records.
    """
    cols = "".join(f", json_extract(data, '$.{f}')" for f in layout.fields)
    where, params = ["kind = ?"], [layout.kind]
    live = sql_live(uses)
    if live is True:
        where.append("retired IS NULL")
    elif live is False:
        where.append("retired IS NOT NULL")
    if (pushed := conjunction_sql(filters, period, layout)) is not None:
        where.append(pushed[0])
        params += pushed[1]
    alternatives = [conjunction_sql(conds, period, layout) for conds, _ in uses]
    if uses and all(a is not None for a in alternatives):
        where.append("(" + " OR ".join(f"({a[0]})" for a in alternatives if a) + ")")
        params += [x for a in alternatives if a for x in a[1]]
    meta = ", ".join(_META_SQL[m] for m in layout.meta)
    sql = f"SELECT {meta}{cols} FROM {source_of(layout.kind)} WHERE {' AND '.join(where)}"
    return sql, params


def count_tests(count: Count, period: Period) -> list[Cond]:
    """A count's own tests: its where clause and its date span (not its subject tests)."""
    tests: list[Cond] = list(count.where)
    if count.date is not None:
        tests += span_tests(count.date, count.span, period)
    return tests


def live_test(live: bool | None) -> list[Cond]:
    if live is None:
        return []
    return [Where("@retired", "absent" if live else "present")]


def age_deriver(rule: AgeAt, layout: Layout, period: Period) -> Callable[[Row], Any]:
    """Completed years on the period's first or last day, from a 'YYYY-MM-DD' field."""
    at: date = period.first if rule.at == "start" else period.last
    get = layout.getter(rule.field)
    y, md = at.year, (at.month, at.day)

    def age(r: Row) -> int | None:
        born = get(r)
        if not isinstance(born, str) or len(born) != 10:
            return None
        return y - int(born[:4]) - (md < (int(born[5:7]), int(born[8:10])))

    return age
