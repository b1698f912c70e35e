# SPDX-License-Identifier: Apache-2.0
"""Every error of every record kind comes out in Chinese and English from the catalogue."""

from __future__ import annotations

import re

import pytest
from marshmallow import Schema, fields

from node.domain.messages import CATALOGUE, Message
from node.domain.records import RECORD_KINDS, validate_record
from node.errors import ValidationError

from .examples import DELETE, TODAY, example

CJK = re.compile(r"[\u4e00-\u9fff]")
# Values no field of any kind accepts: each must produce a catalogue message for it.
WRONG_VALUES = [[["nested"]], {"a": 1}, 3.5, -7, "x" * 6000]


def all_fields(schema: Schema, prefix: str = ""):
    for name, field in schema.fields.items():
        yield f"{prefix}{name}", field
        if isinstance(field, fields.Nested):
            yield from all_fields(field.schema, f"{prefix}{name}.")


def field_cases():
    for kind, schema_class in sorted(RECORD_KINDS.items()):
        for name, _ in all_fields(schema_class()):
            if "." not in name:
                yield kind, name


def assert_bilingual(error: ValidationError, field: str) -> None:
    mine = [p for p in error.problems if p.field == field or p.field.startswith(field + ".")]
    assert mine, f"no problem reported for {field}"
    for p in mine:
        assert p.code in CATALOGUE, p
        assert CJK.search(p.zh), p
        assert p.en and not CJK.search(p.en), p


@pytest.mark.parametrize("kind", sorted(RECORD_KINDS))
def test_every_field_message_is_a_catalogue_message(kind):
    """No marshmallow default (English-only) message is left on any field or schema."""
    schema = RECORD_KINDS[kind]()
    for name, field in all_fields(schema):
        for key, msg in field.error_messages.items():
            assert isinstance(msg, Message), f"{kind}.{name}: {key}"
            assert msg.code in CATALOGUE
    for key, msg in schema.error_messages.items():
        assert isinstance(msg, Message), f"{kind}: {key}"


@pytest.mark.parametrize(("kind", "name"), list(field_cases()))
def test_wrong_values_are_reported_in_both_languages(kind, name):
    for value in WRONG_VALUES:
        data = example(kind, **{name: value})
        try:
            validate_record(kind, data, today=TODAY)
        except ValidationError as error:
            assert_bilingual(error, name)
        else:
            pytest.fail(f"{kind}.{name} accepted {value!r}")


@pytest.mark.parametrize(("kind", "name"), list(field_cases()))
def test_missing_and_null_are_reported_in_both_languages(kind, name):
    field = RECORD_KINDS[kind]().fields[name]
    for value in (DELETE, None):
        is_fine = (value is DELETE and not field.required) or (value is None and field.allow_none)
        try:
            validate_record(kind, example(kind, **{name: value}), today=TODAY)
        except ValidationError as error:
            # A fine absence may still break a cross-field check, never as required/null.
            codes = {p.code for p in error.problems if p.field == name}
            assert is_fine != bool(codes & {"required", "null"}), (kind, name, value)
            assert_bilingual(error, name)
        else:
            assert is_fine, f"{kind}.{name} accepted {value!r}"
