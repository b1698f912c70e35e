# SPDX-License-Identifier: Apache-2.0
"""Schemas of the service records: what people chose and received (domain.md section 2).

Services are voluntary (domain.md 5), so these records document services given, never
targets: a procedure is stored only with informed consent, a health check never demands
a return to the hukou place, certificates carry no fee, and no record of any kind has a
fee, fine, charge or penalty field (a test keeps it so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from node.domain.messages import problem
from node.domain.rules import check_check_place, check_consent
from node.domain.schemas.base import RecordSchema, collect, not_before
from node.domain.schemas.fields import (
    Bool,
    Choice,
    Digits,
    IdNumber,
    Int,
    IsoDate,
    NestedRecord,
    Ref,
    Text,
)
from node.errors import FieldProblem

PROCEDURE_METHODS = (
    "iud_insertion",
    "iud_removal",
    "female_sterilisation",
    "male_sterilisation",
    "implant_insertion",
    "implant_removal",
    "other",
)
CHECK_TYPES = ("reproductive_health", "gynaecological", "pregnancy_check", "pre_pregnancy")
# The categories of Table 3 (已婚育龄夫妇节育情况), so follow-ups count straight into it.
METHODS_IN_USE = (
    "iud",
    "female_sterilisation",
    "male_sterilisation",
    "implant",
    "pill_injection",
    "condom",
    "other",
    "none",
)
SUPPLY_ITEMS = ("condom", "pill", "injection", "spermicide", "other")
BENEFIT_PROGRAMMES = ("reward_support", "special_support", "other")
BENEFIT_CHANGES = ("new", "moved_in", "moved_out", "died", "stopped")
COMPLAINT_CHANNELS = ("visit", "phone", "letter", "online")
COMPLAINT_STATUSES = ("received", "investigating", "answered", "closed")
MAX_QUANTITY = 1_000_000
PLACE_LENGTH = 100


class ContraceptiveProcedureSchema(RecordSchema):
    """A procedure the person chose and received (计划生育手术 register)."""

    person_ref = Ref()
    method = Choice(PROCEDURE_METHODS)
    chosen_date = IsoDate()
    procedure_date = IsoDate()
    provider = Text(max_length=PLACE_LENGTH)
    informed_consent = Bool()

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        # The choice comes first; a procedure dated before it was not chosen.
        yield from not_before(data, "procedure_date", "chosen_date")
        if "informed_consent" in data:
            yield from collect(check_consent, data["informed_consent"])


class HealthCheckSchema(RecordSchema):
    """A reproductive-health check offered (at least every two years, 篇4 第33条).

    Whether a pregnancy check may be scheduled depends on the woman's marital status,
    which is on her card; the store applies ``rules.check_pregnancy_check_allowed``.
    """

    person_ref = Ref()
    check_type = Choice(CHECK_TYPES)
    scheduled_date = IsoDate(future=True)
    done_date = IsoDate(required=False)
    place = Text(max_length=PLACE_LENGTH)
    requires_return_to_hukou = Bool(required=False, load_default=False)
    result_summary = Text(max_length=500, required=False)

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        if "requires_return_to_hukou" in data:
            yield from collect(check_check_place, data["requires_return_to_hukou"])


class FollowUpSchema(RecordSchema):
    """A follow-up visit after a procedure or to a contraceptive user (篇4 第36条)."""

    person_ref = Ref()
    procedure_ref = Ref(required=False)
    visit_date = IsoDate()
    method_in_use = Choice(METHODS_IN_USE)
    notes = Text(max_length=1000, required=False)


class SupplyReceiptSchema(RecordSchema):
    """Free contraceptive supplies received into the village's stock."""

    item = Choice(SUPPLY_ITEMS)
    quantity = Int(lo=1, hi=MAX_QUANTITY)
    received_date = IsoDate()
    source = Text(max_length=PLACE_LENGTH)


class SupplyHandoutSchema(RecordSchema):
    """Free supplies handed out; anonymous hand-outs (no person) are allowed.

    The stock balance is a fact of the store, which applies ``rules.check_stock``.
    """

    person_ref = Ref(required=False)
    item = Choice(SUPPLY_ITEMS)
    quantity = Int(lo=1, hi=MAX_QUANTITY)
    handout_date = IsoDate()


class BenefitSchema(RecordSchema):
    """A change of a benefit recipient (奖励扶助对象, 篇3 第12条)."""

    person_ref = Ref()
    programme = Choice(BENEFIT_PROGRAMMES)
    change = Choice(BENEFIT_CHANGES)
    # A change may take effect from next month's payment, so it may lie ahead.
    effective_date = IsoDate(future=True)
    checked_in_person_date = IsoDate(required=False)


class ReporterSchema(RecordSchema):
    """Who filed a complaint; sealed for a narrower set of readers (篇4 第18条)."""

    name = Text(max_length=40, required=False)
    phone = Digits(lo=5, hi=20, required=False)
    id_number = IdNumber(required=False)


class ComplaintSchema(RecordSchema):
    """A complaint or enquiry; the reporter may stay anonymous (no reporter at all)."""

    received_date = IsoDate()
    channel = Choice(COMPLAINT_CHANNELS)
    subject = Text(max_length=200)
    content = Text(max_length=5000)
    reporter = NestedRecord(ReporterSchema, required=False, load_default=None)
    handled_date = IsoDate(required=False)
    answered_date = IsoDate(required=False)
    status = Choice(COMPLAINT_STATUSES)

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        yield from not_before(data, "handled_date", "received_date")
        yield from not_before(data, "answered_date", "received_date")
        if data.get("status") == "answered" and "answered_date" in data:
            if data["answered_date"] is None:
                yield problem("answered_date", "answered_without_date")


class OnlyChildCertificateSchema(RecordSchema):
    """An only-child parents' certificate (独生子女父母光荣证), issued free (篇10 第12条)."""

    parent_ref = Ref()
    child_name = Text(max_length=40)
    child_birth_date = IsoDate()
    certificate_no = Text(max_length=40)
    issued_date = IsoDate()

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        yield from not_before(data, "issued_date", "child_birth_date")
