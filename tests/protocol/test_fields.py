# SPDX-License-Identifier: Apache-2.0
"""Sealed fields: readable only by their recipients, and only where they were sealed."""

from __future__ import annotations

import base64

import pytest

from protocol.crypto import Suite
from protocol.errors import DecryptionError, MalformedError, UnknownRecipientError, UnsupportedError
from protocol.fields import is_sealed, open_field, seal_field
from protocol.testing import TestNode as Node
from protocol.testing import make_node

WHERE = "village:440104001002/complaint/Q1/reporter"


@pytest.fixture(scope="module")
def county(root: Node) -> Node:
    """The county, whose complaint handler may open a reporter's identity."""
    return root


def test_round_trip(county: Node) -> None:
    """domain.md 5: the county's handler opens the reporter's identity."""
    sealed = seal_field({"name": "李四"}, [county.kem.public_key], WHERE)
    assert is_sealed(sealed) and "李四" not in sealed
    assert open_field(sealed, {county.kem.public_key.key_id: county.kem}, WHERE) == {"name": "李四"}


def test_relay_cannot_open(county: Node) -> None:
    """The township relays the complaint but is not a recipient of the identity."""
    town = make_node("440104001", county)
    sealed = seal_field("李四", [county.kem.public_key], WHERE)
    with pytest.raises(UnknownRecipientError):
        open_field(sealed, {town.kem.public_key.key_id: town.kem}, WHERE)


def test_moved_to_another_record_fails(county: Node) -> None:
    """A sealed value is bound to its node, kind, record and field."""
    sealed = seal_field("李四", [county.kem.public_key], WHERE)
    with pytest.raises(DecryptionError):
        open_field(sealed, {county.kem.public_key.key_id: county.kem}, WHERE.replace("Q1", "Q2"))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("李四", MalformedError),
        ("sealed:1:!!!", MalformedError),
        ("sealed:1:AAAA", UnsupportedError),
        ("sealed:1:AQk=", MalformedError),
    ],
)
def test_malformed(county: Node, text: str, error: type[Exception]) -> None:
    """Anything that is not a sealed field of this version fails with a typed error."""
    with pytest.raises(error):
        open_field(text, {county.kem.public_key.key_id: county.kem}, WHERE)


def test_duplicate_recipients_are_refused() -> None:
    """Sealing for one key twice is a sender's error (SPEC.md §10.6)."""
    key = make_node("440104").kem.public_key
    with pytest.raises(ValueError):
        seal_field("x", [key, key], "village:440104001002/complaint/Q1/reporter")


def test_sealed_fields_are_strict() -> None:
    """Canonical base64 only, key ids sorted and distinct, and another
    version digit after 'sealed:' is UnsupportedError."""
    where = "village:440104001002/complaint/Q1/reporter"
    a = make_node("440104", suite=Suite.CLASSIC)
    b = make_node("440105", suite=Suite.CLASSIC)
    keys = {a.kem.public_key.key_id: a.kem}
    text = seal_field("李四", [a.kem.public_key, b.kem.public_key], where)
    assert "李四" == open_field(text, keys, where)
    raw = base64.b64decode(text[len("sealed:1:") :])
    one = 8 + Suite.CLASSIC.wrap_size
    swapped = raw[:2] + raw[2 + one : 2 + 2 * one] + raw[2 : 2 + one] + raw[2 + 2 * one :]
    with pytest.raises(MalformedError, match="sorted"):
        open_field("sealed:1:" + base64.b64encode(swapped).decode(), keys, where)
    doubled = raw[:2] + raw[2 : 2 + one] * 2 + raw[2 + 2 * one :]
    with pytest.raises(MalformedError, match="sorted"):
        open_field("sealed:1:" + base64.b64encode(doubled).decode(), keys, where)
    with pytest.raises(MalformedError, match="canonical"):
        open_field("sealed:1:AR==", keys, where)
    with pytest.raises(UnsupportedError):
        open_field("sealed:2:" + text[len("sealed:1:") :], keys, where)
    with pytest.raises(MalformedError):
        open_field("sealed:x:" + text[len("sealed:1:") :], keys, where)
