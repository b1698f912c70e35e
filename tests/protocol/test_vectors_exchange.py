# SPDX-License-Identifier: Apache-2.0
"""exchange.json holds (SPEC.md §8.11, §13): each notification and answer gives its
code when read as a receiving county reads it (decode, the sender's chain under the
receiver's root through its cross-certificate, the signature, open); the deterministic
bytes (headers, bodies) are what the generator writes."""

from __future__ import annotations

from typing import Any

import pytest

from protocol import canonical
from protocol.certs import decode_certificate, verify_chain
from protocol.crypto import KemPrivateKey, Suite
from protocol.errors import CertificateError, ProtocolError
from protocol.exchange import Answer, Notification, decode_exchange, open_exchange
from protocol.vectors import exchange
from tests.protocol.helpers import vectors

EXCHANGE = vectors("exchange.json")
A_ROOT = decode_certificate(bytes.fromhex(EXCHANGE["a_root"]))
B_ROOT = decode_certificate(bytes.fromhex(EXCHANGE["b_root"]))
CROSS = decode_certificate(bytes.fromhex(EXCHANGE["b_cross_certificate_of_a"]))


def test_the_generator_still_writes_these_bytes() -> None:
    """Everything but the messages themselves (their HPKE wraps are random, §13)."""
    fresh = exchange.exchange_vectors()
    for name in ("notification_header", "notification_body", "answer_header", "answer_body",
                 "b_cross_certificate_of_a", "a_root", "b_root"):  # fmt: skip
        assert fresh[name] == EXCHANGE[name]


def _read(raw: bytes, kem: KemPrivateKey, root: Any, trusted: dict[str, Any]) -> Any:
    """§8.11 reading order: decode; the sender's chain (its certificate is vouched for
    by our cross-certificate of its root, else bad_certificate); the signature; open."""
    msg = decode_exchange(raw)
    sent = decode_certificate(msg.certificate)
    cross = trusted.get(str(sent.issuer))
    if cross is None:
        raise CertificateError(f"no cross-certificate of {sent.issuer}")
    verify_chain([cross], [root], EXCHANGE["now"])
    msg.verify(cross if sent.is_self_signed else sent)
    return msg, open_exchange(msg, kem)


@pytest.mark.parametrize("case", EXCHANGE["notifications"], ids=lambda c: c["name"])
def test_notification(case: dict[str, Any]) -> None:
    """§8.11: county 440105 reads what 440104 sealed for it, through its cross-certificate."""
    kem = KemPrivateKey(Suite.CLASSIC, bytes.fromhex(EXCHANGE["b_kem_seed"]))
    try:
        msg, body = _read(bytes.fromhex(case["message"]), kem, B_ROOT, {"county:440104": CROSS})
    except ProtocolError as exc:
        assert case["expect"] == str(exc.code)
        return
    assert case["expect"] == "ok"
    assert msg.header_bytes.hex() == EXCHANGE["notification_header"]
    assert isinstance(body, Notification)
    assert canonical.encode(body.body()).hex() == EXCHANGE["notification_body"]


@pytest.mark.parametrize("case", EXCHANGE["answers"], ids=lambda c: c["name"])
def test_answer(case: dict[str, Any]) -> None:
    """§8.11: 440104 reads 440105's answer; "not found" only with a cross-check (篇10 第25条).
    440104 trusts 440105 by its own root here (the vectors' key is the root's)."""
    kem = KemPrivateKey(Suite.CLASSIC, bytes.fromhex(EXCHANGE["a_kem_seed"]))
    try:
        msg = decode_exchange(bytes.fromhex(case["message"]))
        msg.verify(B_ROOT)
        body = open_exchange(msg, kem)
    except ProtocolError as exc:
        assert case["expect"] == str(exc.code)
        return
    assert case["expect"] == "ok"
    assert isinstance(body, Answer) and body.outcome == "not_found"
    assert msg.header_bytes.hex() == EXCHANGE["answer_header"]
    assert canonical.encode(body.body()).hex() == EXCHANGE["answer_body"]
