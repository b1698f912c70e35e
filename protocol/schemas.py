# SPDX-License-Identifier: Apache-2.0
"""marshmallow schemas for the canonical-JSON bodies of signed objects and payloads.

One schema per wire message, unknown fields rejected: a field we do not know is a
version we do not speak, and guessing at it is how silent divergence starts.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from protocol.errors import MalformedError

_MS = validate.Range(min=0, max=2**53 - 1)
# marshmallow's Regexp uses re.match, so every pattern ends in \Z (not $, which also
# matches before a trailing newline) and spells digits [0-9] (\d matches any Unicode
# digit). Full parsing (NodeId.parse, LogId.parse) follows and insists on round trips.
_NODE = validate.Regexp(r"(?:county|township|village):[0-9]{6,12}\Z")
_LOG = validate.Regexp(r"(?:county|township|village):[0-9]{6,12}#[1-9][0-9]{0,9}\Z")
_HEX64 = validate.Regexp(r"[0-9a-f]{64}\Z")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class CertificateBody(_Strict):
    v = fields.Integer(required=True, validate=validate.Equal(1), strict=True)
    type = fields.String(required=True, validate=validate.Equal("certificate"))
    serial = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**53 - 1)
    )
    node = fields.String(required=True, validate=_NODE)
    parent = fields.String(required=True, allow_none=True, validate=_NODE)
    issuer = fields.String(required=True, validate=_NODE)
    suite = fields.Integer(required=True, strict=True)
    verify_key = fields.String(required=True, validate=validate.Length(max=4096))
    kem_key = fields.String(required=True, validate=validate.Length(max=4096))
    not_before = fields.Integer(required=True, strict=True, validate=_MS)
    not_after = fields.Integer(required=True, strict=True, validate=_MS)


class RevokedItem(_Strict):
    serial = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**53 - 1)
    )
    node = fields.String(required=True, validate=_NODE)
    revoked_at = fields.Integer(required=True, strict=True, validate=_MS)
    reason = fields.String(
        required=True, validate=validate.OneOf(["lost", "stolen", "compromised", "retired"])
    )
    valid_through = fields.List(
        fields.Tuple(
            (
                fields.String(validate=_LOG),
                fields.Integer(strict=True, validate=validate.Range(min=0, max=2**53 - 1)),
            )
        ),
        required=True,
        validate=validate.Length(max=64),
    )


class RevocationBody(_Strict):
    v = fields.Integer(required=True, validate=validate.Equal(1), strict=True)
    type = fields.String(required=True, validate=validate.Equal("revocations"))
    issuer = fields.String(required=True, validate=_NODE)
    version = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**53 - 1)
    )
    issued_at = fields.Integer(required=True, strict=True, validate=_MS)
    revoked = fields.List(
        fields.Nested(RevokedItem), required=True, validate=validate.Length(max=100_000)
    )


class AckBody(_Strict):
    v = fields.Integer(required=True, validate=validate.Equal(1), strict=True)
    type = fields.String(required=True, validate=validate.Equal("ack"))
    by = fields.String(required=True, validate=_NODE)
    log = fields.String(required=True, validate=_LOG)
    seq = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=2**53 - 1))
    head = fields.String(required=True, validate=_HEX64)
    at = fields.Integer(required=True, strict=True, validate=_MS)


_SEQ = validate.Range(min=1, max=2**53 - 1)
_COUNT = validate.Range(min=0, max=2**53 - 1)
_TEXT = validate.Length(max=128)
_NAMED = validate.Length(min=1, max=128)  # present only when not empty


class OutcomeItemBody(_Strict):
    seq = fields.Integer(required=True, strict=True, validate=_SEQ)
    outcome = fields.String(
        required=True, validate=validate.OneOf(["rejected", "conflict", "superseded"])
    )
    code = fields.String(required=True, validate=_TEXT)
    record = fields.String(validate=_NAMED)
    field = fields.String(validate=_NAMED)
    conflict = fields.String(validate=_NAMED)


class OutcomeBody(_Strict):
    """SPEC.md §8.6: ``by`` is the county's 6-digit code (an ack's ``by`` is a NodeId)."""

    v = fields.Integer(required=True, validate=validate.Equal(1), strict=True)
    type = fields.String(required=True, validate=validate.Equal("outcome"))
    by = fields.String(required=True, validate=validate.Regexp(r"[0-9]{6}\Z"))
    log = fields.String(required=True, validate=_LOG)
    first_seq = fields.Integer(required=True, strict=True, validate=_SEQ)
    last_seq = fields.Integer(required=True, strict=True, validate=_SEQ)
    applied = fields.Integer(required=True, strict=True, validate=_COUNT)
    listed = fields.List(
        fields.Nested(OutcomeItemBody), required=True, validate=validate.Length(max=1000)
    )
    more = fields.Integer(required=True, strict=True, validate=_COUNT)
    at = fields.Integer(required=True, strict=True, validate=_MS)


class RejectionBody(_Strict):
    v = fields.Integer(required=True, validate=validate.Equal(1), strict=True)
    type = fields.String(required=True, validate=validate.Equal("rejection"))
    by = fields.String(required=True, validate=_NODE)
    relay = fields.String(required=True, validate=_NODE)
    log = fields.String(required=True, validate=_LOG)
    first_seq = fields.Integer(required=True, strict=True, validate=_SEQ)
    last_seq = fields.Integer(required=True, strict=True, validate=_SEQ)
    code = fields.String(required=True, validate=validate.Regexp(r"[a-z0-9_]{1,64}\Z"))
    reason = fields.String(required=True, validate=validate.Length(max=500))
    at = fields.Integer(required=True, strict=True, validate=_MS)


class EnrolRequestBody(_Strict):
    """SPEC.md §8.8: a new PC's request, signed by the keys it asks to be certified."""

    v = fields.Integer(required=True, validate=validate.Equal(1), strict=True)
    type = fields.String(required=True, validate=validate.Equal("enrol_request"))
    invite = fields.String(required=True, validate=validate.Regexp(r"[0-9a-f]{32}\Z"))
    node = fields.String(required=True, validate=_NODE)
    suite = fields.Integer(required=True, strict=True)
    verify_key = fields.String(required=True, validate=validate.Length(max=4096))
    kem_key = fields.String(required=True, validate=validate.Length(max=4096))
    at = fields.Integer(required=True, strict=True, validate=_MS)


