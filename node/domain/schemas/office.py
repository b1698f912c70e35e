# SPDX-License-Identifier: Apache-2.0
"""Schemas of the office's own work: benefits, complaints and tip-offs, reports sent.

Benefits (奖励扶助, 篇3 第12条, 篇4 第16条) run application -> village review (with the
public notice, 公示) -> township review -> payment certificate; each step is a date on the
application, so the officer sees where it stands and the open items know what is due.
Recipients' changes and the twice-yearly in-person checks are records of their own.

A complaint (信访) is followed by its first-contact officer until answered; a tip-off
(举报) is investigated within 5 working days; in both the reporter's identity is sealed
for the county alone (篇4 第18条, ``records.SEALED_FIELDS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from node.domain import codes
from node.domain.messages import problem
from node.domain.schemas.base import RecordSchema, in_order, not_before
from node.domain.schemas.fields import (
    Choice,
    Digits,
    IdNumber,
    Int,
    IsoDate,
    NestedRecord,
    RecordField,
    Ref,
    Text,
    fail,
)
from node.errors import FieldProblem

# Yuan per person and year. The national standard of the rural reward support was 960
# yuan a year for a long time; counties add to it. The bound only stops a typing slip.
MAX_ANNUAL_AMOUNT = 100_000
NAME_LENGTH = 40
# ASCII digits only: \d also matches full-width ones (２０２６-０３), which int()
# reads but which would name the period differently from its ASCII twin.
_PERIOD = re.compile(r"[0-9]{4}(?:-(?:0[1-9]|1[0-2])|H1|Y)\Z")


class BenefitSchema(RecordSchema):
    """A change of a benefit recipient (奖励扶助对象, 篇3 第12条), recorded in the month."""

    person_ref = Ref(label="扶助对象")
    programme = Choice(codes.BENEFIT_PROGRAMMES, label="扶助项目")
    change = Choice(codes.BENEFIT_CHANGES, label="变更类别")
    # A change may take effect from next month's payment, so it may lie ahead.
    effective_date = IsoDate(future=True, label="生效日期")
    checked_in_person_date = IsoDate(required=False, label="本人核验日期")
    annual_amount = Int(lo=1, hi=MAX_ANNUAL_AMOUNT, required=False, label="扶助金额（元/年）")
    application_ref = Ref(required=False, label="扶助申请")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        if data.get("change") in codes.ACTIVE_CHANGES and "annual_amount" in data:
            if data["annual_amount"] is None:
                yield problem("annual_amount", "amount_needed")


class BenefitApplicationSchema(RecordSchema):
    """An application for a benefit and its way through the reviews.

    The village reviews it and posts the public notice (公示: masked names, no health
    data); the township reviews it and the payment certificate (扶助金发放证) is issued.
    A step follows only a step that passed; a review date and its result come together.
    """

    person_ref = Ref(label="申请人")
    programme = Choice(codes.BENEFIT_PROGRAMMES, label="扶助项目")
    applied_date = IsoDate(label="申请日期")
    village_reviewed_date = IsoDate(required=False, label="村级审核日期")
    village_result = Choice(codes.REVIEW_RESULTS, required=False, label="村级审核结果")
    notice_from = IsoDate(required=False, label="公示开始日期")
    notice_until = IsoDate(required=False, future=True, label="公示结束日期")
    township_reviewed_date = IsoDate(required=False, label="乡镇审核日期")
    township_result = Choice(codes.REVIEW_RESULTS, required=False, label="乡镇审核结果")
    certificate_no = Text(max_length=40, required=False, label="扶助金发放证编号")
    certificate_date = IsoDate(required=False, label="发证日期")
    annual_amount = Int(lo=1, hi=MAX_ANNUAL_AMOUNT, required=False, label="扶助金额（元/年）")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        yield from in_order(
            data,
            "applied_date",
            "village_reviewed_date",
            "notice_from",
            "notice_until",
            "township_reviewed_date",
            "certificate_date",
        )
        for day, result in (
            ("village_reviewed_date", "village_result"),
            ("township_reviewed_date", "township_result"),
            ("certificate_date", "certificate_no"),
        ):
            yield from _together(data, day, result)
        steps = (
            ("village_result", ("notice_from", "township_reviewed_date")),
            ("township_result", ("certificate_date",)),
        )
        for result, later in steps:
            if data.get(result) == "not_passed":
                for name in later:
                    if data.get(name) is not None:
                        yield problem(name, "review_not_passed")
        if data.get("certificate_date") is not None and data.get("annual_amount") is None:
            if "annual_amount" in data:
                yield problem("annual_amount", "amount_needed")


def _together(data: Mapping[str, Any], day: str, other: str) -> list[FieldProblem]:
    """A dated step and what it decided are recorded together, never one alone."""
    if day not in data or other not in data:
        return []
    if data[day] is None and data[other] is not None:
        return [problem(day, "step_incomplete")]
    if data[day] is not None and data[other] is None:
        return [problem(other, "step_incomplete")]
    return []


class BenefitCheckSchema(RecordSchema):
    """The in-person check of a recipient, twice a year (篇4 第16条): it is what stops
    payments to the dead, so a check that finds the recipient dead says so."""

    person_ref = Ref(label="扶助对象")
    programme = Choice(codes.BENEFIT_PROGRAMMES, label="扶助项目")
    checked_date = IsoDate(label="核验日期")
    result = Choice(codes.BENEFIT_CHECK_RESULTS, label="核验结果")
    checker = Text(max_length=NAME_LENGTH, label="核验人")


class ReporterSchema(RecordSchema):
    """Who filed a complaint or a tip-off; sealed for a narrower set of readers (篇4 第18条)."""

    name = Text(max_length=40, required=False, label="姓名")
    phone = Digits(lo=5, hi=20, required=False, label="联系电话")
    id_number = IdNumber(required=False, label="身份证号码")


class ComplaintSchema(RecordSchema):
    """A complaint or enquiry (信访), or a tip-off (举报); the reporter may stay anonymous.

    A complaint is followed by ``first_contact_officer`` (首问负责) until it is answered;
    a tip-off is investigated within 5 working days (``handled_date``).
    """

    category = Choice(
        codes.COMPLAINT_CATEGORIES, required=False, load_default="complaint", label="类别"
    )
    received_date = IsoDate(label="受理日期")
    channel = Choice(codes.COMPLAINT_CHANNELS, label="信访形式")
    subject = Text(max_length=200, label="事由")
    content = Text(max_length=5000, multiline=True, label="内容")
    reporter = NestedRecord(ReporterSchema, required=False, load_default=None, label="反映人")
    first_contact_officer = Text(max_length=NAME_LENGTH, required=False, label="首问责任人")
    handled_date = IsoDate(required=False, label="办理（调查）日期")
    answered_date = IsoDate(required=False, label="答复日期")
    status = Choice(codes.COMPLAINT_STATUSES, label="办理状态")

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        yield from not_before(data, "handled_date", "received_date")
        yield from not_before(data, "answered_date", "received_date")
        if data.get("status") == "answered" and "answered_date" in data:
            if data["answered_date"] is None:
                yield problem("answered_date", "answered_without_date")


class Period(RecordField):
    """A reporting period as the reports name it: 2026-03, 2026H1 or 2026Y."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not _PERIOD.match(value):
            raise fail("period_format")
        return value


class ReportSubmissionSchema(RecordSchema):
    """A report sent up (报表报送): what, for which period, when and to whom.

    The open item of a report stays on the officer's list until this is recorded.
    """

    report = Choice(codes.REPORTS, label="报表")
    period = Period(label="统计期")
    sent_date = IsoDate(label="报送日期")
    sent_to = Text(max_length=100, required=False, label="报送单位")
