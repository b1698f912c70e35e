# SPDX-License-Identifier: Apache-2.0
"""Places: the village's own codes and addresses, and the places people float between.

Floating people need real county codes at the other end: the validator accepts a 12-digit
code only if its county is in the shipped division list. Destinations are coastal
industrial districts (where people flow out to work), origins inland counties (where
flowed-in workers' hukou are), so the data reads like the migration it imitates.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field

from node.domain.divisions import division, division_path

DESTINATIONS = ("440306", "440106", "440113", "440606", "310115", "320583", "330282", "350206")
ORIGINS = ("430524", "511623", "421127", "360731", "450521", "341221", "411627", "520627")


@functools.cache
def townships_of(county: str) -> tuple[str, ...]:
    """The listed township codes of ``county`` (the shipped list has no reverse index)."""
    found = (f"{county}{n:03d}" for n in range(1, 1000))
    return tuple(code for code in found if (row := division(code)) and row.level == "township")


def path_name(code: str) -> str:
    """Province, prefecture, county and township names of a code, run together."""
    names = [row.name for row in division_path(code)]
    return "".join(n for n in names if n not in ("市辖区", "县", "省直辖县级行政区划"))


@dataclass(frozen=True, slots=True)
class Place:
    """A 12-digit village code elsewhere and the address prefix that goes with it."""

    code: str
    address: str
    given: dict[str, int] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def street_address(self, rng: random.Random) -> str:
        """A house of the place; one drawn before gets a sub-number (117号之2), so two
        households never share a hukou address, and each keeps its one head (户主)."""
        drawn = f"{self.address}{rng.randint(1, 15)}组{rng.randint(1, 220)}号"
        n = self.given[drawn] = self.given.get(drawn, 0) + 1
        return drawn if n == 1 else f"{drawn}之{n}"


class Places:
    """The village's own place and a pool of places elsewhere, drawn per village."""

    def __init__(self, rng: random.Random, village_code: str, village_name: str) -> None:
        if len(village_code) != 12 or not village_code.isdigit():
            raise ValueError(f"a village node has a 12-digit code, not {village_code!r}")
        self.rng = rng
        self.code = village_code
        self.county = village_code[:6]
        listed = division(self.county)
        self.county_name = listed.name if listed else self.county
        prefix = path_name(village_code[:9])
        town = division(village_code[:9])
        name = village_name or "本村"
        if town is not None and name.startswith(town.name):
            name = name[len(town.name) :]
        self.home = Place(village_code, prefix + name)
        self.clinic = f"{town.name}卫生院" if town is not None else "乡镇卫生院"
        self.destinations = [self._elsewhere(c) for c in DESTINATIONS]
        self.origins = [self._elsewhere(c) for c in ORIGINS]
        local = [t for t in townships_of(self.county) if t != village_code[:9]]
        self.nearby = [self._village_in(t) for t in local[:6]] or [self.home]

    def _elsewhere(self, county: str) -> Place:
        towns = townships_of(county) or (f"{county}001",)
        return self._village_in(self.rng.choice(towns))

    def _village_in(self, township: str) -> Place:
        code = f"{township}{self.rng.randint(1, 30):03d}"
        return Place(code, path_name(township) + "第" + str(int(code[-3:])) + "村")

    def destination(self) -> Place:
        return self.rng.choice(self.destinations)

    def origin(self) -> Place:
        return self.rng.choice(self.origins)
