# SPDX-License-Identifier: Apache-2.0
"""The village on its first day: households, cards, floating status, benefit recipients.

Women 15-49 are drawn first (about 23 % of residents, section 6), about 70 % of them
married with a husband and children; everyone else fills the census age pyramid up to the
requested number of residents, so the village's shape and its register counts both look
right. Floating status is then assigned per household (families float together) until the
village's own floating share is reached, and only then are ID numbers issued, because a
flowed-in family's numbers carry the region of its hukou county.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from node.synth import rates
from node.synth.cards import choose_method, float_in, float_out, plan_card
from node.synth.dates import add_years, age_on, between, birth_for_age, days
from node.synth.plan import Household, Person, Village

BAND_COUNT = len(rates.AGE_BANDS)


def band_of(age: int) -> int:
    return min(age // 5, BAND_COUNT - 1)


def male_share(band: int) -> float:
    """Slightly more boys and young men, more women among the very old (7th census)."""
    return (0.53, 0.53, 0.53, 0.53, 0.51, 0.51, 0.51, 0.51, 0.51, 0.51, 0.51, 0.51,
            0.49, 0.49, 0.48, 0.46, 0.42, 0.40)[band]  # fmt: skip


def age_in_band(v: Village, band: int) -> int:
    return v.rng.randint(5 * band, rates.OLDEST if band == BAND_COUNT - 1 else 5 * band + 4)


def native_home(v: Village) -> Household:
    address = v.places.home.street_address(v.rng)
    return Household(v.places.code, address, v.places.code, address)


def new_person(
    v: Village, home: Household, sex: str, birth: date, *, family_name: str | None = None
) -> Person:
    """A person in ``home``; the card type follows from sex and age on the first day.

    Members of a household mostly share its first member's ethnicity.
    """
    surname = family_name or v.names.surname()
    if home.members and v.chance(0.95):
        ethnicity = home.members[0].ethnicity
    else:
        ethnicity = v.names.ethnicity()
    p = Person(
        name=surname + v.names.given(sex),
        family_name=surname,
        sex=sex,
        birth=birth,
        card="family",
        home=home,
        ethnicity=ethnicity,
        phone=v.phone() if age_on(birth, v.start) >= 16 else None,
        phase=v.rng.randrange(rates.REPRODUCTIVE_CHECK_CYCLE_MONTHS),
        pill_item=v.rng.choice(("pill", "injection")),
    )
    home.members.append(p)
    v.people.append(p)
    return p


def marry(v: Village, woman: Person, on: date, status: str) -> Person | None:
    """Give a woman her marriage (and, if she is married now, a husband at home)."""
    woman.marital, woman.married_on = status, on
    if status not in ("married", "remarried"):
        return None
    age = woman.age(v.start) + max(-3, min(10, round(v.rng.gauss(2, 2.5))))
    born = min(birth_for_age(v.rng, v.start, age), add_years(on, -rates.LEGAL_MARRIAGE_AGE["M"]))
    husband = new_person(v, woman.home, "M", born)
    husband.marital, husband.married_on, husband.spouse = status, on, woman
    woman.spouse, woman.husband_name = husband, husband.name
    return husband


def bear_children(v: Village, mother: Person, father: Person | None, cap: int) -> None:
    """Children born since the marriage, first after ~1-3 years, then spaced 2-6 years.

    No child once the village holds ``cap`` people: a small village must not end up with
    more residents than were asked for.
    """
    target = v.rng.choices(*zip(*rates.CHILDREN_WEIGHTS, strict=True))[0]
    assert mother.married_on is not None
    born = mother.married_on + days(v.rng.randint(300, 1100))
    surname = father.family_name if father else mother.family_name
    while (
        len(mother.children) < target
        and born < v.start
        and age_on(mother.birth, born) <= 42
        and len(v.people) < cap
    ):
        sex = "M" if v.chance(rates.P_BOY) else "F"
        child = new_person(v, mother.home, sex, born, family_name=surname)
        mother.children.append(child)
        if father is not None:
            father.children.append(child)
        born += days(v.rng.randint(700, 2200))
    mother.next_conception = born if mother.children else mother.married_on + days(60)


def married_woman(v: Village, age: int, cap: int) -> Person:
    """A woman who is or was married, with her household (at most ``cap`` people in all)."""
    woman = new_person(v, native_home(v), "F", birth_for_age(v.rng, v.start, age))
    drawn = round(v.rng.gauss(rates.COHORT_FIRST_MARRIAGE_AGE, 3.5))
    first_age = max(rates.LEGAL_MARRIAGE_AGE["F"], min(age, drawn))
    on = min(add_years(woman.birth, first_age) + days(v.rng.randint(0, 364)), v.start - days(1))
    statuses, weights = zip(*rates.EVER_MARRIED_STATUS, strict=True)
    husband = marry(v, woman, on, v.rng.choices(statuses, weights)[0])
    bear_children(v, woman, husband, cap)
    return woman


def women_15_49(v: Village, count: int, residents: int) -> list[Person]:
    """Married women first; their grown daughters then take unmarried women's places.

    A married woman's household (she, her husband, their children) only takes the room
    left after every woman still to come has hers, so the village never holds more than
    ``residents`` people; a wife with no room for a husband stays unmarried instead.
    """
    weights = rates.AGE_BANDS[3:10]
    ages = [age_in_band(v, v.rng.choices(range(3, 10), weights)[0]) for _ in range(count)]
    married: list[int] = []
    single: list[int] = []
    for age in ages:
        ever = rates.EVER_MARRIED_BY_BAND[band_of(age) - 3]
        (married if age >= 20 and v.chance(ever) else single).append(age)
    women: list[Person] = []
    for i, age in enumerate(married):
        to_come = len(married) - i - 1 + len(single)
        if residents - len(v.people) - to_come < 2:
            single.append(age)
            continue
        women.append(married_woman(v, age, cap=residents - to_come))
    for daughter in [c for w in women for c in w.children]:
        if daughter.sex == "F" and 15 <= daughter.age(v.start) <= 49 and single:
            single.remove(min(single, key=lambda a: abs(a - daughter.age(v.start))))
    for age in single:
        women.append(new_person(v, native_home(v), "F", birth_for_age(v.rng, v.start, age)))
    return women


def other_marital(v: Village, sex: str, age: int) -> str:
    if age < rates.LEGAL_MARRIAGE_AGE[sex]:
        return "unmarried"
    if age < 50:
        ever = rates.EVER_MARRIED_BY_BAND[max(0, band_of(age) - 4)]
        return "married" if v.chance(ever) else "unmarried"
    widowed = 0.05 if age < 60 else 0.12 if age < 70 else 0.28 if age < 80 else 0.5
    r = v.rng.random()
    return "widowed" if r < widowed else "divorced" if r < widowed + 0.03 else "married"


def fill_pyramid(v: Village, residents: int) -> None:
    """Everyone else: the census pyramid minus what the households already hold."""
    have = [[0, 0] for _ in range(BAND_COUNT)]
    for p in v.people:
        have[band_of(p.age(v.start))][p.sex == "M"] += 1
    total = sum(rates.AGE_BANDS)
    cells, weights = [], []
    for band, share in enumerate(rates.AGE_BANDS):
        for is_male in (0, 1):
            if not is_male and 3 <= band <= 9:
                continue
            want = (
                residents * share / total * (male_share(band) if is_male else 1 - male_share(band))
            )
            cells.append((band, is_male))
            weights.append(max(0.0, want - have[band][is_male]) + 0.01)
    elders: list[Household] = []
    for _ in range(residents - len(v.people)):
        band, is_male = v.rng.choices(cells, weights)[0]
        sex, age = ("M" if is_male else "F"), age_in_band(v, band)
        home = v.rng.choice(elders) if age < 15 and elders else native_home(v)
        p = new_person(v, home, sex, birth_for_age(v.rng, v.start, age))
        p.marital = other_marital(v, sex, age)
        if p.marital != "unmarried":
            low = rates.LEGAL_MARRIAGE_AGE[sex]
            p.married_on = add_years(p.birth, v.rng.randint(low, max(low, min(age, 28))))
        if age >= 50 and p.marital == "married":
            pair_up(v, p, elders)


def pair_up(v: Village, p: Person, elders: list[Household]) -> None:
    """Married old people share a household with a spouse of the other sex, if one waits."""
    for home in elders:
        spouse = home.members[0]
        if (
            spouse.sex != p.sex
            and spouse.spouse is None
            and abs(spouse.age(v.start) - p.age(v.start)) < 8
        ):
            home.members.append(p)
            p.home.members.remove(p)
            p.home, p.spouse, spouse.spouse = home, spouse, p
            return
    elders.append(p.home)


def assign_floating(v: Village, target: float, out_share: float) -> None:
    """Households float together until the village's floating share is reached.

    Working-age households go first (the old stay at home); flowed-in households get
    their hukou at an inland origin county, flowed-out ones live in a coastal district.
    """
    homes = list(dict.fromkeys(p.home for p in v.people))
    v.rng.shuffle(homes)
    want, have = round(target * len(v.people)), 0
    working = [h for h in homes if any(18 <= m.age(v.start) <= 45 for m in h.members)]
    rest = [h for h in homes if not any(18 <= m.age(v.start) <= 45 for m in h.members)]
    for home in working + rest:
        if have + len(home.members) > want:
            continue
        have += len(home.members)
        since = between(v.rng, v.start - days(3000), v.start - days(1))
        if v.chance(out_share):
            float_out(v, home, v.places.destination(), since)
        else:
            float_in(v, home, v.places.origin(), since)


def enrol_benefits(v: Village) -> None:
    """Recipients already enrolled when the village starts keeping records here."""
    for p in v.people:
        if not p.native:
            continue
        age = p.age(v.start)
        if age >= rates.BENEFIT_AGE and v.chance(rates.REWARD_SUPPORT_SHARE):
            p.benefit = "reward_support"
            year = max(2005, p.birth.year + rates.BENEFIT_AGE + 1)
        elif age >= 49 and v.chance(0.005):
            p.benefit = "special_support"
            year = max(2008, v.start.year - v.rng.randint(0, 8))
        else:
            continue
        effective = min(date(year, 1, 1), v.start)
        data: dict[str, Any] = {"person_ref": p.key, "programme": p.benefit, "change": "new"}
        data["annual_amount"] = rates.ANNUAL_AMOUNTS[p.benefit]
        v.add("benefit", v.start, {**data, "effective_date": effective}, [p])
        # Checked in person at some point of the last six months (篇4 第16条).
        p.benefit_checked = v.start - timedelta(days=v.rng.randint(0, 170))


def populate(v: Village, residents: int, floating_target: float, out_share: float) -> None:
    """Build the first day's village and plan every resident's card on ``v.start``."""
    women = women_15_49(v, round(residents * rates.WOMEN_15_49_SHARE), residents)
    fill_pyramid(v, residents)
    assign_floating(v, floating_target, out_share)
    for woman in women:
        if woman.currently_married:
            woman.method = choose_method(v, woman)
    for p in v.people:
        # A woman's card names her husband, so his card is entered just before hers.
        if p.sex == "F" and p.spouse is not None and p.spouse.key is None:
            plan_card(v, p.spouse, v.start)
        if p.key is None:
            plan_card(v, p, v.start)
    enrol_benefits(v)
