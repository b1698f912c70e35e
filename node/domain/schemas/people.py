# SPDX-License-Identifier: Apache-2.0
"""Schemas of the records about people and vital events (domain.md section 2).

The information card (``person``) and the events of the marriage, pregnancy, birth, birth
registration, death, hukou-move and floating registers. Two kinds of leaving are never
confused (domain.md section 2): a hukou move (``move``, 迁入/迁出) moves the registered
residence and closes the card at the old village; floating (``floating``, 流入/流出)
leaves the hukou where it is, and the hukou village keeps the card open.

A birth registration is a service record (生育登记, 2021 amendment): it is registered and
passed on, with no field in which it could be approved, refused or given an "opinion",
and the father's name is optional, so an unmarried mother registers too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from node.domain import codes
from node.domain.messages import problem
from node.domain.resident_id import ResidentId, parse_resident_id
from node.domain.rules import check_age_band, check_not_before_birth
from node.domain.schemas.base import RecordSchema, collect, in_order, not_before
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
    """An information card: a woman's card (15-49) or a family member's card.

    The floating fields say what the card's floating records say (node/domain/effects):
    a card entered as floating gets its floating record in the same write, and later
    changes of floating state are floating records, not edits of these fields.
    """

    card_type = Choice(codes.CARD_TYPES, label="卡片类别")
    id_number = IdNumber(label="身份证号码")
    name = Text(max_length=NAME_LENGTH, label="姓名")
    sex = Choice(codes.SEXES, label="性别")
    birth_date = IsoDate(label="出生日期")
    ethnicity = Text(max_length=20, required=False, label="民族")
    hukou_code = PlaceCode(lengths=(12,), label="户籍地区划代码")
    hukou_address = Text(max_length=ADDRESS_LENGTH, label="户籍地址")
    household_relation = Choice(codes.HOUSEHOLD_RELATIONS, required=False, label="与户主关系")
    residence_code = PlaceCode(lengths=(12,), label="现居住地区划代码")
    residence_address = Text(max_length=ADDRESS_LENGTH, label="现居住地址")
    marital_status = Choice(codes.MARITAL_STATUSES, label="婚姻状况")
    first_marriage_date = IsoDate(required=False, label="初婚日期")
    spouse_ref = Ref(required=False, label="配偶")
    phone = Digits(lo=5, hi=20, required=False, label="联系电话")
    floating_status = Choice(
        codes.FLOATING_STATUSES, required=False, load_default="resident", label="流动状态"
    )
    floating_since = IsoDate(required=False, label="流动起始日期")
    floating_place = PlaceCode(required=False, label="流入（流出）地区划代码")

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
        if data.get("floating_status") in ("flowed_in", "flowed_out"):
            for name in ("floating_since", "floating_place"):
                if name in data and data[name] is None:
                    yield problem(name, "floating_needs")


class MarriageSchema(RecordSchema):
    """A marriage of a woman on a card (the 新婚 register)."""

    woman_ref = Ref(label="女方")
    husband_name = Text(max_length=NAME_LENGTH, label="男方姓名")
    husband_id_number = IdNumber(required=False, label="男方身份证号码")
    marriage_date = IsoDate(label="结婚登记日期")
    first_marriage = Bool(label="是否初婚")
    registered_at = Text(max_length=PLACE_LENGTH, label="婚姻登记机关")


class MaritalChangeSchema(RecordSchema):
    """A divorce or a widowhood (婚姻状况变动), dated, so that every table can tell a
    woman's marital status as at its period's end rather than as her card says today."""

    person_ref = Ref(label="本人")
    marital_status = Choice(codes.MARITAL_CHANGES, label="变动后婚姻状况")
    change_date = IsoDate(label="变动日期")


class PregnancySchema(RecordSchema):
    """A pregnancy registered for maternal care (the 怀孕 register)."""

    woman_ref = Ref(label="孕妇")
    registered_date = IsoDate(label="登记日期")
    last_menstrual_date = IsoDate(required=False, label="末次月经日期")
    expected_date = IsoDate(required=False, future=True, label="预产期")
    care_place = Text(max_length=PLACE_LENGTH, label="孕期保健地点")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        yield from not_before(data, "expected_date", "last_menstrual_date", strictly=True)
        yield from not_before(data, "registered_date", "last_menstrual_date")


class BirthSchema(RecordSchema):
    """A birth, with its order and sex (the 出生 register)."""

    mother_ref = Ref(label="母亲")
    child_name = Text(max_length=NAME_LENGTH, required=False, label="婴儿姓名")
    child_sex = Choice(codes.SEXES, label="婴儿性别")
    birth_date = IsoDate(label="出生日期")
    birth_order = Int(lo=1, hi=MAX_ORDER, label="孩次")
    birth_place = Text(max_length=PLACE_LENGTH, label="出生地点")
    weight_g = Int(lo=300, hi=7000, required=False, label="出生体重（克）")
    child_id_number = IdNumber(required=False, label="婴儿身份证号码")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        facts = _id_facts(data.get("child_id_number"), self)
        yield from id_consistency(facts, data, "birth_date", "child_sex")


class BirthRegistrationSchema(RecordSchema):
    """A birth registration (生育登记): a service, registered and passed on, never refused.

    The village passes it to the township within 5 working days (篇3 第11条). For a
    floating woman registering where she lives, the village first checks with her hukou
    place, the township registers within 10 working days and tells the hukou place
    within 10 more (篇10 第15条); the dates of those steps are kept here.
    """

    mother_ref = Ref(label="母亲")
    father_name = Text(max_length=NAME_LENGTH, required=False, label="父亲姓名")
    father_id_number = IdNumber(required=False, label="父亲身份证号码")
    child_order = Int(lo=1, hi=MAX_ORDER, label="孩次")
    registered_date = IsoDate(label="登记日期")
    hukou_checked_date = IsoDate(required=False, label="与户籍地核实日期")
    forwarded_date = IsoDate(required=False, label="报送乡镇日期")
    township_registered_date = IsoDate(required=False, label="乡镇登记日期")
    hukou_notified_date = IsoDate(required=False, label="告知户籍地日期")
    certificate_no = Text(max_length=40, required=False, label="生育登记服务单编号")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        yield from in_order(
            data,
            "registered_date",
            "hukou_checked_date",
            "forwarded_date",
            "township_registered_date",
            "hukou_notified_date",
        )


class DeathSchema(RecordSchema):
    """A death (the 死亡 register); later events of the person are refused by the store."""

    person_ref = Ref(label="死者")
    death_date = IsoDate(label="死亡日期")
    place = Text(max_length=PLACE_LENGTH, required=False, label="死亡地点")


class MoveSchema(RecordSchema):
    """A hukou move (户籍迁移, 迁入/迁出) between two division codes.

    Moving out closes the card here (reason: moved away); moving in opens or keeps the
    card here as a hukou card. Living elsewhere with the hukou here is floating
    (:class:`FloatingSchema`), never a move.
    """

    person_ref = Ref(label="迁移人员")
    direction = Choice(codes.MOVE_DIRECTIONS, label="迁移类别")
    move_date = IsoDate(label="户籍迁移日期")
    from_code = PlaceCode(label="迁出地区划代码")
    to_code = PlaceCode(label="迁入地区划代码")
    address = Text(max_length=ADDRESS_LENGTH, required=False, label="迁入地址")
    reason = Choice(codes.MOVE_REASONS, label="迁移原因")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        if data.get("from_code") is not None and data.get("from_code") == data.get("to_code"):
            yield problem("to_code", "same_place")


class FloatingSchema(RecordSchema):
    """A change of floating state (流动): out, in, back home, or away from here.

    ``place_code`` is the other place: where she went (流出), where her hukou is (流入),
    where she came back from (返回) or went on to (离开). Floating population work counts
    people who crossed a county line, aged 18-49 (篇10 第3条); the county tells that from
    this code, so it is recorded for every floating event.
    """

    person_ref = Ref(label="流动人员")
    event = Choice(codes.FLOATING_EVENTS, label="流动类别")
    event_date = IsoDate(label="流动日期")
    place_code = PlaceCode(label="对方地区划代码")
    address = Text(max_length=ADDRESS_LENGTH, required=False, label="对方地址")
    reason = Choice(codes.MOVE_REASONS, required=False, label="流动原因")
