# SPDX-License-Identifier: Apache-2.0
"""The one engine that counts every table: each kind of record is read once per table.

Order of the pass: event kinds first (feeding the derived facts of persons and counting
the event columns), then person cards (their derived facts are complete by then), then
the event columns that test the person an event names (``Count.via``), held back until
the persons were read. Every counted record is filed under its village with its
``(kind, key)``, which is what drill-down returns.

A county has a million cards, so the per-record work is kept small: columns that differ
only in the value of one field (Table 3's methods) are found by one dict lookup, tests of
derived facts are decided once for all persons without any (see ``split_conds``), and
the live/withdrawn test is left to SQL when SQL enforces it for every use of the kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from county_aggregator.reports.model import RecordRef
from county_aggregator.reports.periods import Period
from county_aggregator.reports.plan import (
    Layout,
    Pred,
    Row,
    age_deriver,
    compile_conds,
    count_tests,
    exact_in_sql,
    fields_of,
    live_test,
    query,
    split_conds,
    sql_live,
    upto_tests,
)
from county_aggregator.reports.rules import (
    SUBJECT_KIND,
    AgeAt,
    Cond,
    Count,
    Definition,
    Latest,
    ListingDef,
    Sum,
    TableDef,
    Where,
)

Hits = list[defaultdict[str, list[RecordRef]]]
Kept = list[tuple[str, Row, Row | None]]


@dataclass
class _CountPlan:
    col: int
    kind: str
    test: Pred | None
    via: int | None = None
    subject: Pred | None = None
    keep: bool = False


@dataclass
class _SourcePlan:
    """Feeds one derived fact: best rank and value so far per person key."""

    ranks: dict[str, tuple[Any, ...]]
    values: dict[str, Any]
    order: int
    latest: bool
    test: Pred | None
    ref: int
    date: int
    value: int | None
    mapping: dict[str, str] | None


@dataclass
class _Counts:
    """The columns of one kind, compiled for one case (with or without derived facts)."""

    filt: Pred | None = None
    possible: bool = True
    tested: list[_CountPlan] = field(default_factory=list)
    by_value: list[tuple[Any, dict[Any, list[_CountPlan]]]] = field(default_factory=list)


@dataclass
class _KindScan:
    layout: Layout
    full: _Counts = field(default_factory=_Counts)
    bare: _Counts = field(default_factory=_Counts)
    sources: list[_SourcePlan] = field(default_factory=list)
    sql: str = ""
    params: list[Any] = field(default_factory=list)


@dataclass
class Scanned:
    """What one pass found: per column, per village, the records counted."""

    hits: Hits
    kept: Kept
    layouts: dict[str, Layout]


def counts_of(defn: Definition) -> list[tuple[int, Count]]:
    if isinstance(defn, ListingDef):
        return [(0, defn.select)]
    out: list[tuple[int, Count]] = []
    for i, c in enumerate(defn.columns):
        if isinstance(c.rule, Count):
            out.append((i, c.rule))
        elif isinstance(c.rule, Sum):
            out.append((i, c.rule.count))
    return out


def _layouts(defn: Definition) -> dict[str, Layout]:
    """Every kind the definition reads, with every field it mentions."""
    layouts: dict[str, Layout] = {}

    def need(kind: str, *names: str | None) -> None:
        layout = layouts.setdefault(kind, Layout(kind))
        for name in names:
            if name is not None:
                layout.add(name)

    for _, count in counts_of(defn):
        for kind in count.kinds:
            need(kind, *fields_of(count.where), count.date, count.via)
        if count.via is not None:
            need(SUBJECT_KIND, *fields_of(count.subject))
    for rule in defn.derived.values():
        if isinstance(rule, AgeAt):
            need(SUBJECT_KIND, rule.field)
            continue
        for src in rule.sources:
            need(src.kind, src.ref, src.date, src.value, *fields_of(src.where))
    for kind, conds in defn.filters.items():
        need(kind, *fields_of(conds))
    if isinstance(defn, ListingDef):
        for f in defn.fields:
            if f.source.startswith("subject."):
                need(SUBJECT_KIND, f.source.removeprefix("subject."))
            else:
                for kind in defn.select.kinds:
                    need(kind, f.source)
        for kind in defn.select.kinds:
            need(kind, *defn.order)
    return layouts


def _attach_facts(defn: Definition, layouts: dict[str, Layout], period: Period) -> None:
    """Give persons their derived facts (empty tables, filled by the scan)."""
    if SUBJECT_KIND not in layouts:
        return
    person = layouts[SUBJECT_KIND]
    for name, rule in defn.derived.items():
        if isinstance(rule, AgeAt):
            person.computed[f"${name}"] = age_deriver(rule, person, period)
            person.ages[f"${name}"] = rule
        else:
            person.facts[f"${name}"] = ({}, rule.default)


def _plan(defn: Definition, period: Period) -> dict[str, _KindScan]:
    """Compile one scan per kind: its SQL, its filter, its columns and fact sources."""
    layouts = _layouts(defn)
    scans = {k: _KindScan(layout) for k, layout in layouts.items()}
    uses: dict[str, list[tuple[list[Cond], bool | None]]] = defaultdict(list)
    for _, count in counts_of(defn):
        for kind in count.kinds:
            uses[kind].append((count_tests(count, period), count.live))
    used = _used_facts(defn)
    sources = [
        (name, rule, order, src)
        for name, rule in defn.derived.items()
        if not isinstance(rule, AgeAt) and name in used
        for order, src in enumerate(rule.sources)
    ]
    for _, rule, _, src in sources:
        source_tests: list[Cond] = [*src.where, *upto_tests(src.date, rule.upto, period)]
        uses[src.kind].append((source_tests, True))
    if any(c.via is not None for _, c in counts_of(defn)):
        # Every person an event may name, withdrawn cards too: a benefit stopped at a
        # death stays on the list even if the card was later withdrawn.
        uses[SUBJECT_KIND].append(([], None))
    for kind, scan in scans.items():  # complete every layout before compiling a test
        if sql_live(uses[kind]) is None:
            scan.layout.add("@retired")  # the live test is then made in Python
    _attach_facts(defn, layouts, period)
    for kind, scan in scans.items():
        filters = list(defn.filters.get(kind, ()))
        scan.sql, scan.params = query(scan.layout, filters, uses[kind], period)
        # With a single use, SQL's WHERE is exactly that use's pushable tests.
        single = len(uses[kind]) == 1
        _compile_counts(defn, scan, filters, sql_live(uses[kind]), single, layouts, period)
    # The sources of one fact compare their ranks in one table and write one value table.
    ranks: dict[str, dict[str, tuple[Any, ...]]] = {name: {} for name, _, _, _ in sources}
    for name, rule, order, src in sources:
        layout = layouts[src.kind]
        values = layouts[SUBJECT_KIND].facts[f"${name}"][0] if SUBJECT_KIND in layouts else {}
        tests = list(src.where) + upto_tests(src.date, rule.upto, period)
        if len(uses[src.kind]) == 1:
            tests = [t for t in tests if not exact_in_sql(t, period, layout)]
        live = [] if sql_live(uses[src.kind]) is True else live_test(True)
        scans[src.kind].sources.append(
            _SourcePlan(
                ranks[name],
                values,
                -order if isinstance(rule, Latest) else order,
                isinstance(rule, Latest),
                compile_conds(live + tests, layout, period),
                layout.index[src.ref],
                layout.index[src.date],
                None if src.value is None else layout.index[src.value],
                None if src.mapping is None else dict(src.mapping),
            )
        )
    return scans


def _used_facts(defn: Definition) -> set[str]:
    """Derived facts some test mentions: tables share a set of facts (LIFE_FACTS) and
    feeding the ones nobody reads would cost a pass over their events for nothing."""
    conds: list[Cond] = [c for conds in defn.filters.values() for c in conds]
    for _, count in counts_of(defn):
        conds += [*count.where, *count.subject]
    names = {name[1:] for name in fields_of(conds) if name.startswith("$")}
    if isinstance(defn, TableDef):
        names |= {c.rule.fact[1:] for c in defn.columns if isinstance(c.rule, Sum)}
    return names


def _compile_counts(
    defn: Definition,
    scan: _KindScan,
    filters: list[Cond],
    enforced: bool | None,
    single: bool,
    layouts: dict[str, Layout],
    period: Period,
) -> None:
    layout = scan.layout
    # SQL ANDs the filters into its WHERE, so those it decides exactly need no second
    # look; the rest (tests of derived facts) are made here.
    rest = [c for c in filters if not exact_in_sql(c, period, layout)]
    scan.full.filt, scan.bare.filt, scan.bare.possible = split_conds(rest, layout, period)
    for col, count in counts_of(defn):
        if layout.kind not in count.kinds:
            continue
        live = [] if enforced == count.live or count.live is None else live_test(count.live)
        tests = live + count_tests(count, period)
        if single:
            tests = [t for t in tests if not exact_in_sql(t, period, layout)]
        subject = None
        if count.via is not None:
            subject = compile_conds(list(count.subject), layouts[SUBJECT_KIND], period)
        via = None if count.via is None else layout.index[count.via]
        keep = isinstance(defn, ListingDef)
        full, bare, possible = split_conds(tests, layout, period)
        for case, test, ok in ((scan.full, full, True), (scan.bare, bare, possible)):
            if not ok:
                continue
            plan = _CountPlan(col, layout.kind, test, via, subject, keep)
            if via is None and not keep and _single_eq(tests):
                _dispatch(case, layout, tests[0], plan)  # type: ignore[arg-type]  # _single_eq: Where
            else:
                case.tested.append(plan)


def _single_eq(tests: list[Cond]) -> bool:
    return len(tests) == 1 and isinstance(tests[0], Where) and tests[0].op == "eq"


def _dispatch(case: _Counts, layout: Layout, test: Where, plan: _CountPlan) -> None:
    """File a column whose only test is ``field == value`` under that field's lookup."""
    plan.test = None
    for getter_name, table in case.by_value:
        if getter_name == test.field:
            table.setdefault(test.value, []).append(plan)
            return
    case.by_value.append((test.field, {test.value: [plan]}))


