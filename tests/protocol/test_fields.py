# SPDX-License-Identifier: Apache-2.0
"""Sealed fields: readable only by their recipients, and only where they were sealed."""

from __future__ import annotations

import pytest

from protocol.errors import (
    DecryptionError,
    MalformedError,
    UnknownRecipientError,
    UnsupportedError,
)
from protocol.fields import is_sealed, open_field, seal_field
from protocol.testing import make_node

WHERE = "village:440104001002/complaint/Q1/reporter"


@pytest.fixture(scope="module")
def county():  # type: ignore[no-untyped-def]
    return make_node("440104")


def test_round_trip(county) -> None:  # type: ignore[no-untyped-def]
    """domain.md 5: the county's handler opens the reporter's identity."""
    sealed = seal_field({"name": "李四"}, [county.kem.public_key], WHERE)
    assert is_sealed(sealed) and "李四" not in sealed
    assert open_field(sealed, {county.kem.public_key.key_id: county.kem}, WHERE) == {"name": "李四"}


def test_relay_cannot_open(county) -> None:  # type: ignore[no-untyped-def]
    """The township relays the complaint but is not a recipient of the identity."""
    town = make_node("440104001", county)
    sealed = seal_field("李四", [county.kem.public_key], WHERE)
    with pytest.raises(UnknownRecipientError):
        open_field(sealed, {town.kem.public_key.key_id: town.kem}, WHERE)


def test_moved_to_another_record_fails(county) -> None:  # type: ignore[no-untyped-def]
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
def test_malformed(county, text: str, error: type[Exception]) -> None:  # type: ignore[no-untyped-def]
    """Anything that is not a sealed field of this version fails with a typed error."""
    with pytest.raises(error):
        open_field(text, {county.kem.public_key.key_id: county.kem}, WHERE)
