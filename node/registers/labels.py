# SPDX-License-Identifier: Apache-2.0
"""Chinese names of record kinds, fields and coded values, as printed on the forms.

The store keeps stable English codes (``married``, ``iud_insertion``) so that the
county can count them; the registers an officer prints and signs say 已婚 and
放置宫内节育器. The words come from the record schemas themselves (every field carries
its label, every coded field its label set: node/domain/schemas), so a form, a register
and the change report can never translate one code two ways. A code nobody labels (a
value of a later ruleset) is printed as stored rather than hidden.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from node.domain.records import KIND_LABELS as KIND_LABELS
from node.domain.records import RECORD_KINDS
from node.domain.records import REF_KINDS as REF_KINDS
from node.domain.records import SEALED_FIELDS as _SEALED
from node.domain.records import SUBJECT_REFS as SUBJECT_REFS

# A complainant's identity is never revealed to the party complained about, nor to the
# township officers handling the complaint (篇4 第18条).
SEALED_FIELDS: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in _SEALED.items()}

# Fields that records written under ruleset 1 hold and today's forms no longer have:
# the change report of an old month still names them in Chinese.
LEGACY_FIELD_LABELS: dict[str, dict[str, str]] = {
    "birth_registration": {"village_opinion_date": "村级意见日期（原审批环节，已取消）"},
}

RETIRE_REASONS: dict[str, str] = {
    "entered_in_error": "录入错误",
    "duplicate": "重复记录",
    "retention": "保存期满删除",
    "moved_away": "户籍迁出，本村注销",
    "left": "流入人员离开本村",
}

# Items in the order the stock ledger lists them; unknown items follow alphabetically.
ITEM_ORDER = ("condom", "pill", "injection", "spermicide", "other")


def _field_labels() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for kind, schema_class in RECORD_KINDS.items():
        schema: Schema = schema_class()
        labels = {name: f.metadata["label"] for name, f in schema.fields.items()}
        out[kind] = {**labels, **LEGACY_FIELD_LABELS.get(kind, {})}
    return out


def _value_labels() -> dict[str, dict[str, str]]:
    """Label sets by field name, merged over kinds; a code labelled two ways is a
    programming mistake, refused at import."""
    out: dict[str, dict[str, str]] = {}
    for kind, schema_class in RECORD_KINDS.items():
        for name, f in schema_class().fields.items():
            for code, label in f.metadata.get("choices", {}).items():
                held = out.setdefault(name, {}).setdefault(code, label)
                if held != label:
                    raise ValueError(f"{kind}.{name}: code {code!r} labelled {held} and {label}")
    return out


FIELD_LABELS: dict[str, dict[str, str]] = _field_labels()
"""Chinese field names by kind, from the schemas (plus fields of older rulesets)."""

VALUE_LABELS: dict[str, dict[str, str]] = _value_labels()
"""Chinese labels of coded values by field name, from the schemas."""


def field_label(kind: str, field: str) -> str:
    """The printed name of ``field`` of ``kind`` (the code itself if unknown)."""
    return FIELD_LABELS.get(kind, {}).get(field, field)


def is_sealed(kind: str, field: str) -> bool:
    return field in SEALED_FIELDS.get(kind, frozenset())


def display_value(field: str, value: Any) -> Any:
    """A stored value as the form prints it: codes translated, booleans 是/否.

    Numbers stay numbers so that a spreadsheet can add them up; None becomes an
    empty cell rather than the word "None".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return VALUE_LABELS.get(field, {}).get(value, value)
    return value
