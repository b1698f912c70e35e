# SPDX-License-Identifier: Apache-2.0
"""Vital events: pregnancies and births, and deaths.

A pregnancy is planned whole when it begins: the IUD removal before it, its registration
for maternal care, the pregnancy checks, the birth, the birth registration a few days
later, the child's card and the method chosen afterwards with its follow-up visits. The
records carry their own dates and are written in date order later; planning them at once
is what keeps them consistent (a check never after the birth, a registration never
without a birth), and the people involved are kept alive until their last event.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from node.synth import rates
from node.synth.cards import plan_card
from node.synth.dates import between, days
from node.synth.plan import Person, Village
from node.synth.population import new_person
from node.synth.services import plan_procedure

CARE_PLACES = ("镇卫生院", "县妇幼保健院", "县人民医院")
DEATH_PLACES: tuple[tuple[str, int], ...] = (
    ("家中", 55),
    ("县人民医院", 30),
    ("镇卫生院", 12),
    ("其他", 3),
)
STERILISED = ("female_sterilisation", "male_sterilisation")


def fertility(age: int) -> float:
    """Relative chance of a birth by the mother's age: a peak at 29, few after 40."""
    return math.exp(-(((age - 29) / 6.0) ** 2))


def mother_for(v: Village, lmp: date, order: int) -> Person | None:
    """A married woman who could conceive a child of ``order`` on ``lmp``."""
    due = lmp + days(280)
    pool, weights = [], []
    for p in v.people:
        if p.sex != "F" or not p.currently_married or p.married_on is None:
            continue
        kids = len(p.children)
        if (kids != order - 1 if order < 3 else kids < 2) or kids >= 5:
            continue
        age = p.age(due)
        if not 20 <= age <= 45 or p.method in STERILISED or p.died is not None:
            continue
        # A woman whose hukou moved away has no card here any more: nothing more is
        # recorded about her in this village.
        if p.left is not None:
            continue
        if p.next_conception > lmp or p.married_on > lmp - days(30):
            continue
        # Pregnancies under way on the first day began before the cards were entered.
        if p.entered > max(lmp, v.start):
            continue
        pool.append(p)
        weights.append(fertility(age))
    return v.rng.choices(pool, weights)[0] if pool else None


def conceive(v: Village, lmp: date) -> None:
    """Start one pregnancy with ``lmp``; the order is drawn from the section 6 shares."""
    orders = [1, 2, 3]
    first = v.rng.choices(orders, rates.BIRTH_ORDER_WEIGHTS)[0]
    for order in [first] + [o for o in orders if o != first]:
        mother = mother_for(v, lmp, order)
        if mother is not None:
            pregnancy(v, mother, lmp)
            return


def pregnancy(v: Village, mother: Person, lmp: date) -> None:
    """Plan the pregnancy, checks, birth and what follows it."""
    if mother.method in ("iud", "implant"):
        removal = max(lmp - days(v.rng.randint(20, 90)), mother.method_since)
        plan_procedure(v, mother, f"{mother.method}_removal", removal, "none", follow=False)
    birth = lmp + days(280 + max(-21, min(14, round(v.rng.gauss(0, 8)))))
    mother.method, mother.method_since = "none", birth + days(42)
    mother.next_conception = birth + days(v.rng.randint(720, 1800))
    place = v.rng.choice(CARE_PLACES)
    registered = lmp + days(v.rng.randint(42, 98))
    data = {"woman_ref": mother.key, "registered_date": registered, "care_place": place}
    data.update(last_menstrual_date=lmp, expected_date=lmp + days(280))
    v.add("pregnancy", registered, data, [mother], until=birth)
    for week in (16, 28, 36):
        check = lmp + days(7 * week + v.rng.randint(-5, 5))
        if check < birth and v.chance(0.8):
            check_data: dict[str, Any] = {
                "person_ref": mother.key,
                "check_type": "pregnancy_check",
            }
            check_data.update(scheduled_date=check, done_date=check, place=place)
            check_data["requires_return_to_hukou"] = False
            v.add("health_check", check, {**check_data, "result_summary": "母胎情况正常"}, [mother])
    if birth < v.end:
        deliver(v, mother, birth, v.rng.choice(CARE_PLACES))


