# SPDX-License-Identifier: Apache-2.0
"""The base record schema and the conversion of marshmallow errors into node errors.

An officer fixes a rejected card in one pass only if she sees every problem at once, so
cross-field checks run even when some fields failed (on the fields that loaded), and the
converter keeps every message marshmallow collected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, validates_schema
from marshmallow.exceptions import SCHEMA

from node.domain.messages import Message, is_rule_code, message
from node.domain.rules import as_date
from node.domain.schemas.fields import validation_today
from node.errors import FieldProblem, RuleViolation
from node.errors import ValidationError as NodeValidationError

ROOT_FIELD = "record"
_FALLBACK = message("invalid")


class RecordSchema(Schema):
    """Base of the record schemas: unknown fields rejected, catalogue messages only."""

    class Meta:
        unknown = RAISE

    # marshmallow declares an instance dict[str, str]; ours hold catalogue Messages.
    error_messages: ClassVar[dict[str, Any]] = {  # type: ignore[misc]  # Messages, not str
        "unknown": message("unknown_field"),
        "type": message("not_object"),
    }

    def cross_checks(self, data: Mapping[str, Any]) -> Iterable[FieldProblem]:
        """Problems involving several fields; ``data`` holds only fields that loaded.

        Subclasses yield problems, or call a rule with :func:`collect` and yield from it.
        """
        return ()

    @validates_schema(skip_on_field_errors=False)
    def _run_cross_checks(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[Message]] = {}
        for p in self.cross_checks(data):
            errors.setdefault(p.field, []).append(Message(p.code, p.zh, p.en))
        if errors:
            raise ValidationError(errors)

    @property
    def today(self) -> date:
        """The date the record is validated as of (set by ``validate_record``)."""
        return validation_today()


def collect(check: Callable[..., None], *args: Any, **kwargs: Any) -> list[FieldProblem]:
    """Run one ``check_*`` and return its problems instead of raising them."""
    try:
        check(*args, **kwargs)
    except NodeValidationError as err:
        return list(err.problems)
    return []


def not_before(
    data: Mapping[str, Any], later: str, earlier: str, *, strictly: bool = False
) -> list[FieldProblem]:
    """``later`` is not before (or, ``strictly``, after) ``earlier``, when both are present."""
    a, b = data.get(later), data.get(earlier)
    if a is None or b is None:
        return []
    if strictly and as_date(a) <= as_date(b):
        return [message("date_not_after", other=earlier).at(later)]
    if as_date(a) < as_date(b):
        return [message("date_order", other=earlier).at(later)]
    return []


def in_order(data: Mapping[str, Any], *names: str) -> list[FieldProblem]:
    """The steps of a workflow, dated in the order given: each date present is not
    before the last earlier step that has one (a skipped step does not break the chain)."""
    out: list[FieldProblem] = []
    for i, later in enumerate(names[1:], start=1):
        earlier = next((n for n in reversed(names[:i]) if data.get(n) is not None), None)
        if earlier is not None:
            out += not_before(data, later, earlier)
    return out


def problems_from_errors(errors: Any, path: str = "") -> list[FieldProblem]:
    """Flatten marshmallow's error structure into FieldProblems with dotted paths.

    Args:
        errors: ``ValidationError.messages``: a dict of field (or list index) to a list of
            messages or to a nested dict, ``_schema`` for the record itself.
        path: the dotted path of ``errors`` within the record.

    Returns:
        One problem per message; a plain marshmallow string (which our fields never
        produce) still comes out bilingual, with the generic ``invalid`` wording.
    """
    if isinstance(errors, Mapping):
        out: list[FieldProblem] = []
        for key, value in errors.items():
            sub = path if key == SCHEMA else (f"{path}.{key}" if path else str(key))
            out.extend(problems_from_errors(value, sub))
        return out
    if isinstance(errors, list):
        return [p for item in errors for p in problems_from_errors(item, path)]
    field = path or ROOT_FIELD
    if isinstance(errors, Message):
        return [errors.at(field)]
    return [FieldProblem(field, _FALLBACK.code, _FALLBACK.zh, f"{_FALLBACK.en} ({errors})")]


def raise_problems(problems: list[FieldProblem]) -> None:
    """Raise RuleViolation if only safeguards refused, else ValidationError (if any).

    The distinction lets the edge answer 422 "the law forbids this" apart from 400
    "the form is wrong", while a mixed record still lists everything in one error.
    """
    if not problems:
        return
    if all(is_rule_code(p.code) for p in problems):
        raise RuleViolation(problems)
    raise NodeValidationError(problems)
