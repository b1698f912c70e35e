# SPDX-License-Identifier: Apache-2.0
"""Signed objects: a canonical-JSON body and one signature over the exact bytes sent.

Layout (all integers big-endian)::

    "RKS1" | suite u8 | body_len u32 | body | signer_key_id [8] | sig_len u16 | sig

The signature covers ``CONTEXT || every byte before sig_len``; the body is verified as
received and only then decoded (strictly canonical). Certificates, revocation lists,
acknowledgements, advisories and holiday schedules all travel in this container.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from protocol import canonical
from protocol.binary import Reader, blob16, blob32, u8
from protocol.crypto import KEY_ID_SIZE, SigningKey, Suite, VerifyKey
from protocol.errors import MalformedError, SignatureError, TooLargeError, UnsupportedError

MAGIC = b"RKS1"
CONTEXT = b"renkou-net/1 signed object\x00"
MAX_BODY = 256 * 1024
MAX_SIGNED = MAX_BODY + 4096


@dataclass(frozen=True, slots=True)
class SignedObject:
    """A decoded but not yet verified signed object; ``raw`` is what was received."""

    suite: Suite
    body: dict[str, Any]
    body_bytes: bytes = field(repr=False)
    signer_key_id: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    raw: bytes = field(repr=False)

    @property
    def type(self) -> str:
        return str(self.body["type"])

    @property
    def signed_part(self) -> bytes:
        return CONTEXT + self.raw[: len(self.raw) - 2 - len(self.signature)]

    def verify(self, key: VerifyKey) -> None:
        """Return None if ``key`` signed this object; raise SignatureError otherwise."""
        if key.suite is not self.suite or key.key_id != self.signer_key_id:
            raise SignatureError("signature is invalid")
        key.verify(self.signature, self.signed_part)


def check_version(v: object, what: str) -> None:
    """``v`` must be the integer 1 (not ``true``); another integer is a version we lack.

    Raises:
        UnsupportedError: an integer other than 1 (a future version: kept, not guessed at).
        MalformedError: missing, a boolean or not an integer.
    """
    if type(v) is not int:
        raise MalformedError(f"{what}: 'v' must be the integer 1")
    if v != 1:
        raise UnsupportedError(f"{what}: version {v} is not supported (this is version 1)")


def sign_object(body: dict[str, Any], key: SigningKey) -> bytes:
    """Encode ``body`` canonically and sign it; the body must carry ``v`` and ``type``."""
    v = body.get("v")
    if type(v) is not int or v != 1 or not isinstance(body.get("type"), str):
        raise ValueError("a signed body needs 'v': 1 and a string 'type'")
    data = canonical.encode(body)
    if len(data) > MAX_BODY:
        raise ValueError(f"signed body of {len(data)} bytes exceeds {MAX_BODY}")
    head = MAGIC + u8(key.suite) + blob32(data) + key.verify_key.key_id
    return head + blob16(key.sign(CONTEXT + head))


def decode_signed(raw: bytes, *, expect_type: str | None = None) -> SignedObject:
    """Parse a signed object without verifying it (the caller picks the key)."""
    if len(raw) > MAX_SIGNED:
        raise TooLargeError(f"signed object of {len(raw)} bytes exceeds {MAX_SIGNED}")
    r = Reader(raw, "signed object")
    r.expect(MAGIC)
    suite = Suite.from_byte(r.u8())
    body_bytes = r.blob32(MAX_BODY, "body")
    key_id = r.take(KEY_ID_SIZE)
    sig = r.blob16(suite.signature_size, "signature")
    r.end()
    body = canonical.decode(body_bytes, max_bytes=MAX_BODY)
    if type(body) is not dict:
        raise MalformedError("signed object body must be an object with 'v': 1 and a 'type'")
    check_version(body.get("v"), "signed object")
    if type(body.get("type")) is not str:
        raise MalformedError("signed object body must be an object with 'v': 1 and a 'type'")
    if expect_type is not None and body["type"] != expect_type:
        raise MalformedError(f"expected a {expect_type!r} object, got {body['type']!r}")
    return SignedObject(suite, body, body_bytes, key_id, sig, raw)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, field: str, *, size: int | None = None) -> bytes:
    """Strict base64: padded, no whitespace, and exactly one spelling per value."""
    if not isinstance(text, str):
        raise MalformedError(f"{field} must be a base64 string")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedError(f"{field} is not valid base64") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise MalformedError(f"{field} is not canonical base64")
    if size is not None and len(data) != size:
        raise MalformedError(f"{field} must be {size} bytes, got {len(data)}")
    return data
