# SPDX-License-Identifier: Apache-2.0
"""Vectors of enrolment by one-time code (SPEC.md §8.8): ``enrolment.json``.

Everything is CLASSIC (Ed25519 signatures are deterministic): a code, its invitation id
and MAC key, a village's request made with it, the county's answer, and one-fault
requests and answers with the code a reader reports.
"""

from __future__ import annotations

from typing import Any

from protocol.binary import blob32
from protocol.certs import decode_certificate
from protocol.crypto import KemPrivateKey, SigningKey, Suite
from protocol.enrolment import (
    ANSWER_CONTEXT,
    ANSWER_MAGIC,
    REQUEST_CONTEXT,
    REQUEST_MAGIC,
    EnrolAnswer,
    _mac,
    code_key,
    decode_request,
    encode_answer,
    encode_request,
    invite_id,
)
from protocol.signed import b64, sign_object
from protocol.testing import NOW, make_node, seed
from protocol.vectors.trust import _cert, _issuing

CODE = "K7QF3XD29MPA"
TYPED = "k7qf-3xd2-9mpa"


def enrolment_vectors() -> dict[str, Any]:
    suite = Suite.CLASSIC
    root = make_node("440104", suite=suite)
    issuing = _issuing(root, suite)
    county = make_node("440104", suite=suite)
    town = make_node("440104001", suite=suite)
    village = make_node("440104001002", suite=suite)
    node_cert = decode_certificate(_cert(issuing, village, serial=9020))
    answer = EnrolAnswer(
        node=node_cert,
        issuing=issuing.cert,
        root=root.cert,
        parent=decode_certificate(_cert(issuing, town, serial=9021)),
        county=decode_certificate(_cert(issuing, county, serial=9022)),
    )
    request = encode_request(CODE, village.node, village.signing, village.kem.public_key, NOW)
    answer_raw = encode_answer(answer, decode_request(request), code_key(CODE))
    other = SigningKey(suite, seed("enrolment other sign", suite.sign_seed_size))
    stolen = _request_with(village.node.code, other, invite_id(CODE), "Z" * 12)
    flipped = bytearray(request)
    flipped[-1] ^= 1
    answer_body = answer_raw[8:-32]
    other_request = encode_request(CODE, village.node, other, village.kem.public_key, NOW)
    return {
        "code": {
            "typed": TYPED,
            "normalised": CODE,
            "invite": invite_id(CODE),
            "key": code_key(CODE).hex(),
        },
        "request": request.hex(),
        "answer": answer_raw.hex(),
        "answer_body": answer_body.decode("utf-8"),
        "invalid": [
            {
                "name": "request MAC flipped",
                "reader": "county",
                "bytes": bytes(flipped).hex(),
                "expect": "bad_signature",
            },
            {
                "name": "request naming the invitation, MACed with another code",
                "reader": "county",
                "bytes": stolen.hex(),
                "expect": "bad_signature",
            },
            {
                "name": "request of version 2",
                "reader": "county",
                "bytes": (b"RKQ2" + request[4:]).hex(),
                "expect": "unsupported",
            },
            {
                "name": "request with trailing bytes",
                "reader": "county",
                "bytes": (request + b"\x00").hex(),
                "expect": "malformed",
            },
            {
                "name": "request signed by a key it does not carry",
                "reader": "county",
                "bytes": _resigned(request, other).hex(),
                "expect": "bad_signature",
            },
            {
                "name": "answer MACed with another code",
                "reader": "village",
                "bytes": (
                    ANSWER_MAGIC
                    + blob32(answer_body)
                    + _mac(code_key("Z" * 12), ANSWER_CONTEXT, answer_body)
                ).hex(),
                "expect": "bad_signature",
            },
            {
                "name": "answer to another request",
                "reader": "village",
                "bytes": encode_answer(answer, decode_request(other_request), code_key(CODE)).hex(),
                "expect": "bad_signature",
            },
        ],
    }


def _request_with(code: str, signing: SigningKey, invite: str, mac_code: str) -> bytes:
    """A request of ``signing``'s own keys naming ``invite``, MACed with ``mac_code``."""
    kem = KemPrivateKey(signing.suite, seed("enrolment other kem", signing.suite.kem_seed_size))
    body = {
        "v": 1,
        "type": "enrol_request",
        "invite": invite,
        "node": f"village:{code}",
        "suite": int(signing.suite),
        "verify_key": b64(signing.verify_key.raw),
        "kem_key": b64(kem.public_key.raw),
        "at": NOW,
    }
    signed = sign_object(body, signing)
    return REQUEST_MAGIC + blob32(signed) + _mac(code_key(mac_code), REQUEST_CONTEXT, signed)


def _resigned(request: bytes, signing: SigningKey) -> bytes:
    """The same body signed by another key (and MACed with the right code)."""
    decoded = decode_request(request)
    signed = sign_object(dict(decoded.signed.body), signing)
    return REQUEST_MAGIC + blob32(signed) + _mac(code_key(CODE), REQUEST_CONTEXT, signed)
