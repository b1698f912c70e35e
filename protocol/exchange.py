# SPDX-License-Identifier: Apache-2.0
"""The floating-population exchange between counties (SPEC.md §8.11).

The residence-place county tells the hukou-place county of an event concerning a woman
who floated in across the county line (篇10 第24条): a **notification**; the hukou
place checks, updates and replies: an **answer** (篇10 第24条, 第25条). Both are one
message, made by the sending county node, for the receiving county node alone:

* a readable **header** (no personal data): which message, which notification, from
  which county node to which, for which KEM key, when sent;
* the sender's **certificate**, so the receiver can check its chain under its own root
  through its cross-certificate of the sender's root (§8.2) whether the message came
  over HTTP or on a file;
* the **body** (name, ID number, addresses: personal data), sealed under a fresh content
  key wrapped for the receiver's KEM key only;
* the sender's **signature** over everything before it.

This module owns every byte: :func:`seal_exchange`, :func:`decode_exchange`,
:func:`open_exchange`. Decoding is bounded before anything is allocated; every fault
is a :class:`~protocol.errors.ProtocolError` with its code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from secrets import token_bytes
from typing import Any

from marshmallow import fields, validate

from protocol import canonical
from protocol.binary import Reader, blob16, blob32, u8
from protocol.certs import Certificate
from protocol.crypto import (
    CONTENT_KEY_SIZE,
    KEY_ID_SIZE,
    KemPrivateKey,
    KemPublicKey,
    SigningKey,
    Suite,
    open_sealed,
    seal,
    sha256,
)
from protocol.errors import (
    CertificateError,
    MalformedError,
    ProtocolError,
    SignatureError,
    TooLargeError,
    UnknownRecipientError,
)
from protocol.ids import NodeId, Role
from protocol.schemas import _MS, _NODE, _Strict, load_body
from protocol.signed import check_version

MAGIC = b"RKX1"
NOTIFICATION = "floating_notification"
ANSWER = "floating_answer"
TYPES = (NOTIFICATION, ANSWER)
SIGN_CONTEXT = b"renkou-net/1 exchange\x00"
WRAP_CONTEXT = b"renkou-net/1 exchange key\x00"
SEAL_CONTEXT = b"renkou-net/1 exchange body\x00"
MAX_MESSAGE = 131_072
MAX_HEADER = 4_096
MAX_CERTIFICATE = 65_536
MAX_BODY = 16_384
"""The sealed body's plaintext (canonical JSON)."""

EVENT_KINDS = (
    "birth",
    "contraceptive_procedure",
    "pregnancy",
    "pregnancy_check",
    "doubtful_data",
    "other",
)
"""The six kinds built of the eight the old rules named (篇10 第24条, domain.md §3): ①
a birth; ② a contraceptive procedure; ④ a pregnancy; ⑥ a pregnancy check done here;
⑦ doubtful marital or service data; ⑧ anything else. ③ (a long-acting method "not
yet taken") and ⑤ (no valid papers) are pressure and certificate control: not built."""
OUTCOMES = ("updated", "not_found", "other")
"""Found and updated; not found (only after a stated cross-check, 篇10 第25条); other."""

_ID = re.compile(r"[0-9a-f]{32}\Z")
_ID_NUMBER = r"[0-9]{17}[0-9X]\Z"
_VILLAGE = r"[0-9]{12}\Z"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"
_TEXT = 500
_ADDRESS = 200


@dataclass(frozen=True, slots=True)
class ExchangeHeader:
    """The readable part of a message: never personal data."""

    type: str
    id: str
    """The notification's id (32 lower-case hex digits); an answer names the one it answers."""
    sender: NodeId
    """The county node that made and signed it (``from`` on the wire)."""
    receiver: NodeId
    """The county node it is sealed for (``to``)."""
    kem_key: bytes
    """Key id (§4.3) of the receiver's KEM key the content key is wrapped for."""
    sent: int

    def body(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": self.type,
            "id": self.id,
            "from": str(self.sender),
            "to": str(self.receiver),
            "kem_key": self.kem_key.hex(),
            "sent": self.sent,
        }


