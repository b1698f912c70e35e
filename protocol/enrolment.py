# SPDX-License-Identifier: Apache-2.0
"""Enrolment by one-time code (SPEC.md §8.8): the request a new PC sends, the answer.

The administrator makes an **invitation** bound to one node id, with a short code
(12 Crockford base32 characters, 60 bits, printed ``K7QF-3XD2-9MPA``) that reaches the
PC's operator on paper, never over the network. The PC generates its keys locally and
sends an **enrolment request**: a signed object made with its new signing key (proof
that it holds the private key), naming the invitation by ``invite`` (a hash of the
code: the code itself never crosses the wire), followed by an HMAC-SHA-256 under a key
derived from the code, so a relay, or anyone on the path, can neither change the keys
nor make a request of its own. The county answers with the certificates the PC needs
(its own, the issuing certificate, the root, its parent's and the county node's) under
an HMAC with the same key, bound to the hash of the request: the PC trusts the root it
is given because only the holder of its code could have sent it.

Layouts (big-endian)::

    request = "RKQ1" | blob32(signed enrol_request) | mac [32]
    answer  = "RKA1" | blob32(canonical enrol_answer body) | mac [32]

Built and parsed here only; decoding is bounded and raises only ProtocolError.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from protocol import canonical
from protocol.binary import Reader, blob32
from protocol.certs import Certificate, decode_certificate
from protocol.crypto import KemPublicKey, SigningKey, Suite, VerifyKey
from protocol.errors import MalformedError, SignatureError, TooLargeError
from protocol.ids import NodeId
from protocol.schemas import EnrolAnswerBody, EnrolRequestBody, load_body
from protocol.signed import MAX_SIGNED, SignedObject, b64, decode_signed, sign_object, unb64

REQUEST_MAGIC = b"RKQ1"
ANSWER_MAGIC = b"RKA1"
MAC_SIZE = 32
CODE_LENGTH = 12
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives."""
_READ_AS = {"O": "0", "I": "1", "L": "1"}
INVITE_CONTEXT = b"renkou-net/1 enrolment invite\x00"
KEY_CONTEXT = b"renkou-net/1 enrolment key\x00"
REQUEST_CONTEXT = b"renkou-net/1 enrolment request\x00"
ANSWER_CONTEXT = b"renkou-net/1 enrolment answer\x00"
MAX_REQUEST = MAX_SIGNED + 64
MAX_ANSWER = 64 * 1024


