# SPDX-License-Identifier: Apache-2.0
"""The signed-object container (protocol/signed.py, SPEC.md §8.1)."""

from __future__ import annotations

import pytest

from protocol.errors import MalformedError, SignatureError
from protocol.signed import decode_signed, sign_object
from protocol.testing import TestNode as Node
from tests.protocol.helpers import raw_signed


def test_signed_object_round_trip(root: Node) -> None:
    """The signature covers CONTEXT || every byte before sig_len; verify() returns None."""
    raw = sign_object({"v": 1, "type": "example", "text": "台风"}, root.signing)
    signed = decode_signed(raw, expect_type="example")
    assert {"v": 1, "type": "example", "text": "台风"} == signed.body
    assert signed.verify(root.cert.verify_key) is None
    with pytest.raises(MalformedError):
        decode_signed(raw, expect_type="certificate")


def test_signed_object_wrong_key(root: Node, other_root: Node) -> None:
    """verify() raises SignatureError for any key but the signer's."""
    signed = decode_signed(sign_object({"v": 1, "type": "example"}, root.signing))
    with pytest.raises(SignatureError):
        signed.verify(other_root.cert.verify_key)


def test_signed_object_version_true(root: Node) -> None:
    """Every signed output starts with a version marker ("v": 1)."""
    with pytest.raises(MalformedError):
        decode_signed(raw_signed(b'{"type":"example","v":true}', root))
