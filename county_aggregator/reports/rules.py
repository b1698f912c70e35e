# SPDX-License-Identifier: Apache-2.0
"""The rule language statistical tables are written in: frozen dataclasses, no code.

A table is a :class:`TableDef`: rows grouped by county, township and village, and columns
each of which is a :class:`Count` (records of a kind whose fields pass some tests, with a
date in a span of the period), a :class:`Formula` over other columns, or a
:class:`Percent`. A list (the benefit recipients whose status changed) is a
:class:`ListingDef`. One engine (``engine.py``) evaluates every definition, so adding a
table means adding data to ``definitions.py`` and a heading, never a new loop over the
records: the figures of every table are then counted the same way and trace back to their
records the same way.

Field names in tests:

* ``birth_order`` - a field of the record's ``data`` (node/domain field names);
* ``@village``, ``@township``, ``@county``, ``@key``, ``@first_hlc``, ``@last_hlc``,
  ``@retired`` - columns of ``merged_records`` around the data;
* ``$method_at_end`` - a derived fact of a person (:class:`Latest`, :class:`Earliest`,
  :class:`AgeAt`), computed from the person's linked events in the same pass.

Test values may be :data:`START` or :data:`END`, the period's first and last day, so that
"born before the period" is data too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from county_aggregator.reports.periods import PeriodKind

Op = Literal[
    "eq",
    "ne",
    "in",
    "not_in",
    "present",
    "absent",
    "lt",
    "le",
    "gt",
    "ge",
    "between",
    "in_county",
    "out_of_county",
]
OPS: tuple[str, ...] = (
    "eq",
    "ne",
    "in",
    "not_in",
    "present",
    "absent",
    "lt",
    "le",
    "gt",
    "ge",
    "between",
    "in_county",
    "out_of_county",
)
"""``in_county``/``out_of_county``: the field is a division code whose county (first six
digits) is / is not the county of the record's village: how a floating event says that
the person crossed a county line (篇10 第3条)."""
Span = Literal["period", "before_start", "to_end"]
Upto = Literal["before_start", "end", "any", "after_end"]
Level = Literal["county", "township", "village"]
META_FIELDS = ("@key", "@village", "@first_hlc", "@last_hlc", "@retired", "@township", "@county")
HLC_FIELDS = ("@first_hlc", "@last_hlc")
SUBJECT_KIND = "person"
"""Derived facts and ``Count.via`` subjects are person records (the information cards)."""

_NAME = re.compile(r"[$@]?[a-z][a-z0-9_]*\Z")
_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class Bound:
    """A placeholder for a day of the period, resolved when a report is built;
    ``months`` moves it by whole calendar months ("six months before the end")."""

    which: Literal["start", "end"]
    months: int = 0


START = Bound("start")
END = Bound("end")


def months_before(bound: Bound, months: int) -> Bound:
    """The day ``months`` calendar months before ``bound`` (31 March - 6 = 30 September)."""
    return Bound(bound.which, bound.months - months)


@dataclass(frozen=True, slots=True)
class Where:
    """``field op value``; comparisons with a missing field are false (SQL's NULL)."""

    field: str
    op: Op
    value: Any = None

    def __post_init__(self) -> None:
        check_name(self.field)
        if self.op not in OPS:
            raise ValueError(f"unknown operator {self.op!r}")


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when one of ``tests`` is (a disjunction; a list of tests is a conjunction)."""

    tests: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """True when all of ``tests`` are: a conjunction to put inside an :class:`AnyOf`."""

    tests: tuple[Cond, ...]


Cond = Where | AnyOf | AllOf


def eq(name: str, value: Any) -> Where:
    return Where(name, "eq", value)


def ne(name: str, value: Any) -> Where:
    return Where(name, "ne", value)


def is_in(name: str, values: tuple[Any, ...]) -> Where:
    return Where(name, "in", tuple(values))


def present(name: str) -> Where:
    return Where(name, "present")


def absent(name: str) -> Where:
    return Where(name, "absent")


def between(name: str, lo: Any, hi: Any) -> Where:
    """``lo <= field <= hi``."""
    return Where(name, "between", (lo, hi))


def out_of_county(name: str) -> Where:
    """The division code in ``name`` lies outside the county of the record's village."""
    return Where(name, "out_of_county")


@dataclass(frozen=True)
class Source:
    """Events of ``kind`` that name a person in ``ref``, dated by ``date``.

    The fact takes ``value`` (a field, translated by ``mapping`` when given; values the
    mapping lacks make the event not count), or the event's date when ``value`` is None.
    """

    kind: str
    ref: str
    date: str
    value: str | None = None
    mapping: Mapping[Any, Any] | None = None
    where: tuple[Cond, ...] = ()


@dataclass(frozen=True)
class Latest:
    """The value of a person's most recent source event up to a bound.

    Ties on the date go to the source listed first, then to the greater record key, so
    the same data always gives the same answer. ``default`` when there is no event.
    """

    sources: tuple[Source, ...]
    upto: Upto = "end"
    default: Any = None


@dataclass(frozen=True)
class Earliest:
    """The value of a person's first source event up to a bound.

    Ties on the date go to the source listed first, then to the smaller record key.
    """

    sources: tuple[Source, ...]
    upto: Upto = "any"
    default: Any = None


@dataclass(frozen=True, slots=True)
class AgeAt:
    """Age in completed years on the period's first or last day, from ``field``."""

    at: Literal["start", "end"] = "end"
    field: str = "birth_date"


Derived = Latest | Earliest | AgeAt


@dataclass(frozen=True)
class Count:
    """Count records of ``kind`` passing ``where`` and dated in ``span`` by ``date``.

    ``via`` names a ref field (``person_ref``): the record is counted only if the person
    it names was loaded (passed the table's person filters) and passes ``subject``.
    ``live``: True counts live records, False only retired ones, None both.
    """

    kind: str | tuple[str, ...]
    where: tuple[Cond, ...] = ()
    date: str | None = None
    span: Span = "period"
    via: str | None = None
    subject: tuple[Cond, ...] = ()
    live: bool | None = True

    @property
    def kinds(self) -> tuple[str, ...]:
        return (self.kind,) if isinstance(self.kind, str) else tuple(self.kind)


@dataclass(frozen=True, slots=True)
class Formula:
    """Integer arithmetic (+, -, *, parentheses) over the keys of earlier columns."""

    expr: str


@dataclass(frozen=True, slots=True)
class Percent:
    """``numerator / denominator * 100``, rounded half up to ``places`` decimals.

    Shown as a string ("62.5"), so that no float enters a signed snapshot; "—" when the
    denominator is 0.
    """

    numerator: str
    denominator: str
    places: int = 1


@dataclass(frozen=True, slots=True)
class Sum:
    """The sum of a numeric derived fact (``$name``) over the persons ``count`` counts
    (an amount of money, say); the figure traces back to those persons like a count."""

    count: Count
    fact: str

    def __post_init__(self) -> None:
        if not self.fact.startswith("$"):
            raise ValueError(f"Sum adds up a derived fact ($name), not {self.fact!r}")


Rule = Count | Formula | Percent | Sum


@dataclass(frozen=True)
class Column:
    """One figure column: a stable key (used in snapshots), the official heading, a rule."""

    key: str
    heading: str
    rule: Rule

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"column key {self.key!r} must be lower-case ASCII")


