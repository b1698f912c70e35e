# SPDX-License-Identifier: Apache-2.0
"""Judging a change of some fields of a stored record: only what the change breaks.

A record is judged whole after a change (validation and the village checks), but the
world has moved on since it was entered: a woman whose card was entered at 40 is past 49
today, a pregnancy check was recorded before a divorce. A correction of her phone number
must not be refused by the age-band rule, which is about her card type and birth date,
nor a correction of a check's place by today's marital status. So a problem blocks a
change only if the change touches its field, or the record did not already have it as
stored; every problem the change itself causes still refuses it, as for a new record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from node.checks import RecordSource, check_record
from node.domain.records import load_record
from node.domain.schemas.base import raise_problems
from node.errors import FieldProblem, ValidationError


def validate_change(
    kind: str, held: Mapping[str, Any], changes: Mapping[str, Any], *, today: date
) -> dict[str, Any]:
    """The record ``held`` with ``changes`` applied, validated as of ``today``.

    Args:
        held: the stored record's fields (those of today's form for its kind).
        changes: field -> new value.

    Returns:
        The cleaned record; a field that failed only as it was already stored keeps its
        stored value.

    Raises:
        ValidationError / RuleViolation: the problems the change causes, every one.
    """
    loaded, problems = load_record(kind, {**held, **changes}, today=today)
    if not problems:
        return loaded
    _before, already = load_record(kind, held, today=today)
    raise_problems(_caused(problems, already, _touched(held, changes, loaded)))
    return {**{k: v for k, v in held.items() if k not in loaded}, **loaded}


def check_change(
    source: RecordSource,
    kind: str,
    record_id: str,
    held: Mapping[str, Any],
    clean: dict[str, Any],
    changes: Mapping[str, Any],
) -> None:
    """The village checks (node/checks.py) of the record as it will stand.

    Raises:
        ValidationError / RuleViolation: the problems the change causes.
    """
    try:
        check_record(source, kind, clean, record_id=record_id)
    except ValidationError as exc:
        try:
            check_record(source, kind, dict(held), record_id=record_id)
            already: list[FieldProblem] = []
        except ValidationError as before:
            already = before.problems
        caused = _caused(exc.problems, already, _touched(held, changes, clean))
        if caused:
            raise type(exc)(caused) from None


def _touched(
    held: Mapping[str, Any], changes: Mapping[str, Any], loaded: Mapping[str, Any]
) -> set[str]:
    """The fields whose value the change alters: a form sends every field, most of them
    as they were, and a field sent unchanged is not touched."""
    return {k for k, v in changes.items() if loaded.get(k, v) != held.get(k)}


def _caused(
    problems: Iterable[FieldProblem], already: Iterable[FieldProblem], touched: set[str]
) -> list[FieldProblem]:
    """Problems on a field the change alters, or that the stored record did not have."""
    had = {(p.field, p.code) for p in already}
    return [p for p in problems if p.field.split(".")[0] in touched or (p.field, p.code) not in had]
