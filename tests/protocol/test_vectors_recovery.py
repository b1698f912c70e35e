# SPDX-License-Identifier: Apache-2.0
"""recovery.json holds (SPEC.md §8.10, §13): each request and snapshot gives its code;
the deterministic bytes (requests, the snapshot's header and cards) are what the
generator writes, and the valid snapshot opens to exactly the pinned cards."""

from __future__ import annotations

from typing import Any

import pytest

from protocol import canonical
from protocol.certs import decode_certificate
from protocol.crypto import KemPrivateKey, Suite
from protocol.errors import ProtocolError
from protocol.recovery import decode_recovery_request, decode_snapshot, open_snapshot
from protocol.vectors import recovery
from tests.protocol.helpers import vectors

RECOVERY = vectors("recovery.json")
KEM = KemPrivateKey(Suite.CLASSIC, bytes.fromhex(RECOVERY["village_kem_seed"]))


def test_the_generator_still_writes_these_bytes() -> None:
    """Everything but the snapshots themselves (their HPKE wraps are random, §13)."""
    fresh = recovery.recovery_vectors()
    for name in ("requests", "request_id", "header", "cards", "village_certificate"):
        assert fresh[name] == RECOVERY[name]


@pytest.mark.parametrize("case", RECOVERY["requests"], ids=lambda c: c["name"])
def test_request(case: dict[str, Any]) -> None:
    """§8.10: a request is decoded, then checked against its village's certificate: it
    names that certificate's node and serial and is signed by its key."""
    cert = decode_certificate(bytes.fromhex(RECOVERY["village_certificate"]))
    try:
        request = decode_recovery_request(bytes.fromhex(case["request"]))
        request.verify(cert)
    except ProtocolError as exc:
        assert case["expect"] == str(exc.code)
        return
    assert case["expect"] == "ok"
    assert request.id == RECOVERY["request_id"]


@pytest.mark.parametrize("case", RECOVERY["snapshots"], ids=lambda c: c["name"])
def test_snapshot(case: dict[str, Any]) -> None:
    """§8.10: decoded, verified with the county node's key, opened with the village's."""
    county = decode_certificate(bytes.fromhex(RECOVERY["county_certificate"]))
    try:
        snap = decode_snapshot(bytes.fromhex(case["snapshot"]))
        snap.verify(county.verify_key)
        cards = open_snapshot(snap, KEM)
    except ProtocolError as exc:
        assert case["expect"] == str(exc.code)
        return
    assert case["expect"] == "ok"
    assert snap.header_bytes.hex() == RECOVERY["header"]
    assert [c.row() for c in cards] == RECOVERY["cards"]
    assert canonical.decode(snap.header_bytes)["request"] == RECOVERY["request_id"]
