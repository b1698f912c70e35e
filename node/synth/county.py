# SPDX-License-Identifier: Apache-2.0
"""A synthetic county layout for the demo: real townships, synthetic villages below them.

Township codes and names come from the shipped division list (so every code validates);
villages are not shipped, so their codes are numbered from 001 under each township and
their names are drawn from plain lists (上南村, 新围村), unique within the county.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from node.domain.divisions import check_county_code, division
from node.synth.names import village_name
from node.synth.places import townships_of


@dataclass(frozen=True, slots=True)
class VillageEntry:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class TownshipEntry:
    code: str
    name: str
    villages: tuple[VillageEntry, ...]


@dataclass(frozen=True, slots=True)
class CountyPlan:
    """The county, its townships and their villages, in code order."""

    code: str
    name: str
    townships: tuple[TownshipEntry, ...]

    def villages(self) -> list[VillageEntry]:
        return [v for t in self.townships for v in t.villages]


def generate_county_plan(
    county_code: str, townships: int | Sequence[str], villages_per_township: int, seed: int
) -> CountyPlan:
    """Village codes and names for a demo county.

    Args:
        county_code: a 6-digit county code of the shipped list (``441322``).
        townships: how many of the county's listed townships to use (the first ones in
            code order), or the township codes themselves.
        villages_per_township: villages under each township, coded ``001`` upwards.
        seed: the same seed gives the same names.

    Raises:
        ValidationError: ``county_code`` is not a listed county.
        ValueError: a township is not a listed township of the county, the county has
            fewer listed townships than asked for, or a count is out of range.
    """
    check_county_code(county_code)
    if not 1 <= villages_per_township <= 999:
        raise ValueError("villages_per_township must be 1 to 999")
    listed = townships_of(county_code)
    if isinstance(townships, int):
        if not 1 <= townships <= len(listed):
            raise ValueError(f"{county_code} has {len(listed)} listed townships, not {townships}")
        chosen: Sequence[str] = listed[:townships]
    else:
        chosen = list(townships)
        unknown = [t for t in chosen if t not in listed]
        if unknown:
            raise ValueError(f"not listed townships of {county_code}: {unknown}")
    rng = random.Random(f"renkou-county:{county_code}:{seed}")
    taken: set[str] = set()
    entries = []
    for code in chosen:
        villages = tuple(
            VillageEntry(f"{code}{n:03d}", village_name(rng, taken))
            for n in range(1, villages_per_township + 1)
        )
        entries.append(TownshipEntry(code, _name(code), villages))
    return CountyPlan(county_code, _name(county_code), tuple(entries))


def _name(code: str) -> str:
    row = division(code)
    return row.name if row is not None else code
