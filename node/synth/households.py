# SPDX-License-Identifier: Apache-2.0
"""People joining and leaving: marriages, floating out and in, hukou moves out and in.

Floating (流动) and hukou moves (户籍迁移) are different facts (domain.md section 2):

* floating out: a resident leaves for a coastal district, her hukou stays here and her
  card stays open (a floating record); floating in: a worker or a young family from an
  inland county arrives, their hukou there (a card entered as floating in, whose
  floating record comes with it). These are what Table 5 counts.
* a hukou move out (mostly a bride moving her hukou to her husband's place) closes the
  card here; a hukou move in (a bride marrying in, someone settling) opens a hukou card
  here. These are Table 2's move columns.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from node.synth import rates
from node.synth.cards import choose_method, float_in, plan_card
from node.synth.dates import add_years, between, birth_for_age, days
from node.synth.plan import Household, Person, Village
from node.synth.population import new_person
from node.synth.services import check

REASONS_OUT: tuple[tuple[str, int], ...] = (
    ("work", 70),
    ("study", 8),
    ("marriage", 10),
    ("family", 9),
    ("other", 3),
)


def marriages(v: Village, lo: date, hi: date) -> None:
    """Marriages at about 5 per 1,000 a year, women's first marriages around 28."""
    pool = [
        p for p in v.people
        if p.card == "woman" and p.present(lo) and 20 <= p.age(lo) <= 45
        and p.marital in ("unmarried", "divorced", "widowed")
    ]  # fmt: skip
    mean = rates.MEAN_FIRST_MARRIAGE_AGE
    weights = [math.exp(-(((p.age(lo) - mean) / 5.0) ** 2)) for p in pool]
    for _ in range(v.poisson(len(v.people) * rates.MARRIAGES_PER_1000 / 1000 / 12)):
        day = between(v.rng, lo, hi - days(1))
        if pool:
            woman = v.rng.choices(pool, weights)[0]
            if not woman.currently_married and woman.present(day):
                wed(v, woman, day)


def wed(v: Village, woman: Person, day: date) -> None:
    """The marriage record; the card's status follows from it (``checks.effects``)."""
    first = woman.marital == "unmarried"
    age = max(rates.LEGAL_MARRIAGE_AGE["M"], woman.age(day) + v.rng.randint(-1, 5))
    region = v.places.county if v.chance(0.6) else v.places.origin().code[:6]
    woman.husband_name = v.names.full("M")
    woman.husband_id = v.id_number(region, birth_for_age(v.rng, day, age), "M")
    data: dict[str, Any] = {"woman_ref": woman.key, "husband_name": woman.husband_name}
    data.update(husband_id_number=woman.husband_id, marriage_date=day, first_marriage=first)
    data["registered_at"] = f"{v.places.county_name}民政局婚姻登记处"
    v.add("marriage", day, data, [woman])
    woman.marital, woman.spouse = "married", None
    woman.married_on = woman.married_on if not first else day
    woman.method = "condom" if v.chance(0.5) else "none"
    woman.method_since = day
    woman.next_conception = day + days(v.rng.randint(60, 700))
    if v.chance(rates.PRE_PREGNANCY_CHECK_SHARE):
        check(v, woman, "pre_pregnancy", day + days(v.rng.randint(14, 150)))


def floating_out(v: Village, lo: date, hi: date) -> None:
    """Residents leaving to work or study elsewhere; their hukou stays here (流出)."""
    pool = [
        p for p in v.people
        if p.native and p.floating == "resident" and p.present(lo) and 16 <= p.age(lo) <= 60
    ]  # fmt: skip
    for _ in range(v.poisson(len(v.people) * rates.FLOATING_OUT_PER_1000 / 1000 / 12)):
        day = between(v.rng, lo, hi - days(1))
        p = v.rng.choice(pool) if pool else None
        if p is None or p.floating != "resident" or not p.present(day) or p.key is None:
            continue
        reason = v.rng.choices(*zip(*REASONS_OUT, strict=True))[0]
        place = (
            v.places.destination() if reason in ("work", "study") else v.rng.choice(v.places.nearby)
        )
        data = {"person_ref": p.key, "event": "flow_out", "event_date": day, "reason": reason}
        data.update(place_code=place.code, address=place.street_address(v.rng))
        if v.add("floating", day, data, [p]) is not None:
            p.floating = "flowed_out"


