# SPDX-License-Identifier: Apache-2.0
"""rotations.json holds (SPEC.md §8.9, §13): each key rotation gives its code when
checked against the certificate it names; the bytes are what the generator writes."""

from __future__ import annotations

from typing import Any

import pytest

from protocol.certs import decode_certificate
from protocol.errors import ProtocolError
from protocol.rotation import decode_rotation
from protocol.vectors import rotations
from tests.protocol.helpers import vectors

ROTATIONS = vectors("rotations.json")


def test_the_generator_still_writes_these_bytes() -> None:
    fresh = rotations.rotation_vectors()
    assert {**fresh, "provenance": ROTATIONS["provenance"]} == ROTATIONS


@pytest.mark.parametrize("case", ROTATIONS["cases"], ids=lambda c: c["name"])
def test_rotation(case: dict[str, Any]) -> None:
    """§8.9: decoded, then verified against the old certificate: it names that
    certificate's node and serial and is signed by its key."""
    old = decode_certificate(bytes.fromhex(ROTATIONS["old_certificate"]))
    try:
        rotation = decode_rotation(bytes.fromhex(case["rotation"]))
        rotation.verify(old)
    except ProtocolError as exc:
        assert case["expect"] == str(exc.code)
        return
    assert case["expect"] == "ok"
    assert rotation.verify_key.raw.hex() == ROTATIONS["new_verify_key"]
    assert rotation.kem_key.raw.hex() == ROTATIONS["new_kem_key"]
