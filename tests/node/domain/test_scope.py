# SPDX-License-Identifier: Apache-2.0
"""What the records must never contain under the law in force (domain.md section 5)."""

from __future__ import annotations

import pkgutil

import pytest
from marshmallow import fields

import node.domain
from node.domain.records import RECORD_KINDS, SEALED_FIELDS

FORBIDDEN = ("fee", "charge", "fine", "penalty")


def field_names(schema):
    for name, field in schema.fields.items():
        yield name
        if isinstance(field, fields.Nested):
            yield from (f"{name}.{sub}" for sub in field_names(field.schema))


@pytest.mark.parametrize("kind", sorted(RECORD_KINDS))
def test_no_schema_has_a_fee_field(kind):
    """The social maintenance fee is abolished; certificates are free (篇10 第12条);
    nothing is charged twice (篇7 四(四)). No record has anything to charge."""
    for name in field_names(RECORD_KINDS[kind]()):
        assert not any(word in name.lower() for word in FORBIDDEN), f"{kind}.{name}"


def test_no_module_for_fees_pressure_or_informants():
    """No fee collection, pressure lists, "remedial measures" or informant rewards."""
    names = [m.name for m in pkgutil.walk_packages(node.domain.__path__, "node.domain.")]
    for word in ("fee", "charge", "fine", "penalty", "remedial", "informant", "pressure"):
        assert not [n for n in names if word in n], word


def test_birth_registration_cannot_be_refused():
    """Births are registered as a service (2021 amendment), not approved or refused."""
    names = set(RECORD_KINDS["birth_registration"]().fields)
    assert not names & {"status", "approved", "refused", "decision", "approval_date"}


def test_sealed_fields_exist():
    """篇4 第18条: a complainant's identity is never revealed to the party complained about."""
    assert {"complaint": ("reporter",)} == SEALED_FIELDS
    for kind, sealed in SEALED_FIELDS.items():
        assert set(sealed) <= set(RECORD_KINDS[kind]().fields)
