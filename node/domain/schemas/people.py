# SPDX-License-Identifier: Apache-2.0
"""Schemas of the records about people and vital events (domain.md section 2).

The information card (``person``) and the events of the marriage, pregnancy, birth, birth
registration, death and move registers. A birth registration is a service record
(生育登记, 2021 amendment): it is registered and forwarded, and it has no field in which
it could be approved or refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from node.domain.messages import problem
from node.domain.resident_id import ResidentId, parse_resident_id
from node.domain.rules import MARITAL_STATUSES, check_age_band, check_not_before_birth
from node.domain.schemas.base import RecordSchema, collect, not_before
from node.domain.schemas.fields import (
    Bool,
    Choice,
    Digits,
    IdNumber,
    Int,
    IsoDate,
    PlaceCode,
    Ref,
    Text,
)
from node.errors import FieldProblem

SEXES = ("F", "M")
CARD_TYPES = ("woman", "family")
FLOATING_STATUSES = ("resident", "flowed_out", "flowed_in")
MOVE_DIRECTIONS = ("out", "in")
MOVE_REASONS = ("work", "marriage", "study", "family", "other")
# Women's information cards cover ages 15-49 (育龄妇女, 篇3 第27条).
CARD_AGE_BAND = (15, 49)
MAX_ORDER = 15
NAME_LENGTH = 40
ADDRESS_LENGTH = 200
PLACE_LENGTH = 100


def _id_facts(number: object, schema: RecordSchema) -> ResidentId | None:
    """The parts of an ID number that already loaded (so it parses), else None."""
    if not isinstance(number, str):
        return None
    return parse_resident_id(number, today=schema.today)


def id_consistency(
    facts: ResidentId | None, data: Mapping[str, Any], birth_field: str, sex_field: str
) -> list[FieldProblem]:
    """The stated birth date and sex agree with the ID number, when all three loaded."""
    if facts is None:
        return []
    out = []
    born = data.get(birth_field)
    if born is not None and born != facts.birth_date.isoformat():
        out.append(problem(birth_field, "id_number.birth_mismatch"))
    sex = data.get(sex_field)
    if sex is not None and sex != facts.sex:
        out.append(problem(sex_field, "id_number.sex_mismatch"))
    return out


class PersonSchema(RecordSchema):
    """An information card: a woman's card (15-49) or a family member's card."""

    card_type = Choice(CARD_TYPES)
    id_number = IdNumber()
    name = Text(max_length=NAME_LENGTH)
    sex = Choice(SEXES)
    birth_date = IsoDate()
    ethnicity = Text(max_length=20, required=False)
    hukou_code = PlaceCode(lengths=(12,))
    hukou_address = Text(max_length=ADDRESS_LENGTH)
    residence_code = PlaceCode(lengths=(12,))
    residence_address = Text(max_length=ADDRESS_LENGTH)
    marital_status = Choice(MARITAL_STATUSES)
    first_marriage_date = IsoDate(required=False)
    spouse_ref = Ref(required=False)
    phone = Digits(lo=5, hi=20, required=False)
    floating_status = Choice(FLOATING_STATUSES, required=False, load_default="resident")
    floating_since = IsoDate(required=False)
    floating_place = PlaceCode(required=False)

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        facts = _id_facts(data.get("id_number"), self)
        yield from id_consistency(facts, data, "birth_date", "sex")
        born = data.get("birth_date")
        if data.get("card_type") == "woman":
            if data.get("sex") not in (None, "F"):
                yield problem("card_type", "woman_card_sex")
            if born is not None:
                lo, hi = CARD_AGE_BAND
                yield from collect(check_age_band, born, self.today, lo, hi, field="card_type")
        married = data.get("first_marriage_date")
        if data.get("marital_status") == "unmarried" and married is not None:
            yield problem("first_marriage_date", "unmarried_with_marriage_date")
        for name in ("first_marriage_date", "floating_since"):
            if born is not None and data.get(name) is not None:
                yield from collect(check_not_before_birth, data[name], born, name)


class MarriageSchema(RecordSchema):
    """A marriage of a woman on a card (the 新婚 register)."""

    woman_ref = Ref()
    husband_name = Text(max_length=NAME_LENGTH)
    husband_id_number = IdNumber(required=False)
    marriage_date = IsoDate()
    first_marriage = Bool()
    registered_at = Text(max_length=PLACE_LENGTH)


class PregnancySchema(RecordSchema):
    """A pregnancy registered for maternal care (the 怀孕 register)."""

    woman_ref = Ref()
    registered_date = IsoDate()
    last_menstrual_date = IsoDate(required=False)
    expected_date = IsoDate(required=False, future=True)
    care_place = Text(max_length=PLACE_LENGTH)

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        yield from not_before(data, "expected_date", "last_menstrual_date", strictly=True)
        yield from not_before(data, "registered_date", "last_menstrual_date")


class BirthSchema(RecordSchema):
    """A birth, with its order and sex (the 出生 register)."""

    mother_ref = Ref()
    child_name = Text(max_length=NAME_LENGTH, required=False)
    child_sex = Choice(SEXES)
    birth_date = IsoDate()
    birth_order = Int(lo=1, hi=MAX_ORDER)
    birth_place = Text(max_length=PLACE_LENGTH)
    weight_g = Int(lo=300, hi=7000, required=False)
    child_id_number = IdNumber(required=False)

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        facts = _id_facts(data.get("child_id_number"), self)
        yield from id_consistency(facts, data, "birth_date", "child_sex")


class BirthRegistrationSchema(RecordSchema):
    """A birth registration (生育登记): a service, registered and forwarded, never refused."""

    mother_ref = Ref()
    father_name = Text(max_length=NAME_LENGTH)
    father_id_number = IdNumber(required=False)
    child_order = Int(lo=1, hi=MAX_ORDER)
    registered_date = IsoDate()
    village_opinion_date = IsoDate(required=False)
    forwarded_date = IsoDate(required=False)
    certificate_no = Text(max_length=40, required=False)

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        # The village gives its opinion, then forwards to the township (篇3 第11条).
        yield from not_before(data, "village_opinion_date", "registered_date")
        yield from not_before(data, "forwarded_date", "registered_date")
        yield from not_before(data, "forwarded_date", "village_opinion_date")


class DeathSchema(RecordSchema):
    """A death (the 死亡 register); later events of the person are refused by the store."""

    person_ref = Ref()
    death_date = IsoDate()
    place = Text(max_length=PLACE_LENGTH, required=False)


class MoveSchema(RecordSchema):
    """A move out of or into the village, between two division codes."""

    person_ref = Ref()
    direction = Choice(MOVE_DIRECTIONS)
    move_date = IsoDate()
    from_code = PlaceCode()
    to_code = PlaceCode()
    address = Text(max_length=ADDRESS_LENGTH, required=False)
    reason = Choice(MOVE_REASONS)

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        if data.get("from_code") is not None and data.get("from_code") == data.get("to_code"):
            yield problem("to_code", "same_place")