def scan(conn: Any, defn: Definition, period: Period) -> Scanned:
    """Run the plan over ``merged_records``: each kind once, persons last."""
    scans = _plan(defn, period)
    n_cols = len(defn.columns) if isinstance(defn, TableDef) else 1
    hits: Hits = [defaultdict(list) for _ in range(n_cols)]
    kept: Kept = []
    deferred: list[tuple[_CountPlan, Row]] = []
    for kind in sorted(k for k in scans if k != SUBJECT_KIND):
        ks = scans[kind]
        rows = conn.execute(ks.sql + _ORDER, ks.params)
        _scan_rows(rows, ks, hits, kept, deferred, None, set())
    subjects: dict[str, Row] = {}
    if SUBJECT_KIND in scans:
        ks = scans[SUBJECT_KIND]
        keep = subjects if any(c.via is not None for _, c in counts_of(defn)) else None
        with_facts = set().union(*(table for table, _ in ks.layout.facts.values()))
        for rows in _person_rows(conn, ks, defn, deferred):
            _scan_rows(rows, ks, hits, kept, deferred, keep, with_facts)
    for c, row in deferred:
        subject = subjects.get(row[c.via]) if c.via is not None else None
        if subject is not None and (c.subject is None or c.subject(subject)):
            hits[c.col][row[1]].append((c.kind, row[0]))
            if c.keep:
                kept.append((c.kind, row, subject))
    return Scanned(hits, kept, {k: s.layout for k, s in scans.items()})


