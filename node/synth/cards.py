# SPDX-License-Identifier: Apache-2.0
"""Writing a person's information card, and giving a person their floating status.

Shared by the first-day population, newborns and people who move in, so all three
produce cards the same way: ID number from the hukou region, card type from sex and age on
the day the card is entered, floating fields from the household.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from node.synth import rates
from node.synth.places import Place
from node.synth.plan import Household, Key, Person, Village

WOMAN_CARD_AGES = (15, 49)


def float_out(v: Village, home: Household, place: Place, since: date) -> None:
    """The household lives at ``place`` (elsewhere) but keeps its hukou here."""
    home.floating, home.place, home.since = "flowed_out", place.code, since
    home.residence_code, home.residence_address = place.code, place.street_address(v.rng)


def float_in(v: Village, home: Household, place: Place, since: date) -> None:
    """The household lives here with its hukou at ``place`` (another county)."""
    home.native, home.floating, home.place, home.since = False, "flowed_in", place.code, since
    home.hukou_code, home.hukou_address = place.code, place.street_address(v.rng)


def relation_to_head(p: Person) -> str:
    """The person's relationship to the head of her household (与户主关系): the
    household's first member is its head, the rest are named from the family ties the
    generator knows (no random draw, so the village generated is otherwise the same)."""
    head = p.home.members[0] if p.home.members else p
    heads = [head] + ([head.spouse] if head.spouse is not None else [])
    if p is head:
        return "head"
    if p is head.spouse or p.spouse is head:
        return "spouse"
    children = [c for h in heads for c in h.children]
    if p in children:
        return "child"
    if p.spouse is not None and p.spouse in children:
        return "child_in_law"
    if any(p in c.children for c in children):
        return "grandchild"
    if any(h in p.children for h in heads):
        return "parent"
    return "other"


def plan_card(v: Village, p: Person, today: date) -> Key | None:
    """Issue the person's ID number and plan their card, entered on ``today``."""
    home = p.home
    p.floating = home.floating
    p.id_number = p.id_number or v.id_number(home.hukou_code[:6], p.birth, p.sex)
    lo, hi = WOMAN_CARD_AGES
    p.card = "woman" if p.sex == "F" and lo <= p.age(today) <= hi else "family"
    data: dict[str, Any] = {
        "card_type": p.card,
        "id_number": p.id_number,
        "name": p.name,
        "sex": p.sex,
        "birth_date": p.birth,
        "ethnicity": p.ethnicity,
        "hukou_code": home.hukou_code,
        "hukou_address": home.hukou_address,
        "household_relation": relation_to_head(p),
        "residence_code": home.residence_code,
        "residence_address": home.residence_address,
        "marital_status": p.marital,
        "first_marriage_date": p.married_on,
        "spouse_ref": p.spouse.key if p.spouse is not None else None,
        "phone": p.phone,
        "floating_status": home.floating,
    }
    if home.floating != "resident" and home.since is not None:
        data["floating_since"] = max(home.since, p.birth)
        data["floating_place"] = home.place
    p.key = v.add("person", today, data, [p])
    if p.key is not None:
        p.entered = today
    return p.key


def choose_method(v: Village, p: Person) -> str:
    """A married woman's method from the section 6 mix, as her family situation allows.

    Long-acting methods and sterilisation follow at least one child, so childless wives
    use condoms, pills or nothing (see ``rates.METHOD_MIX_MOTHERS``).
    """
    if v.chance(rates.NONE_SHARE):
        return "none"
    mix = rates.METHOD_MIX_MOTHERS if p.children else rates.METHOD_MIX_CHILDLESS
    method = v.rng.choices(*zip(*mix, strict=True))[0]
    if method == "male_sterilisation" and p.spouse is None:
        method = "female_sterilisation"
    return method