def floating_in(v: Village, lo: date, hi: date) -> None:
    """Workers and young families from inland counties arriving to live here (流入):
    their cards are entered as floating in, which records the floating with them."""
    for _ in range(v.poisson(len(v.people) * rates.FLOATING_IN_PER_1000 / 1000 / 12)):
        day = between(v.rng, lo, hi - days(1))
        origin = v.places.origin()
        address = v.places.home.street_address(v.rng)
        home = Household(v.places.code, address, v.places.code, address)
        float_in(v, home, origin, day)
        _arrive(v, home, day)


def hukou_moves_out(v: Village, lo: date, hi: date) -> None:
    """Hukou moved away (迁出): the card here closes (reason: moved away)."""
    for _ in range(v.poisson(len(v.people) * rates.HUKOU_MOVES_OUT_PER_1000 / 1000 / 12)):
        day = between(v.rng, lo, hi - days(1))
        pool = [
            p for p in v.people
            if p.native and p.floating == "resident" and p.key is not None and p.present(day)
            and 18 <= p.age(day) <= 40 and p.busy_until < day and p.benefit is None
        ]  # fmt: skip
        if not pool:
            continue
        p = v.rng.choice(pool)
        bride = p.sex == "F" and p.currently_married
        reason = "marriage" if bride else v.rng.choice(("work", "study", "family"))
        place = v.rng.choice(v.places.nearby) if v.chance(0.6) else v.places.destination()
        data = {"person_ref": p.key, "direction": "out", "move_date": day, "reason": reason}
        data.update(from_code=v.places.code, to_code=place.code)
        data["address"] = place.street_address(v.rng)
        if v.add("move", day, data, [p]) is not None:
            p.left = day


def hukou_moves_in(v: Village, lo: date, hi: date) -> None:
    """Hukou moved here (迁入): a bride marrying in or someone settling; a hukou card."""
    for _ in range(v.poisson(len(v.people) * rates.HUKOU_MOVES_IN_PER_1000 / 1000 / 12)):
        day = between(v.rng, lo, hi - days(1))
        origin = v.rng.choice(v.places.nearby) if v.chance(0.6) else v.places.origin()
        address = v.places.home.street_address(v.rng)
        home = Household(v.places.code, address, v.places.code, address)
        sex = "F" if v.chance(0.7) else "M"
        p = new_person(v, home, sex, birth_for_age(v.rng, day, v.rng.randint(20, 35)))
        if p.sex == "F" and v.chance(0.8):
            p.marital, p.married_on = "married", day - days(v.rng.randint(1, 60))
        p.id_number = v.id_number(origin.code[:6], p.birth, p.sex)
        if plan_card(v, p, day) is None:
            continue
        reason = "marriage" if p.currently_married else "work"
        data = {"person_ref": p.key, "direction": "in", "move_date": day, "reason": reason}
        data.update(from_code=origin.code, to_code=v.places.code, address=address)
        v.add("move", day, data, [p])
        if p.card == "woman" and p.currently_married:
            p.method, p.method_since = choose_method(v, p), day


def _arrive(v: Village, home: Household, day: date) -> None:
    people = arrivals(v, home, day)
    for p in people:
        if p.sex == "F" and p.spouse is not None and p.spouse.key is None:
            plan_card(v, p.spouse, day)
        if p.key is None:
            plan_card(v, p, day)
    for p in people:
        if p.card == "woman" and p.currently_married:
            p.method, p.method_since = choose_method(v, p), day


def arrivals(v: Village, home: Household, day: date) -> list[Person]:
    """A single worker (about half the time) or a couple with up to two children."""
    if v.chance(0.55):
        sex = v.rng.choice("FM")
        p = new_person(v, home, sex, birth_for_age(v.rng, day, v.rng.randint(18, 40)))
        return [p]
    wife_age = v.rng.randint(24, 42)
    wife = new_person(v, home, "F", birth_for_age(v.rng, day, wife_age))
    husband_age = wife_age + v.rng.randint(0, 4)
    husband = new_person(v, home, "M", birth_for_age(v.rng, day, husband_age))
    earliest = max(add_years(wife.birth, 20), add_years(husband.birth, 22))
    wed_on = between(v.rng, earliest, day - days(30))
    for p, other in ((wife, husband), (husband, wife)):
        p.marital, p.married_on, p.spouse = "married", wed_on, other
    wife.husband_name = husband.name
    people = [wife, husband]
    born = wed_on + days(v.rng.randint(300, 900))
    wanted = v.rng.randint(0, 2)
    while born < day - days(30) and len(wife.children) < wanted:
        child = new_person(v, home, v.rng.choice("MF"), born, family_name=husband.family_name)
        wife.children.append(child)
        people.append(child)
        born += days(v.rng.randint(700, 1800))
    wife.next_conception = born
    return people