_ORDER = " ORDER BY key"  # the primary key's order: free, and drill-down is stable


def _person_rows(
    conn: Any, ks: _KindScan, defn: Definition, deferred: list[tuple[_CountPlan, Row]]
) -> Iterator[Any]:
    """The person rows to scan: all of them, or only those the events name when no
    column counts persons (a list of benefit changes needs a few hundred cards, not a
    million)."""
    if any(SUBJECT_KIND in c.kinds for _, c in counts_of(defn)):
        yield conn.execute(ks.sql + _ORDER, ks.params)
        return
    keys = sorted({row[c.via] for c, row in deferred if c.via is not None} - {None})
    for i in range(0, len(keys), 500):  # below SQLite's bound on parameters
        chunk = keys[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        yield conn.execute(f"{ks.sql} AND key IN ({marks}){_ORDER}", [*ks.params, *chunk])


def _scan_rows(
    rows: Any,
    ks: _KindScan,
    hits: Hits,
    kept: Kept,
    deferred: list[tuple[_CountPlan, Row]],
    subjects: dict[str, Row] | None,
    with_facts: set[str],
) -> None:
    """The inner loop: feed facts, test columns, file hits.

    Flat and on local tuples on purpose: it runs once per card of the county.
    """
    kind = ks.layout.kind
    full, bare = _fast(ks.full, ks.layout, hits), _fast(ks.bare, ks.layout, hits)
    sources = [
        (s.test, s.ref, s.date, s.value, s.mapping, s.order, s.latest, s.ranks, s.values)
        for s in ks.sources
    ]
    for row in rows:
        key = row[0]
        possible, filt, tested, by_value = full if key in with_facts else bare
        if not possible or (filt is not None and not filt(row)):
            continue
        if subjects is not None:
            subjects[key] = row
        for test, ref, date, val, mapping, order, latest, ranks, values in sources:
            if test is not None and not test(row):
                continue
            subject, day = row[ref], row[date]
            value = day if val is None else row[val]
            if mapping is not None:
                value = mapping.get(value)
            if subject is None or day is None or value is None:
                continue
            rank = (day, order, key)
            best = ranks.get(subject)
            if best is None or (rank > best if latest else rank < best):
                ranks[subject] = rank
                values[subject] = value
        village = row[1]
        for test, target, c in tested:
            if test is None or test(row):
                if c.via is not None:
                    deferred.append((c, row))
                    continue
                target[village].append((kind, key))
                if c.keep:
                    kept.append((kind, row, None))
        for get, table in by_value:
            for target in table.get(get(row), ()):
                target[village].append((kind, key))


def _fast(case: _Counts, layout: Layout, hits: Hits) -> tuple[Any, ...]:
    """A case as plain tuples and the hit tables themselves, for the inner loop."""
    tested = [(c.test, hits[c.col], c) for c in case.tested]
    by_value = [
        (layout.getter(name), {v: [hits[c.col] for c in cs] for v, cs in table.items()})
        for name, table in case.by_value
    ]
    return case.possible, case.filt, tested, by_value