@dataclass(frozen=True)
class TableDef:
    """A statistical table: counted per village and summed to townships and the county.

    ``filters`` apply, per kind, to every column and derived fact that reads that kind
    (Table 3 reads only married women 15-49), and are pushed into the SQL scan.
    """

    name: str
    title: str
    periods: tuple[PeriodKind, ...]
    columns: tuple[Column, ...]
    levels: tuple[Level, ...] = ("county", "township", "village")
    filters: Mapping[str, tuple[Cond, ...]] = field(default_factory=dict)
    derived: Mapping[str, Derived] = field(default_factory=dict)
    notes: str = ""


@dataclass(frozen=True, slots=True)
class ListField:
    """A column of a list: a field of the record or, as ``subject.name``, of its person.

    ``labels`` prints the Chinese label of a coded value (node.registers.labels).
    """

    key: str
    heading: str
    source: str
    labels: bool = False


@dataclass(frozen=True)
class ListingDef:
    """A list with one row per record that ``select`` counts (its drill-down is itself)."""

    name: str
    title: str
    periods: tuple[PeriodKind, ...]
    select: Count
    fields: tuple[ListField, ...]
    order: tuple[str, ...] = ("@village", "@key")
    filters: Mapping[str, tuple[Cond, ...]] = field(default_factory=dict)
    derived: Mapping[str, Derived] = field(default_factory=dict)
    notes: str = ""


Definition = TableDef | ListingDef


def check_name(name: str) -> None:
    """Field names go into SQL json paths, so only plain identifiers are accepted.

    Raises:
        ValueError: not a data field, a known @meta field or a $derived name.
    """
    if not _NAME.match(name) or (name.startswith("@") and name not in META_FIELDS):
        raise ValueError(f"not a field name: {name!r}")