def deliver(v: Village, mother: Person, born: date, place: str) -> None:
    """The birth, the child's card, the birth registration and the method chosen after."""
    order = len(mother.children) + 1
    sex = "M" if v.chance(rates.P_BOY) else "F"
    father = mother.spouse
    surname = father.family_name if father is not None else mother.family_name
    child = new_person(v, mother.home, sex, born, family_name=surname)
    mother.children.append(child)
    child.id_number = v.id_number(mother.home.hukou_code[:6], born, sex)
    weight = max(1500, min(5000, round(v.rng.gauss(3300, 450))))
    data: dict[str, Any] = {"mother_ref": mother.key, "child_name": child.name, "child_sex": sex}
    data.update(birth_date=born, birth_order=order, birth_place=place, weight_g=weight)
    v.add("birth", born, {**data, "child_id_number": child.id_number}, [mother])
    plan_card(v, child, born)
    if v.chance(rates.BIRTH_REGISTERED_SHARE):
        register_birth(v, mother, born, order)
    after_birth(v, mother, born, order)


def register_birth(v: Village, mother: Person, born: date, order: int) -> None:
    """生育登记, a service: registered, passed to the township within days and registered
    there (篇3 第11条, 篇4 第15条); a floating-in mother's registration is first checked
    with her hukou place and the hukou place told afterwards (篇10 第15条). The father is
    named when known; an unmarried mother registers without one."""
    registered = born + days(v.rng.randint(0, 12))
    floating = mother.home.floating == "flowed_in"
    checked = registered + days(v.rng.randint(0, 3)) if floating else None
    forwarded = (checked or registered) + days(v.rng.randint(0, 4))
    township = forwarded + days(v.rng.randint(1, 6))
    number = f"{v.places.county}{township.year}{v.next_number('birth_reg'):05d}"
    father = mother.spouse
    father_id = father.id_number if father is not None else mother.husband_id
    data: dict[str, Any] = {"mother_ref": mother.key, "father_name": mother.husband_name}
    data.update(father_id_number=father_id, child_order=order, registered_date=registered)
    data.update(hukou_checked_date=checked, forwarded_date=forwarded)
    data.update(township_registered_date=township, certificate_no=number)
    if floating:
        data["hukou_notified_date"] = township + days(v.rng.randint(1, 6))
    v.add("birth_registration", data.get("hukou_notified_date") or township, data, [mother])


def after_birth(v: Village, mother: Person, born: date, order: int) -> None:
    """The method the mother (or her husband) chooses after the birth."""
    options: tuple[tuple[str, int], ...]
    if order == 1:
        options = (("iud", 45), ("condom", 40), ("implant", 5), ("pill_injection", 5), ("none", 5))
    else:
        options = (("iud", 40), ("female_sterilisation", 20), ("male_sterilisation", 3),
                   ("condom", 27), ("implant", 5), ("none", 5))  # fmt: skip
    method = v.rng.choices(*zip(*options, strict=True))[0]
    husband = mother.spouse
    if method == "male_sterilisation" and (husband is None or husband.left is not None):
        method = "female_sterilisation"
    when = born + days(v.rng.randint(1, 90) if method in STERILISED else v.rng.randint(42, 180))
    procedure = {"iud": "iud_insertion", "implant": "implant_insertion"}.get(method, method)
    if method in ("iud", "implant") or method in STERILISED:
        plan_procedure(v, mother, procedure, when, method)
    else:
        mother.method, mother.method_since = method, born + days(42)


def mortality(age: int) -> float:
    """Relative risk of dying by age: a Gompertz curve, and a little more in the first year."""
    return math.exp(0.09 * (age - 85)) + (0.02 if age == 0 else 0.0)


def deaths(v: Village, lo: date, hi: date) -> None:
    """Deaths at the section 6 rate, mostly of the old.

    Someone with a record still to come (a birth, a follow-up visit) is not picked, so
    no record of theirs is ever dated after their death.
    """
    pool = [p for p in v.people if p.present(lo)]
    weights = [mortality(p.age(lo)) for p in pool]
    for _ in range(v.poisson(len(pool) * rates.DEATHS_PER_1000 / 1000 / 12)):
        day = between(v.rng, lo, hi - days(1))
        for p in v.rng.choices(pool, weights, k=20):
            if p.died is None and p.busy_until < day:
                die(v, p, day)
                break


def die(v: Village, p: Person, day: date) -> None:
    """The death, and the benefit change it makes (payments stop, 篇4 第16条)."""
    place = v.rng.choices(*zip(*DEATH_PLACES, strict=True))[0]
    v.add("death", day, {"person_ref": p.key, "death_date": day, "place": place}, [p])
    p.died = day
    if p.spouse is not None and p.spouse.currently_married:
        p.spouse.marital = "widowed"
        widow = p.spouse
        if widow.key is not None and widow.present(day):
            change = {"person_ref": widow.key, "marital_status": "widowed", "change_date": day}
            v.add("marital_change", day, change, [widow])
    if p.benefit is not None:
        benefit = {"person_ref": p.key, "programme": p.benefit, "change": "died"}
        v.add("benefit", day, {**benefit, "effective_date": day}, [p])
        p.benefit = None
