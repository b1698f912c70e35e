# SPDX-License-Identifier: Apache-2.0
"""Forms generated from the record schemas, and form input turned back into a record.

One source of truth: the fields of a form are the fields the schema declares at run
time, in its order, with the widget its field type calls for (a drop-down or radio
buttons with Chinese labels for a coded value, a text box for a date that takes
2026年3月5日 or 2026-03-05 and shows the Chinese form (not the browser's date picker,
whose format follows the browser's language), yes/no for a flag), so a field the
domain adds or a code it renames appears on the page without a change here. What
comes back is handed to the same ``validate_record`` the CLI and the importers use,
and its problems are shown next to the field they name.

:func:`coerce` turns one typed-in string into the JSON value the schema expects; the
CLI's ``node edit --set field=value`` uses it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from marshmallow import fields as mm

from node.domain.schemas.fields import (
    Bool,
    Choice,
    Digits,
    IdNumber,
    Int,
    IsoDate,
    NestedRecord,
    PlaceCode,
    Ref,
    Text,
)
from node.errors import FieldProblem
from node.pages.labels import choice_labels, field_label, schema_fields
from node.timeutil import read_written_date, written_date_iso

RADIO_MAX = 4
"""Coded values with at most this many choices are radio buttons, others a drop-down."""
TEXTAREA_FROM = 200
YES, NO = "true", "false"

_YES = {"true", "yes", "y", "1", "是", "有"}
_NO = {"false", "no", "n", "0", "否", "无"}


@dataclass
class FormField:
    """One input of a generated form, as the template draws it."""

    name: str  # the form key; dotted for a nested record's field (reporter.name)
    label: str
    widget: str  # text, textarea, date, number, select, radio, ref, idnumber, digits
    required: bool
    value: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    max_length: int | None = None
    hint: str = ""
    group: str = ""  # the label of the nested record this field belongs to


def _widget(f: mm.Field[Any]) -> str:
    if isinstance(f, Bool):
        return "radio"
    if isinstance(f, Choice):
        return "radio" if len(f.choices) <= RADIO_MAX else "select"
    if isinstance(f, IsoDate):
        return "date"
    if isinstance(f, Int):
        return "number"
    if isinstance(f, Text):
        return "textarea" if f.max_length > TEXTAREA_FROM else "text"
    if isinstance(f, Ref):
        return "ref"
    if isinstance(f, IdNumber):
        return "idnumber"
    if isinstance(f, Digits | PlaceCode):
        return "digits"
    return "text"


def _choices(kind: str, name: str, f: mm.Field[Any]) -> list[tuple[str, str]]:
    if isinstance(f, Bool):
        return [(YES, "是"), (NO, "否")]
    if isinstance(f, Choice):
        return choice_labels(kind, name, f.choices)
    return []


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    return str(value)


def _shown_date(value: Any) -> str:
    """A stored date as the officer reads it (2026年3月5日); what she typed, if it is no
    date, stays as typed so she can correct it."""
    text = _shown(value)
    day = read_written_date(text)
    return f"{day.year}年{day.month}月{day.day}日" if day else text


def build_form(
    kind: str,
    values: Mapping[str, Any],
    problems: Sequence[FieldProblem] = (),
    *,
    skip: frozenset[str] = frozenset(),
) -> tuple[list[FormField], list[str]]:
    """The form of ``kind`` filled with ``values`` and marked with ``problems``.

    Returns:
        The fields, and the messages of problems that name no field of the form
        (shown above it), so no problem is ever lost.
    """
    by_field: dict[str, list[str]] = {}
    for p in problems:
        # The schema's word for an unreadable date asks for YYYY-MM-DD, the only form a
        # card file holds; a page takes the Chinese form too, and says so.
        said = _("Write the date as 2026年3月5日 or 2026-03-05.")
        by_field.setdefault(p.field, []).append(said if p.code == "date_format" else p.zh)
    out: list[FormField] = []
    for name, f in schema_fields(kind).items():
        if name in skip:
            continue
        if isinstance(f, NestedRecord):
            out += _nested(kind, name, f, values.get(name), by_field)
            continue
        out.append(_one(kind, name, name, f, values.get(name), by_field))
    named = {x.name for x in out}
    loose = [m for key, msgs in by_field.items() if key not in named for m in msgs]
    return out, loose


def _one(
    kind: str, key: str, name: str, f: mm.Field[Any], value: Any, errors: dict[str, list[str]]
) -> FormField:
    return FormField(
        key,
        field_label(kind, name),
        _widget(f),
        bool(f.required),
        _shown_date(value) if isinstance(f, IsoDate) else _shown(value),
        _choices(kind, name, f),
        errors.pop(key, []),
        getattr(f, "max_length", None),
        str(f.metadata.get("hint", "")),
    )


def _nested(
    kind: str, name: str, f: NestedRecord, value: Any, errors: dict[str, list[str]]
) -> list[FormField]:
    inner = f.schema.fields
    values = value if isinstance(value, Mapping) else {}
    group = field_label(kind, name)
    out = []
    for sub, sub_field in inner.items():
        item = _one(kind, f"{name}.{sub}", sub, sub_field, values.get(sub), errors)
        # A nested record's fields are named as on a person's card (姓名, 联系电话).
        item.label = str(sub_field.metadata.get("label") or field_label("person", sub))
        item.group = group
        item.required = False  # the nested record as a whole is optional
        out.append(item)
    return out


def coerce(f: mm.Field[Any], raw: str, kind: str = "", name: str = "") -> Any:
    """One typed-in string as the JSON value the field expects.

    Yes/no (true/false, 是/否) becomes a boolean, a date written the Chinese way
    (2026年3月5日) or ISO the YYYY-MM-DD the schema keeps, and a coded value given by its Chinese
    name (女, 已婚) its code when ``kind`` and ``name`` say which field it is; anything
    else stays a string for the schema to judge (whole numbers in digits are accepted
    by ``Int``), so a wrong entry gets the schema's own message.
    """
    text = raw.strip()
    if isinstance(f, Bool):
        low = text.lower()
        if low in _YES:
            return True
        if low in _NO:
            return False
    if isinstance(f, IdNumber):
        return text.upper()
    if isinstance(f, IsoDate):
        return written_date_iso(text) or text
    if isinstance(f, Choice) and text not in f.choices and kind:
        by_label = {label: code for code, label in choice_labels(kind, name, f.choices)}
        return by_label.get(text, text)
    return text


def plain_codes(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with coded values given by their Chinese name (女, 已婚, 是) turned into
    the codes the schema stores (F, married, true): a card typed by hand or a
    spreadsheet filled in by an officer says 女, not F."""
    fields = schema_fields(kind)
    out = dict(data)
    for name, value in data.items():
        f = fields.get(name)
        if f is not None and isinstance(value, str) and isinstance(f, Choice | Bool):
            out[name] = coerce(f, value, kind, name)
    return out


def read_form(
    kind: str, form: Mapping[str, str], *, skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The record a submitted form describes: a field left empty is left out, so the
    schema says "required" for a required one and fills in None for an optional one."""
    data: dict[str, Any] = {}
    for name, f in schema_fields(kind).items():
        if name in skip:
            continue
        if isinstance(f, NestedRecord):
            inner = {
                sub: coerce(sub_field, form.get(f"{name}.{sub}", ""), kind, sub)
                for sub, sub_field in f.schema.fields.items()
                if form.get(f"{name}.{sub}", "").strip()
            }
            if inner:
                data[name] = inner
            continue
        raw = form.get(name, "")
        if isinstance(raw, str) and raw.strip():
            data[name] = coerce(f, raw, kind, name)
    return data