@dataclass(frozen=True, slots=True)
class Notification:
    """What the residence place tells the hukou place (篇10 第24条): who, where, what."""

    kind: str
    name: str
    id_number: str
    residence_address: str
    residence_code: str
    hukou_address: str
    hukou_code: str
    """The hukou village's 12-digit code: the address down to the village."""
    event_date: str
    details: str = ""

    def body(self) -> dict[str, Any]:
        return {"v": 1, "kind": self.kind, "name": self.name, "id_number": self.id_number,
                "residence_address": self.residence_address,
                "residence_code": self.residence_code, "hukou_address": self.hukou_address,
                "hukou_code": self.hukou_code, "event_date": self.event_date,
                "details": self.details}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Answer:
    """What the hukou place replies: found and updated, not found after a cross-check,
    or other, and on which day it answered."""

    outcome: str
    received: str
    answered: str
    cross_check: str = ""
    note: str = ""

    def body(self) -> dict[str, Any]:
        return {"v": 1, "outcome": self.outcome, "received": self.received,
                "answered": self.answered,
                "cross_check": self.cross_check, "note": self.note}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExchangeMessage:
    """A decoded message, not yet verified (:meth:`verify`) nor opened (:func:`open_exchange`)."""

    suite: Suite
    header: ExchangeHeader
    certificate: bytes = field(repr=False)
    header_bytes: bytes = field(repr=False)
    wrap: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)
    signer_key_id: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    raw: bytes = field(repr=False)

    def verify(self, sender: Certificate) -> None:
        """Return None if ``sender`` (whose chain the caller checked) is the header's
        ``from`` and its key signed these exact bytes.

        Raises:
            CertificateError: the certificate is of another node than ``from``.
            SignatureError: another key, another suite, or bytes changed since signing.
        """
        if sender.node != self.header.sender:
            raise CertificateError(
                f"exchange message from {self.header.sender} comes with {sender.node}'s certificate"
            )
        key = sender.verify_key
        if key.suite is not self.suite or key.key_id != self.signer_key_id:
            raise SignatureError("exchange message: signature is invalid")
        key.verify(
            self.signature, SIGN_CONTEXT + self.raw[: len(self.raw) - 2 - len(self.signature)]
        )


def seal_exchange(
    header: ExchangeHeader,
    content: Notification | Answer,
    key: SigningKey,
    certificate: bytes,
    recipient: KemPublicKey,
    content_key: bytes | None = None,
) -> bytes:
    """Seal ``content`` for ``recipient`` alone and sign the message with the sending
    county node's ``key``. ``content_key`` is for vectors only (never reuse one).

    Raises:
        ValueError: the content does not match the header's type or breaks §8.11, the
            header does not name ``recipient``'s key, the suites differ, or a bound is
            exceeded.
    """
    want = NOTIFICATION if isinstance(content, Notification) else ANSWER
    if header.type != want or header.kem_key != recipient.key_id:
        raise ValueError("the header must be of the content's type and name the recipient's key")
    if recipient.suite is not key.suite or not 0 < len(certificate) <= MAX_CERTIFICATE:
        raise ValueError("recipient and signer of one suite, and the signer's certificate")
    header_bytes = canonical.encode(header.body())
    body = canonical.encode(content.body())
    try:
        _header(canonical.decode(header_bytes, max_bytes=MAX_HEADER))
        _content(header.type, canonical.decode(body, max_bytes=MAX_BODY))
    except ProtocolError as exc:
        raise ValueError(f"not a valid exchange message: {exc}") from None
    return seal_raw(header_bytes, body, key, certificate, recipient, content_key)


def seal_raw(
    header_bytes: bytes,
    body: bytes,
    key: SigningKey,
    certificate: bytes,
    recipient: KemPublicKey,
    content_key: bytes | None = None,
) -> bytes:
    """Seal and sign bytes as given, unchecked: :func:`seal_exchange` after its checks,
    and the vectors' faulty bodies (which a reader must refuse)."""
    k = content_key if content_key is not None else token_bytes(CONTENT_KEY_SIZE)
    digest = sha256(header_bytes)
    wrap = recipient.wrap(k, WRAP_CONTEXT + digest)
    ct = seal(k, body, SEAL_CONTEXT + digest)
    head = MAGIC + u8(key.suite) + blob32(header_bytes) + blob32(certificate)
    head += blob16(wrap) + blob32(ct) + key.verify_key.key_id
    out = head + blob16(key.sign(SIGN_CONTEXT + head))
    if len(out) > MAX_MESSAGE:
        raise ValueError(f"an exchange message is at most {MAX_MESSAGE} bytes")
    return out


def decode_exchange(raw: bytes) -> ExchangeMessage:
    """Parse a message and its header, bounded, without verifying or opening it.

    Raises:
        TooLargeError: over a bound of §8.11.
        UnsupportedError: another version of the magic or of ``v``; an unknown suite.
        MalformedError: anything else that is not the layout of §8.11.
    """
    if len(raw) > MAX_MESSAGE:
        raise TooLargeError(f"exchange message of {len(raw)} bytes exceeds {MAX_MESSAGE}")
    r = Reader(raw, "exchange message")
    r.expect(MAGIC)
    suite = Suite.from_byte(r.u8())
    header_bytes = r.blob32(MAX_HEADER, "header")
    cert = r.blob32(MAX_CERTIFICATE, "certificate")
    wrap = r.blob16(suite.wrap_size, "wrap")
    ct = r.blob32(MAX_BODY + 16, "ciphertext")
    key_id = r.take(KEY_ID_SIZE)
    sig = r.blob16(suite.signature_size, "signature")
    r.end()
    if len(wrap) != suite.wrap_size or not cert:
        raise MalformedError(
            f"exchange message: a certificate and a wrap of {suite.wrap_size} bytes"
        )
    header = _header(canonical.decode(header_bytes, max_bytes=MAX_HEADER))
    return ExchangeMessage(suite, header, cert, header_bytes, wrap, ct, key_id, sig, bytes(raw))