_CERT_B64 = validate.Length(min=1, max=16384)


class EnrolAnswerBody(_Strict):
    """SPEC.md §8.8: the certificates the county sends back, bound to the request."""

    v = fields.Integer(required=True, validate=validate.Equal(1), strict=True)
    type = fields.String(required=True, validate=validate.Equal("enrol_answer"))
    request = fields.String(required=True, validate=_HEX64)
    node = fields.String(required=True, validate=_CERT_B64)
    issuing = fields.String(required=True, allow_none=True, validate=_CERT_B64)
    root = fields.String(required=True, validate=_CERT_B64)
    parent = fields.String(required=True, validate=_CERT_B64)
    county = fields.String(required=True, validate=_CERT_B64)


def load_body(schema: Schema, body: Any, what: str) -> dict[str, Any]:
    """Validate a decoded body; marshmallow's complaints become one MalformedError."""
    try:
        result: dict[str, Any] = schema.load(body)
    except ValidationError as exc:
        raise MalformedError(f"{what}: {_flatten(exc.messages)}") from None
    return result


def _flatten(messages: Any, prefix: str = "") -> str:
    if isinstance(messages, dict):
        return "; ".join(_flatten(v, f"{prefix}{k}.") for k, v in messages.items())
    if isinstance(messages, list):
        return f"{prefix.rstrip('.')}: " + ", ".join(
            str(m) for m in messages if not isinstance(m, dict | list)
        )
    return f"{prefix.rstrip('.')}: {messages}"
