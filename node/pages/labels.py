# SPDX-License-Identifier: Apache-2.0
"""Chinese names of record kinds, fields and coded values, for pages.

A schema field's own metadata wins (``metadata={"label": "姓名", "choices": {...}}``,
where the domain declares it), so labels the domain adds flow into every form and card
without a change here; otherwise the names the printed registers use
(node/registers/labels.py), so a page and a register never name a thing two ways. An
unknown code is shown as stored rather than hidden.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from node.domain.records import RECORD_KINDS
from node.registers import labels as printed


def schema_fields(kind: str) -> dict[str, fields.Field[Any]]:
    """The declared fields of ``kind``, in declaration order ({} for an unknown kind)."""
    schema_class = RECORD_KINDS.get(kind)
    return dict(schema_class._declared_fields) if schema_class else {}


def kind_label(kind: str) -> str:
    return printed.KIND_LABELS.get(kind, kind)


EXTRA_FIELD_LABELS = {("complaint", "reporter"): "信访人（加密保存，仅县级可见）"}
"""Fields the printed registers never name (a complainant is on no register)."""


def field_label(kind: str, name: str) -> str:
    field = schema_fields(kind).get(name)
    label = field.metadata.get("label") if field is not None else None
    if label:
        return str(label)
    return EXTRA_FIELD_LABELS.get((kind, name)) or printed.field_label(kind, name)


def choice_labels(kind: str, name: str, codes: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(code, Chinese label)`` for each code a choice field allows."""
    field = schema_fields(kind).get(name)
    declared = field.metadata.get("choices") if field is not None else None
    names = declared if isinstance(declared, dict) else printed.VALUE_LABELS.get(name, {})
    return [(code, str(names.get(code, code))) for code in codes]


def value_label(kind: str, name: str, value: Any) -> Any:
    """A stored value as a page shows it: codes translated, booleans 是/否, None empty."""
    field = schema_fields(kind).get(name)
    declared = field.metadata.get("choices") if field is not None else None
    if isinstance(declared, dict) and isinstance(value, str) and value in declared:
        return declared[value]
    return printed.display_value(name, value)


def is_date(kind: str, name: str) -> bool:
    """True for a date field of ``kind`` (shown 2026年3月5日 on pages)."""
    from node.domain.schemas.fields import IsoDate

    return isinstance(schema_fields(kind).get(name), IsoDate)


def retire_reason(reason: str | None) -> str:
    if not reason:
        return ""
    return CLOSE_REASONS.get(reason, printed.RETIRE_REASONS.get(reason, reason))


CLOSE_REASONS: dict[str, str] = {
    "moved_away": "户口迁出",
    "died": "死亡",
    "left_age_band": "超出育龄",
    "entered_in_error": "录入错误",
    "duplicate": "重复记录",
    "retention": "保存期满删除",
}
"""Why a card is closed (domain.md section 2: the old village closes the card of a
person whose hukou moved away; retention ends others), as the close form offers them."""
