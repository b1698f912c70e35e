# SPDX-License-Identifier: Apache-2.0
"""The generator's state: planned records, the people they are about, and the clock.

Generation is pure: it builds a :class:`VillagePlan` (records with symbolic :class:`Key`
references and ``date`` values) without touching a store, so it can be tested and
measured on its own. ``node.synth.writer`` later turns keys into the ids the store
hands out and writes the records in date order through the one recording path.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from node.domain.resident_id import make_resident_id
from node.synth.dates import add_months, age_on
from node.synth.names import NameMaker
from node.synth.places import Places


@dataclass(frozen=True, slots=True)
class Key:
    """A reference to another planned record, resolved to its store id when written."""

    index: int


@dataclass(frozen=True, slots=True)
class Planned:
    """One record to write: ``today`` is the day it is entered (the event's own day)."""

    index: int
    kind: str
    today: date
    data: dict[str, Any]


@dataclass(eq=False, slots=True)
class Household:
    """Where a household is registered and where it lives; members share it."""

    hukou_code: str
    hukou_address: str
    residence_code: str
    residence_address: str
    native: bool = True
    floating: str = "resident"
    since: date | None = None
    place: str | None = None
    members: list[Person] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Person:
    """What the generator knows about one person; the card is written from it once."""

    name: str
    family_name: str
    sex: str
    birth: date
    card: str
    home: Household
    key: Key | None = None
    id_number: str = ""
    ethnicity: str = "汉族"
    phone: str | None = None
    marital: str = "unmarried"
    married_on: date | None = None
    husband_name: str | None = None
    husband_id: str | None = None
    children: list[Person] = field(default_factory=list)
    spouse: Person | None = None
    floating: str = "resident"
    method: str = "none"
    method_since: date = date(1900, 1, 1)
    pill_item: str = "pill"
    procedure: Key | None = None
    next_conception: date = date(1900, 1, 1)
    busy_until: date = date(1900, 1, 1)
    entered: date = date.max
    died: date | None = None
    left: date | None = None
    benefit: str | None = None
    benefit_checked: date | None = None
    certified: bool = False
    phase: int = 0

    @property
    def native(self) -> bool:
        return self.home.native

    def age(self, on: date) -> int:
        return age_on(self.birth, on)

    def present(self, on: date) -> bool:
        """On the village's records by ``on`` (card entered), not dead before it, and her
        card not closed by then (a hukou moved away)."""
        return (
            self.entered <= on
            and (self.died is None or self.died >= on)
            and (self.left is None or self.left > on)
        )

    @property
    def currently_married(self) -> bool:
        return self.marital in ("married", "remarried")


@dataclass
class VillagePlan:
    """Everything one village's generation produced, before it is written."""

    village_code: str
    seed: int
    start: date
    end: date
    floating_target: float
    records: list[Planned]
    people: list[Person]
    initial: list[Person]


class Village:
    """Mutable state while planning one village; every random draw comes from ``rng``."""

    def __init__(
        self, *, village_code: str, village_name: str, seed: int, start: date, months: int
    ) -> None:
        self.rng = random.Random(f"renkou-synth:{village_code}:{seed}")
        self.seed = seed
        self.start = start
        self.end = add_months(start, months)
        self.places = Places(self.rng, village_code, village_name)
        self.names = NameMaker(self.rng)
        self.records: list[Planned] = []
        self.people: list[Person] = []
        self._ids: set[str] = set()
        self.stock: dict[str, int] = {}
        self.counters: dict[str, int] = {}

    def add(
        self,
        kind: str,
        today: date,
        data: dict[str, Any],
        people: Iterable[Person] = (),
        until: date | None = None,
    ) -> Key | None:
        """Plan a record, or drop it (None) if it falls outside the span.

        The people it concerns are marked busy until ``today`` (or ``until``), so that no
        death is later planned before an event of theirs.
        """
        if not self.start <= today < self.end:
            return None
        key = Key(len(self.records))
        self.records.append(Planned(key.index, kind, today, data))
        last = max(today, until or today)
        for person in people:
            person.busy_until = max(person.busy_until, last)
        return key

    def next_number(self, name: str) -> int:
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]

    def id_number(self, region6: str, birth: date, sex: str) -> str:
        """A valid, unused resident ID number (GB 11643)."""
        for _ in range(2000):
            serial = 2 * self.rng.randrange(500) + (1 if sex == "M" else 0)
            number = make_resident_id(region6, birth, serial, sex)
            if number not in self._ids:
                self._ids.add(number)
                return number
        raise ValueError(f"no free ID number for {region6} {birth}")  # pragma: no cover

    def phone(self) -> str | None:
        if self.rng.random() < 0.15:
            return None
        return "1" + self.rng.choice("3589") + "".join(self.rng.choices("0123456789", k=9))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def poisson(self, mean: float) -> int:
        """Knuth's method; the means here are small (events of one village in a month)."""
        if mean <= 0:
            return 0
        if mean > 50:
            return max(0, round(self.rng.gauss(mean, mean**0.5)))
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1
