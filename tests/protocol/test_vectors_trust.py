# SPDX-License-Identifier: Apache-2.0
"""The trust vectors hold: certs.json (SPEC.md §8.2) and revocations.json (§7a, §7b, §8.3).

Every case is run through the reference code and must give its expected code; the
deterministic bytes (everything CLASSIC) must be what the generator writes today, so a
change of any encoding or check order fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from protocol.batches import decode_header
from protocol.certs import decode_certificate, decode_revocations, verify_chain
from protocol.errors import ProtocolError
from protocol.rules import check_signer
from protocol.vectors import trust
from tests.protocol.helpers import vectors

CERTS = vectors("certs.json")
REVOCATIONS = vectors("revocations.json")


def _code(run: Any) -> str:
    """ "ok", or the code of the ProtocolError ``run()`` raises."""
    try:
        run()
    except ProtocolError as exc:
        return str(exc.code)
    return "ok"


@pytest.mark.parametrize("case", CERTS["cases"], ids=lambda c: c["name"])
def test_certificate_chain(case: dict[str, Any]) -> None:
    """§8.2: a chain verifies to its leaf, or fails with the code of the first failing
    check (steps 1-4 in order)."""
    chain = [decode_certificate(bytes.fromhex(c)) for c in case["chain"]]
    anchors = [decode_certificate(bytes.fromhex(a)) for a in case["anchors"]]
    assert case["expect"] == _code(lambda: verify_chain(chain, anchors, case["now"]))
    if case["expect"] == "ok":
        assert case["leaf"] == str(verify_chain(chain, anchors, case["now"]).node)


def test_certificate_bytes_are_pinned() -> None:
    """§13: the CLASSIC certificates are deterministic; the generator still writes them."""
    fresh = trust.certificate_vectors()["cases"]
    assert len(fresh) == len(CERTS["cases"])
    for old, new in zip(CERTS["cases"], fresh, strict=True):
        if not old["name"].startswith("HYBRID"):
            assert old == new


@pytest.mark.parametrize("case", REVOCATIONS["check"], ids=lambda c: c["name"])
def test_revocation_rules(case: dict[str, Any]) -> None:
    """§6.7 step 3 with §7a and §7b: the origin's signature verifies, then the signer
    and the revocation list decide."""
    cert = decode_certificate(bytes.fromhex(case["certificate"]))
    header = decode_header(bytes.fromhex(case["batch_header"]))
    crl = None
    if case["revocations"] is not None:
        root = decode_certificate(bytes.fromhex(case["revocations_root"]))
        crl = decode_revocations(bytes.fromhex(case["revocations"]), root)
    signer = decode_certificate(bytes.fromhex(case["certificate"]))
    if signer.node == header.log.node:
        header.verify(signer.verify_key, bytes.fromhex(case["batch_signature"]))
    assert case["expect"] == _code(lambda: check_signer(header, cert, crl))


@pytest.mark.parametrize("case", REVOCATIONS["successors"], ids=lambda c: c["name"])
def test_revocation_successor(case: dict[str, Any]) -> None:
    """§8.3: a held list is replaced only by a newer list of the same issuer that keeps
    every item unchanged and is not issued earlier."""
    root = decode_certificate(bytes.fromhex(REVOCATIONS["root"]))
    held = decode_revocations(bytes.fromhex(REVOCATIONS["held"]), root)
    newer_root = decode_certificate(bytes.fromhex(case["newer_root"]))
    newer = decode_revocations(bytes.fromhex(case["newer"]), newer_root)
    assert case["expect"] == _code(lambda: held.check_successor(newer))


def test_revocation_bytes_are_pinned() -> None:
    """§13: revocations.json is wholly deterministic (CLASSIC); the generator still
    writes exactly these bytes."""
    fresh = trust.revocation_vectors()
    assert {k: v for k, v in REVOCATIONS.items() if k != "provenance"} == fresh