def open_exchange(msg: ExchangeMessage, kem: KemPrivateKey) -> Notification | Answer:
    """Unwrap and decrypt the body of a verified message and check it strictly.

    Raises:
        UnknownRecipientError: not wrapped for ``kem``.
        DecryptionError: the wrap or the ciphertext does not open.
        MalformedError: the body breaks §8.11.
    """
    if kem.public_key.key_id != msg.header.kem_key:
        raise UnknownRecipientError("exchange message: not sealed for a key we hold")
    digest = sha256(msg.header_bytes)
    k = kem.unwrap(msg.wrap, WRAP_CONTEXT + digest)
    plain = open_sealed(k, msg.ciphertext, SEAL_CONTEXT + digest)
    return _content(msg.header.type, canonical.decode(plain, max_bytes=MAX_BODY))


def new_notification_id(seed: bytes) -> str:
    """A notification id derived from what identifies it (sender, record, kind): the
    same event notified twice gets the same id, so a receiver keeps it once."""
    return sha256(b"renkou-net/1 notification id\x00" + seed)[:16].hex()


# -- strict bodies --------------------------------------------------------------------


class HeaderBody(_Strict):
    v = fields.Integer(required=True, strict=True)
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    id = fields.String(required=True, validate=validate.Regexp(_ID.pattern))
    sender = fields.String(required=True, data_key="from", validate=_NODE)
    receiver = fields.String(required=True, data_key="to", validate=_NODE)
    kem_key = fields.String(required=True, validate=validate.Regexp(r"[0-9a-f]{16}\Z"))
    sent = fields.Integer(required=True, strict=True, validate=_MS)


def _text(hi: int, lo: int = 0) -> fields.String:
    return fields.String(required=True, validate=validate.Length(lo, hi))


class NotificationBody(_Strict):
    v = fields.Integer(required=True, strict=True)
    kind = fields.String(required=True, validate=validate.OneOf(EVENT_KINDS))
    name = _text(50, 1)
    id_number = fields.String(required=True, validate=validate.Regexp(_ID_NUMBER))
    residence_address = _text(_ADDRESS, 1)
    residence_code = fields.String(required=True, validate=validate.Regexp(_VILLAGE))
    hukou_address = _text(_ADDRESS, 1)
    hukou_code = fields.String(required=True, validate=validate.Regexp(_VILLAGE))
    event_date = fields.String(required=True, validate=validate.Regexp(_DATE))
    details = _text(_TEXT)


class AnswerBody(_Strict):
    v = fields.Integer(required=True, strict=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    received = fields.String(required=True, validate=validate.Regexp(_DATE))
    answered = fields.String(required=True, validate=validate.Regexp(_DATE))
    cross_check = _text(_TEXT)
    note = _text(_TEXT)


def _county(node: NodeId, what: str) -> NodeId:
    if node.role is not Role.COUNTY:
        raise MalformedError(f"exchange message: {what} {node} is not a county node")
    return node


def _header(body: Any) -> ExchangeHeader:
    if type(body) is not dict:
        raise MalformedError("exchange header must be an object")
    check_version(body.get("v"), "exchange header")
    got = load_body(HeaderBody(), body, "exchange header")
    sender = _county(NodeId.parse(got["sender"]), "from")
    receiver = _county(NodeId.parse(got["receiver"]), "to")
    if sender.county_code == receiver.county_code:
        raise MalformedError("exchange message: from and to are the same county")
    return ExchangeHeader(
        got["type"], got["id"], sender, receiver, bytes.fromhex(got["kem_key"]), got["sent"]
    )


def _day(value: str, what: str) -> None:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise MalformedError(f"exchange body: {what} {value!r} is not a real day") from None


def _content(kind: str, body: Any) -> Notification | Answer:
    if type(body) is not dict:
        raise MalformedError("exchange body must be an object")
    check_version(body.get("v"), "exchange body")
    if kind == NOTIFICATION:
        got = load_body(NotificationBody(), body, "floating notification")
        _day(got["event_date"], "event_date")
        got.pop("v")
        return Notification(**got)
    got = load_body(AnswerBody(), body, "floating answer")
    _day(got["received"], "received")
    _day(got["answered"], "answered")
    if got["received"] > got["answered"]:
        raise MalformedError("floating answer: answered before it was received")
    if got["outcome"] == "not_found" and not got["cross_check"].strip():
        # 篇10 第25条: "not found" only after the data was cross-checked with other records.
        raise MalformedError("floating answer: 'not_found' needs the cross-check made")
    got.pop("v")
    return Answer(**got)


__all__ = [
    "ANSWER",
    "EVENT_KINDS",
    "NOTIFICATION",
    "OUTCOMES",
    "Answer",
    "ExchangeHeader",
    "ExchangeMessage",
    "Notification",
    "decode_exchange",
    "new_notification_id",
    "open_exchange",
    "seal_exchange",
]