def new_code() -> str:
    """A fresh one-time code: 12 characters of :data:`ALPHABET` (60 random bits)."""
    return "".join(ALPHABET[secrets.randbelow(32)] for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """The code as typed (any case, with hyphens or spaces, O for 0, I or L for 1) in
    its one canonical spelling.

    Raises:
        MalformedError: not 12 characters of the alphabet once normalised.
    """
    cleaned = "".join(_READ_AS.get(c, c) for c in text.upper() if c not in " -")
    if len(cleaned) != CODE_LENGTH or any(c not in ALPHABET for c in cleaned):
        raise MalformedError(
            f"an enrolment code is {CODE_LENGTH} letters and digits such as K7QF-3XD2-9MPA"
        )
    return cleaned


def format_code(code: str) -> str:
    """``K7QF3XD29MPA`` as ``K7QF-3XD2-9MPA``: groups of four, to read and type."""
    code = normalise_code(code)
    return "-".join(code[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def invite_id(code: str) -> str:
    """The name of the invitation a code opens (hex, 32 characters): what is sent."""
    return hashlib.sha256(INVITE_CONTEXT + normalise_code(code).encode()).hexdigest()[:32]


def code_key(code: str) -> bytes:
    """The MAC key of the request and the answer, derived from the code."""
    return hashlib.sha256(KEY_CONTEXT + normalise_code(code).encode()).digest()


def _mac(key: bytes, context: bytes, data: bytes) -> bytes:
    return hmac.new(key, context + data, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class EnrolRequest:
    """A decoded request whose signature (by the keys it carries) is verified; its MAC
    is checked by whoever holds the code's key (:meth:`check_mac`)."""

    invite: str
    node: NodeId
    suite: Suite
    verify_key: VerifyKey
    kem_key: KemPublicKey
    at: int
    mac: bytes
    signed: SignedObject
    raw: bytes

    def check_mac(self, key: bytes) -> None:
        """Raises SignatureError unless the request was made with the code of ``key``."""
        if not hmac.compare_digest(self.mac, _mac(key, REQUEST_CONTEXT, self.signed.raw)):
            raise SignatureError(
                "the enrolment request was not made with this invitation's code "
                "(a mistyped code, or a forged request)"
            )

    @property
    def digest(self) -> bytes:
        """SHA-256 of the request's exact bytes: the answer is bound to it."""
        return hashlib.sha256(self.raw).digest()


def encode_request(
    code: str, node: NodeId, signing: SigningKey, kem_key: KemPublicKey, at: int
) -> bytes:
    """The request of a PC that holds ``signing`` and the private half of ``kem_key``."""
    body = {
        "v": 1,
        "type": "enrol_request",
        "invite": invite_id(code),
        "node": str(node),
        "suite": int(signing.suite),
        "verify_key": b64(signing.verify_key.raw),
        "kem_key": b64(kem_key.raw),
        "at": at,
    }
    signed = sign_object(body, signing)
    return REQUEST_MAGIC + blob32(signed) + _mac(code_key(code), REQUEST_CONTEXT, signed)


def decode_request(raw: bytes) -> EnrolRequest:
    """Parse a request and verify that its own keys signed it (proof of possession).

    Raises:
        ProtocolError: malformed, too large, of an unknown version, or not signed by
            the key it carries.
    """
    if len(raw) > MAX_REQUEST:
        raise TooLargeError(f"enrolment request of {len(raw)} bytes exceeds {MAX_REQUEST}")
    r = Reader(raw, "enrolment request")
    r.expect(REQUEST_MAGIC)
    signed_raw = r.blob32(MAX_SIGNED, "request")
    mac = r.take(MAC_SIZE)
    r.end()
    signed = decode_signed(signed_raw, expect_type="enrol_request")
    body = load_body(EnrolRequestBody(), signed.body, "enrolment request")
    suite = Suite.from_byte(body["suite"])
    if suite is not signed.suite:
        raise MalformedError("enrolment request: its suite is not the suite it is signed with")
    verify_key = VerifyKey(
        suite, unb64(body["verify_key"], "verify_key", size=suite.verify_key_size)
    )
    kem_key = KemPublicKey(suite, unb64(body["kem_key"], "kem_key", size=suite.kem_key_size))
    signed.verify(verify_key)
    return EnrolRequest(
        invite=body["invite"],
        node=NodeId.parse(body["node"]),
        suite=suite,
        verify_key=verify_key,
        kem_key=kem_key,
        at=body["at"],
        mac=mac,
        signed=signed,
        raw=raw,
    )


@dataclass(frozen=True, slots=True)
class EnrolAnswer:
    """The certificates the county sends back, decoded (chains are the PC's to verify)."""

    node: Certificate
    issuing: Certificate | None
    root: Certificate
    parent: Certificate
    county: Certificate

    def to_json(self, request: bytes) -> dict[str, Any]:
        return {
            "v": 1,
            "type": "enrol_answer",
            "request": hashlib.sha256(request).hexdigest(),
            "node": b64(self.node.raw),
            "issuing": b64(self.issuing.raw) if self.issuing is not None else None,
            "root": b64(self.root.raw),
            "parent": b64(self.parent.raw),
            "county": b64(self.county.raw),
        }


def encode_answer(answer: EnrolAnswer, request: EnrolRequest, key: bytes) -> bytes:
    """The answer to ``request``, MACed under the key of its invitation's code."""
    body = canonical.encode(answer.to_json(request.raw))
    return ANSWER_MAGIC + blob32(body) + _mac(key, ANSWER_CONTEXT, body)


def decode_answer(raw: bytes, code: str, request: bytes) -> EnrolAnswer:
    """Parse the answer to our ``request`` and check it came from the code's holder.

    Raises:
        SignatureError: the MAC is not the code's, or the answer is to another request.
        ProtocolError: malformed or too large.
    """
    if len(raw) > MAX_ANSWER:
        raise TooLargeError(f"enrolment answer of {len(raw)} bytes exceeds {MAX_ANSWER}")
    r = Reader(raw, "enrolment answer")
    r.expect(ANSWER_MAGIC)
    body_raw = r.blob32(MAX_ANSWER, "answer")
    mac = r.take(MAC_SIZE)
    r.end()
    if not hmac.compare_digest(mac, _mac(code_key(code), ANSWER_CONTEXT, body_raw)):
        raise SignatureError("the enrolment answer was not made with our code")
    body = load_body(EnrolAnswerBody(), canonical.decode(body_raw, max_bytes=MAX_ANSWER), "answer")
    if body["request"] != hashlib.sha256(request).hexdigest():
        raise SignatureError("the enrolment answer is to another request")

    def cert(name: str) -> Certificate:
        return decode_certificate(unb64(body[name], name))

    return EnrolAnswer(
        node=cert("node"),
        issuing=cert("issuing") if body["issuing"] is not None else None,
        root=cert("root"),
        parent=cert("parent"),
        county=cert("county"),
    )
