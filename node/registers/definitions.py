# SPDX-License-Identifier: Apache-2.0
"""The registers of domain.md section 2, declared as data.

Each definition says which record kind a register lists, which date puts a record in a
month, and which columns it prints under which official heading. A column reads a field
of the record itself or, through a reference such as ``woman_ref``, a field of the
referenced card, so the register shows the name, ID number and addresses a township
checker needs without the record having to copy them.

Left out on purpose (least data, PIPL): health-check results and free-text follow-up
notes (the registers document services given, not findings), and any identity of a
complainant, which no column may name (checked at import time below).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node.registers.filters import (
    floating_mother,
    mask_name,
    passed_village_review,
    woman_on_card,
)
from node.registers.labels import REF_KINDS, is_sealed
from node.registers.model import MonthRange, Section
from node.registers.sections import benefit_roster, floating_roster, stock_ledger
from node.store.lookup import RecordLookup


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """A column: printed under ``heading``, read from ``field`` of the record, or of
    the record ``via`` names when ``via`` is a reference field."""

    key: str
    heading: str
    field: str
    via: str | None = None
    transform: Callable[[Any], Any] | None = None


SectionBuilder = Callable[[RecordLookup, MonthRange], tuple[Section, ...]]
Keep = Callable[[RecordLookup, dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class RegisterDef:
    """One register: its name, title, record kind, date field and columns.

    ``annual``: printed per statistical year (2026Y) instead of per month; ``keep``
    leaves out records the register is not about; ``public``: printed for the public
    (no record id column).
    """

    name: str
    title: str
    kind: str
    date_field: str
    columns: tuple[ColumnSpec, ...]
    sections: SectionBuilder | None = None
    annual: bool = False
    keep: Keep | None = None
    public: bool = False


def rec(field: str, heading: str, key: str | None = None) -> ColumnSpec:
    """A column read from the record itself."""
    return ColumnSpec(key or field, heading, field)


def card(via: str, field: str, heading: str, key: str | None = None) -> ColumnSpec:
    """A column read from the record that the reference field ``via`` names."""
    return ColumnSpec(key or field, heading, field, via)


def identity(
    via: str, *, who: str = "", birth: bool = False, hukou: bool = True, residence: bool = True
) -> tuple[ColumnSpec, ...]:
    """The identity columns every register about a person starts with."""
    cols = [card(via, "name", f"{who}姓名"), card(via, "id_number", f"{who}身份证号码")]
    if birth:
        cols.append(card(via, "birth_date", "出生日期"))
    if hukou:
        cols.append(card(via, "hukou_address", "户籍地址"))
    if residence:
        cols.append(card(via, "residence_address", "现居住地址"))
    return tuple(cols)


def _definitions() -> tuple[RegisterDef, ...]:
    return (
        RegisterDef(
            "marriages",
            "新婚登记册",
            "marriage",
            "marriage_date",
            (
                *identity("woman_ref", who="女方", birth=True),
                card("woman_ref", "marital_status", "婚姻状况"),
                rec("husband_name", "男方姓名"),
                rec("husband_id_number", "男方身份证号码"),
                rec("marriage_date", "结婚登记日期"),
                rec("first_marriage", "是否初婚"),
                rec("registered_at", "婚姻登记机关"),
            ),
        ),
        RegisterDef(
            "pregnancies",
            "怀孕登记册",
            "pregnancy",
            "registered_date",
            (
                *identity("woman_ref", birth=True),
                rec("registered_date", "登记日期"),
                rec("last_menstrual_date", "末次月经日期"),
                rec("expected_date", "预产期"),
                rec("care_place", "孕期保健地点"),
            ),
        ),
        RegisterDef(
            "births",
            "出生登记册",
            "birth",
            "birth_date",
            (
                *identity("mother_ref", who="母亲"),
                rec("child_name", "婴儿姓名"),
                rec("child_sex", "性别"),
                rec("birth_date", "出生日期"),
                rec("birth_order", "孩次"),
                rec("birth_place", "出生地点"),
                rec("weight_g", "出生体重（克）"),
                rec("child_id_number", "婴儿身份证号码"),
            ),
        ),
        RegisterDef(
            "birth_registrations",
            "生育登记册",
            "birth_registration",
            "registered_date",
            (
                *identity("mother_ref", who="母亲"),
                rec("father_name", "父亲姓名"),
                rec("father_id_number", "父亲身份证号码"),
                rec("child_order", "孩次"),
                rec("registered_date", "登记日期"),
                card("mother_ref", "floating_status", "母亲流动状态"),
                rec("hukou_checked_date", "与户籍地核实日期"),
                rec("forwarded_date", "报送乡镇日期"),
                rec("township_registered_date", "乡镇登记日期"),
                rec("hukou_notified_date", "告知户籍地日期"),
                rec("certificate_no", "生育登记服务单编号"),
            ),
        ),
        RegisterDef(
            "procedures",
            "计划生育手术登记册",
            "contraceptive_procedure",
            "procedure_date",
            (
                *identity("person_ref", birth=True),
                rec("method", "手术类别"),
                rec("chosen_date", "自主选择日期"),
                rec("procedure_date", "手术日期"),
                rec("provider", "施术单位"),
                rec("informed_consent", "知情同意"),
            ),
        ),
        RegisterDef(
            "certificates",
            "独生子女父母光荣证发放登记册",
            "only_child_certificate",
            "issued_date",
            (
                *identity("parent_ref", who="持证人", residence=False),
                rec("child_name", "子女姓名"),
                rec("child_birth_date", "子女出生日期"),
                rec("certificate_no", "证书编号"),
                rec("issued_date", "发证日期"),
            ),
        ),
        RegisterDef(
            "deaths",
            "死亡登记册",
            "death",
            "death_date",
            (
                *identity("person_ref", birth=True, residence=False),
                card("person_ref", "sex", "性别"),
                rec("death_date", "死亡日期"),
                rec("place", "死亡地点"),
            ),
        ),
        RegisterDef(
            "health_checks",
            "生殖健康检查登记册",
            "health_check",
            "done_date",  # checks done; one scheduled but not yet done is not a service given
            (
                *identity("person_ref", birth=True),
                rec("check_type", "检查类别"),
                rec("scheduled_date", "预约日期"),
                rec("done_date", "检查日期"),
                rec("place", "检查地点"),
            ),
        ),
        RegisterDef(
            "follow_ups",
            "术后随访登记册",
            "follow_up",
            "visit_date",
            (
                *identity("person_ref", hukou=False),
                rec("visit_date", "随访日期"),
                rec("method_in_use", "现用节育措施"),
                card("procedure_ref", "method", "相关手术类别", key="procedure_method"),
                card("procedure_ref", "procedure_date", "相关手术日期", key="procedure_date"),
            ),
        ),
        RegisterDef(
            "supplies",
            "避孕药具发放登记册",
            "supply_handout",
            "handout_date",
            (
                card("person_ref", "name", "领取人姓名"),
                card("person_ref", "id_number", "身份证号码"),
                rec("item", "药具名称"),
                rec("quantity", "数量"),
                rec("handout_date", "发放日期"),
            ),
            stock_ledger,
        ),
        RegisterDef(
            "benefits",
            "奖励扶助对象变更登记册",
            "benefit",
            "effective_date",
            (
                *identity("person_ref", residence=False),
                rec("programme", "扶助项目"),
                rec("change", "变更类别"),
                rec("effective_date", "生效日期"),
                rec("annual_amount", "扶助金额（元/年）"),
            ),
            benefit_roster,
        ),
        RegisterDef(
            "benefit_notice",
            "奖励扶助对象公示名单",
            "benefit_application",
            "notice_from",
            (
                ColumnSpec("name", "姓名", "name", "person_ref", mask_name),
                card("person_ref", "sex", "性别"),
                rec("programme", "扶助项目"),
                rec("notice_from", "公示开始日期"),
                rec("notice_until", "公示结束日期"),
            ),
            keep=passed_village_review,
            public=True,
        ),
        RegisterDef(
            "floating_women",
            "流入流出育龄妇女登记册",
            "floating",
            "event_date",
            (
                *identity("person_ref", birth=True),
                rec("event", "流动类别"),
                rec("event_date", "流动日期"),
                rec("place_code", "对方地区划代码"),
                rec("address", "对方地址"),
                rec("reason", "流动原因"),
            ),
            floating_roster,
            keep=woman_on_card,
        ),
        RegisterDef(
            "floating_births",
            "流动人口子女出生登记册",
            "birth",
            "birth_date",
            (
                *identity("mother_ref", who="母亲"),
                card("mother_ref", "floating_place", "母亲户籍地区划代码"),
                rec("child_name", "婴儿姓名"),
                rec("child_sex", "性别"),
                rec("birth_date", "出生日期"),
                rec("birth_order", "孩次"),
                rec("birth_place", "出生地点"),
            ),
            annual=True,
            keep=floating_mother,
        ),
        RegisterDef(
            "check_slips",
            "避孕节育情况报告单存根登记册",
            "check_report_slip",
            "issued_date",
            (
                *identity("person_ref", birth=True),
                rec("slip_no", "报告单编号"),
                rec("check_date", "检查日期"),
                rec("check_place", "检查单位"),
                rec("method_in_use", "避孕节育情况"),
                rec("check_result", "检查结论"),
                rec("issued_date", "出具日期"),
            ),
        ),
        RegisterDef(
            "complaints",
            "信访举报登记册",
            "complaint",
            "received_date",
            (
                rec("category", "类别"),
                rec("received_date", "受理日期"),
                rec("channel", "信访形式"),
                rec("subject", "事由"),
                rec("content", "内容摘要"),
                rec("first_contact_officer", "首问责任人"),
                rec("handled_date", "办理（调查）日期"),
                rec("answered_date", "答复日期"),
                rec("status", "办理状态"),
            ),
        ),
    )


def _check(definitions: tuple[RegisterDef, ...]) -> dict[str, RegisterDef]:
    """Refuse, at import, a definition that could print a sealed field or read a
    reference that is not one: a mistake here must never reach paper."""
    for d in definitions:
        for col in d.columns:
            target = d.kind if col.via is None else REF_KINDS.get(col.via)
            if target is None:
                raise ValueError(f"{d.name}: column {col.key} reads through unknown ref {col.via}")
            if is_sealed(target, col.field):
                raise ValueError(f"{d.name}: column {col.key} would print sealed {col.field}")
        keys = [c.key for c in d.columns]
        if len(set(keys)) != len(keys) or {"no", "record_id"} & set(keys):
            raise ValueError(f"{d.name}: column keys must be unique and not reserved")
    return {d.name: d for d in definitions}


REGISTERS: dict[str, RegisterDef] = _check(_definitions())
"""Every register by its English name, in the order of domain.md section 2."""
