# SPDX-License-Identifier: Apache-2.0
"""The record kinds a node keeps, and the one entry point that validates a record.

Every write of a record goes through :func:`validate_record`, so the village UI, the
sync receiver and the importers reject the same things with the same bilingual words.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import Any

import marshmallow
from marshmallow import Schema

from node.domain.messages import problem
from node.domain.schemas.base import problems_from_errors, raise_problems
from node.domain.schemas.fields import as_of
from node.domain.schemas.office import (
    BenefitApplicationSchema,
    BenefitCheckSchema,
    BenefitSchema,
    ComplaintSchema,
    ReportSubmissionSchema,
)
from node.domain.schemas.people import (
    BirthRegistrationSchema,
    BirthSchema,
    DeathSchema,
    FloatingSchema,
    MaritalChangeSchema,
    MarriageSchema,
    MoveSchema,
    PersonSchema,
    PregnancySchema,
)
from node.domain.schemas.services import (
    CheckReportSlipSchema,
    ContraceptiveProcedureSchema,
    FollowUpSchema,
    HealthCheckSchema,
    OnlyChildCertificateSchema,
    SupplyHandoutSchema,
    SupplyReceiptSchema,
)
from node.errors import FieldProblem, ValidationError

RULESET = 3
"""The ruleset version this node writes its entries under (design.md: rules of a
published version never change; the county's ``county_aggregator/ruleset.py`` holds the
authority rules of each). Version 2 separates hukou moves from floating and adds the
floating, marital-change, benefit-workflow, check-slip and report-submission kinds;
version 3 adds the card's relationship to the head of the household (与户主关系)."""

KNOWN_RULESETS = frozenset({1, 2, 3})
"""Versions whose entries a node accepts from others (a county opening a batch)."""

RECORD_KINDS: dict[str, type[Schema]] = {
    "person": PersonSchema,
    "marriage": MarriageSchema,
    "marital_change": MaritalChangeSchema,
    "pregnancy": PregnancySchema,
    "birth": BirthSchema,
    "birth_registration": BirthRegistrationSchema,
    "death": DeathSchema,
    "move": MoveSchema,
    "floating": FloatingSchema,
    "contraceptive_procedure": ContraceptiveProcedureSchema,
    "health_check": HealthCheckSchema,
    "follow_up": FollowUpSchema,
    "check_report_slip": CheckReportSlipSchema,
    "supply_receipt": SupplyReceiptSchema,
    "supply_handout": SupplyHandoutSchema,
    "benefit": BenefitSchema,
    "benefit_application": BenefitApplicationSchema,
    "benefit_check": BenefitCheckSchema,
    "complaint": ComplaintSchema,
    "only_child_certificate": OnlyChildCertificateSchema,
    "report_submission": ReportSubmissionSchema,
}

KIND_LABELS: dict[str, str] = {
    "person": "人员信息卡",
    "marriage": "婚姻",
    "marital_change": "婚姻状况变动",
    "pregnancy": "怀孕",
    "birth": "出生",
    "birth_registration": "生育登记",
    "death": "死亡",
    "move": "户籍迁移",
    "floating": "流动",
    "contraceptive_procedure": "计划生育手术",
    "health_check": "健康检查",
    "follow_up": "随访",
    "check_report_slip": "避孕节育情况报告单",
    "supply_receipt": "药具入库",
    "supply_handout": "药具发放",
    "benefit": "奖励扶助对象变更",
    "benefit_application": "奖励扶助申请",
    "benefit_check": "奖励扶助对象本人核验",
    "complaint": "信访举报",
    "only_child_certificate": "独生子女父母光荣证",
    "report_submission": "报表报送",
}
"""The Chinese name of each record kind, as forms, registers and reports print it."""

# Fields whose whole value the store and the sync layer seal (encrypt for a narrower set
# of readers): a complainant's identity is never revealed to the party complained about
# (篇4 第18条), and township officers who handle the complaint need not see it either.
SEALED_FIELDS: dict[str, tuple[str, ...]] = {"complaint": ("reporter",)}

REF_KINDS: dict[str, str] = {
    "person_ref": "person",
    "woman_ref": "person",
    "mother_ref": "person",
    "parent_ref": "person",
    "spouse_ref": "person",
    "procedure_ref": "contraceptive_procedure",
    "application_ref": "benefit_application",
}
"""Fields that name another record of the same node, and the kind they name."""

SUBJECT_REFS = ("person_ref", "woman_ref", "mother_ref", "parent_ref")
"""The reference that says whose record it is (the person a record is about)."""


@functools.cache
def _schema(schema_class: type[Schema]) -> Schema:
    """One instance per kind: building a schema costs a third of a write, and the
    validation date lives in a ContextVar (as_of), so a shared instance is safe."""
    return schema_class()


def validate_record(kind: str, data: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """Validate one record and return it cleaned.

    Args:
        kind: a key of :data:`RECORD_KINDS`.
        data: the record's fields as JSON types (dates as 'YYYY-MM-DD' strings).
        today: the date "not in the future" and ages are judged against; passed in so
            that a replayed or re-checked record gets the same answer.

    Returns:
        A new dict with every field of the kind: text trimmed, ID numbers normalised,
        absent optional fields as None (or their default), dates still ISO strings.

    Raises:
        RuleViolation: only safeguards of domain.md section 5 refused the record.
        ValidationError: anything else is wrong (an unknown ``kind`` too, on field
            ``kind``); it lists every problem, rule problems included.
    """
    loaded, problems = load_record(kind, data, today=today)
    raise_problems(problems)
    return loaded


def load_record(
    kind: str, data: Mapping[str, Any], *, today: date
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Validate one record without raising: the fields that loaded, and every problem.

    A correction needs both (node/correcting.py): the record as it will stand, and the
    problems, so that one it already had on a field the officer left alone does not stop
    her correcting another field.

    Raises:
        ValidationError: an unknown ``kind`` (on field ``kind``).
    """
    schema_class = RECORD_KINDS.get(kind) if isinstance(kind, str) else None
    if schema_class is None:
        raise ValidationError([problem("kind", "unknown_kind")])
    with as_of(today):
        try:
            return dict(_schema(schema_class).load(data)), []
        except marshmallow.ValidationError as err:
            problems = problems_from_errors(err.messages)
            loaded = err.valid_data if isinstance(err.valid_data, dict) else {}
    if not problems:  # pragma: no cover
        raise AssertionError("marshmallow rejected the record without a message")
    return dict(loaded), problems
