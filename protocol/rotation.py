# SPDX-License-Identifier: Apache-2.0
"""Key rotation: the old key vouches for the new one (SPEC.md §8.9).

A node that replaces its keys signs, with its **current** certified key, a
``key_rotation`` object naming its node, the serial of the certificate that key is
certified by, and its new public keys. That signed link is what the county checks
before it certifies the new keys: only the holder of the certified key can ask, and the
request names exactly which certificate it replaces. The county's certificate of the
new keys then travels back like any renewed certificate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import fields, validate

from protocol.certs import Certificate
from protocol.crypto import KemPublicKey, SigningKey, Suite, VerifyKey
from protocol.errors import CertificateError, TooLargeError
from protocol.ids import NodeId
from protocol.schemas import _MS, _NODE, _Strict, load_body
from protocol.signed import SignedObject, b64, decode_signed, sign_object, unb64

TYPE = "key_rotation"
MAX_ROTATION = 16 * 1024


class RotationBody(_Strict):
    v = fields.Integer(required=True, validate=validate.Equal(1), strict=True)
    type = fields.String(required=True, validate=validate.Equal(TYPE))
    node = fields.String(required=True, validate=_NODE)
    serial = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**53 - 1)
    )
    suite = fields.Integer(required=True, strict=True)
    verify_key = fields.String(required=True, validate=validate.Length(max=4096))
    kem_key = fields.String(required=True, validate=validate.Length(max=4096))
    at = fields.Integer(required=True, strict=True, validate=_MS)


@dataclass(frozen=True, slots=True)
class Rotation:
    node: NodeId
    serial: int
    verify_key: VerifyKey = field(repr=False)
    kem_key: KemPublicKey = field(repr=False)
    at: int
    signed: SignedObject = field(repr=False)

    def verify(self, old: Certificate) -> None:
        """The certificate ``old`` is the one this rotation names, and its key signed it.

        Raises:
            CertificateError: another node's or another serial's certificate, or new keys
                of another suite than the certified ones.
            SignatureError: not signed by ``old``'s key.
        """
        if old.node != self.node or old.serial != self.serial:
            raise CertificateError(
                f"key rotation of {self.node} names certificate {self.serial}, "
                f"not {old.serial} of {old.node}"
            )
        if self.verify_key.suite is not old.suite:
            raise CertificateError("key rotation changes the suite of the certified keys")
        self.signed.verify(old.verify_key)


def make_rotation(
    old_key: SigningKey,
    node: NodeId,
    serial: int,
    verify_key: VerifyKey,
    kem_key: KemPublicKey,
    at: int,
) -> bytes:
    """The request, signed by the node's certified key ``old_key``."""
    body = {
        "v": 1,
        "type": TYPE,
        "node": str(node),
        "serial": serial,
        "suite": int(verify_key.suite),
        "verify_key": b64(verify_key.raw),
        "kem_key": b64(kem_key.raw),
        "at": at,
    }
    return sign_object(body, old_key)


def decode_rotation(raw: bytes) -> Rotation:
    """Parse a key rotation (its signature is checked by :meth:`Rotation.verify`).

    Raises:
        TooLargeError, MalformedError, UnsupportedError: not a valid key_rotation object.
    """
    if len(raw) > MAX_ROTATION:
        raise TooLargeError(f"key rotation of {len(raw)} bytes exceeds {MAX_ROTATION}")
    signed = decode_signed(raw, expect_type=TYPE)
    body = load_body(RotationBody(), signed.body, "key rotation")
    suite = Suite.from_byte(body["suite"])
    return Rotation(
        node=NodeId.parse(body["node"]),
        serial=body["serial"],
        verify_key=VerifyKey(
            suite, unb64(body["verify_key"], "verify_key", size=suite.verify_key_size)
        ),
        kem_key=KemPublicKey(suite, unb64(body["kem_key"], "kem_key", size=suite.kem_key_size)),
        at=body["at"],
        signed=signed,
    )


__all__ = ["Rotation", "decode_rotation", "make_rotation"]
