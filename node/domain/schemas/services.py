# SPDX-License-Identifier: Apache-2.0
"""Schemas of the service records: what people chose and received (domain.md section 2).

Services are voluntary (domain.md 5), so these records document services given, never
targets: a procedure is stored only with informed consent, a health check never demands
a return to the hukou place, certificates and check report slips carry no fee, and no
record of any kind has a fee, fine, charge or penalty field (a test keeps it so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from node.domain import codes
from node.domain.rules import check_check_place, check_consent
from node.domain.schemas.base import RecordSchema, collect, not_before
from node.domain.schemas.fields import Bool, Choice, Int, IsoDate, Ref, Text
from node.errors import FieldProblem

MAX_QUANTITY = 1_000_000
PLACE_LENGTH = 100


class ContraceptiveProcedureSchema(RecordSchema):
    """A procedure the person chose and received (计划生育手术 register)."""

    person_ref = Ref(label="受术者")
    method = Choice(codes.PROCEDURE_METHODS, label="手术类别")
    chosen_date = IsoDate(label="自主选择日期")
    procedure_date = IsoDate(label="手术日期")
    provider = Text(max_length=PLACE_LENGTH, label="施术单位")
    informed_consent = Bool(label="知情同意")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        # The choice comes first; a procedure dated before it was not chosen.
        yield from not_before(data, "procedure_date", "chosen_date")
        if "informed_consent" in data:
            yield from collect(check_consent, data["informed_consent"])


class HealthCheckSchema(RecordSchema):
    """A reproductive-health check offered (at least every two years, 篇4 第33条).

    Whether a check of contraceptive status (a pregnancy check, a check of the method in
    use) may be organised depends on the woman's marital status, which is on her card;
    the store applies ``rules.check_no_contraceptive_check_unmarried``.
    """

    person_ref = Ref(label="受检者")
    check_type = Choice(codes.CHECK_TYPES, label="检查类别")
    scheduled_date = IsoDate(future=True, label="预约日期")
    done_date = IsoDate(required=False, label="检查日期")
    place = Text(max_length=PLACE_LENGTH, label="检查地点")
    requires_return_to_hukou = Bool(required=False, load_default=False, label="是否需回户籍地")
    result_summary = Text(max_length=500, multiline=True, required=False, label="检查结果摘要")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        if "requires_return_to_hukou" in data:
            yield from collect(check_check_place, data["requires_return_to_hukou"])


class FollowUpSchema(RecordSchema):
    """A follow-up visit after a procedure or to a contraceptive user (篇4 第36条)."""

    person_ref = Ref(label="随访对象")
    procedure_ref = Ref(required=False, label="相关手术")
    visit_date = IsoDate(label="随访日期")
    method_in_use = Choice(codes.METHODS_IN_USE, label="现用节育措施")
    notes = Text(max_length=1000, multiline=True, required=False, label="随访记录")


class CheckReportSlipSchema(RecordSchema):
    """The free check report slip (避孕节育情况报告单) a floating woman carries, with its
    stub kept here (篇10 第23条): she has her checks where she lives and shows the slip
    to her hukou place instead of travelling back (篇10 第20条). Issued free of charge.
    """

    person_ref = Ref(label="持单人")
    slip_no = Text(max_length=40, label="报告单编号")
    check_date = IsoDate(label="检查日期")
    check_place = Text(max_length=PLACE_LENGTH, label="检查单位")
    method_in_use = Choice(codes.METHODS_IN_USE, label="避孕节育情况")
    check_result = Choice(codes.CHECK_RESULTS, label="检查结论")
    issued_date = IsoDate(label="出具日期")
    issuer = Text(max_length=PLACE_LENGTH, label="出具单位")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        yield from not_before(data, "issued_date", "check_date")


class SupplyReceiptSchema(RecordSchema):
    """Free contraceptive supplies received into the village's stock."""

    item = Choice(codes.SUPPLY_ITEMS, label="药具名称")
    quantity = Int(lo=1, hi=MAX_QUANTITY, label="数量")
    received_date = IsoDate(label="入库日期")
    source = Text(max_length=PLACE_LENGTH, label="来源")


class SupplyHandoutSchema(RecordSchema):
    """Free supplies handed out; anonymous hand-outs (no person) are allowed.

    The stock is a fact of the store, which applies ``rules.check_stock`` day by day.
    """

    person_ref = Ref(required=False, label="领取人")
    item = Choice(codes.SUPPLY_ITEMS, label="药具名称")
    quantity = Int(lo=1, hi=MAX_QUANTITY, label="数量")
    handout_date = IsoDate(label="发放日期")


class OnlyChildCertificateSchema(RecordSchema):
    """An only-child parents' certificate (独生子女父母光荣证), issued free (篇10 第12条)."""

    parent_ref = Ref(label="持证人")
    child_name = Text(max_length=40, label="子女姓名")
    child_birth_date = IsoDate(label="子女出生日期")
    certificate_no = Text(max_length=40, label="证书编号")
    issued_date = IsoDate(label="发证日期")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        yield from not_before(data, "issued_date", "child_birth_date")
