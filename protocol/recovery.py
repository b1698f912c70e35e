# SPDX-License-Identifier: Apache-2.0
"""Recovery from upstream: a village's current cards, sealed by the county for the
village's new PC alone (SPEC.md §8.10).

A PC that died (or was put back from an old backup) has lost cards the county still
holds: the county opens every batch of its villages. The new PC, enrolled for the
village with keys of its own, asks with a **recovery request**: a signed object
(§8.1) of ``type = "recovery_request"`` signed with its certified key, framed with that
certificate. The county answers with a **recovery snapshot**: the cards the village's
own logs make (as the county holds them), compressed and sealed under a fresh content
key wrapped for the requesting certificate's KEM key only, with a readable header
(whose cards, for which key, answering which request, through which head of each
log), all signed by the county node. The snapshot travels down the outboxes like an
advisory; a township checks the county's signature without opening it.

This module owns every byte of both messages: :func:`make_recovery_request` /
:func:`decode_recovery_request`, and :func:`seal_snapshot` / :func:`decode_snapshot` /
:func:`open_snapshot`. Every decoder is bounded before it allocates.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from secrets import token_bytes
from typing import Any

from marshmallow import fields, validate

from protocol import canonical
from protocol.binary import Reader, blob16, blob32, inflate_bounded, u8
from protocol.certs import Certificate
from protocol.crypto import (
    CONTENT_KEY_SIZE,
    KEY_ID_SIZE,
    KemPrivateKey,
    KemPublicKey,
    SigningKey,
    Suite,
    VerifyKey,
    open_sealed,
    seal,
    sha256,
)
from protocol.errors import (
    CertificateError,
    MalformedError,
    SignatureError,
    TooLargeError,
    UnknownRecipientError,
)
from protocol.frontier import Head
from protocol.ids import LogId, NodeId
from protocol.schemas import _MS, _NODE, _Strict, load_body
from protocol.signed import SignedObject, check_version, decode_signed, sign_object

REQUEST_TYPE = "recovery_request"
SNAPSHOT_TYPE = "recovery_snapshot"
MAGIC = b"RKR1"
SIGN_CONTEXT = b"renkou-net/1 recovery snapshot\x00"
WRAP_CONTEXT = b"renkou-net/1 recovery key\x00"
SEAL_CONTEXT = b"renkou-net/1 recovery cards\x00"
MAX_REQUEST = 65_536
MAX_SNAPSHOT = 8 * 1024 * 1024
"""The whole snapshot: an outbox item's bound (§15.7)."""
MAX_HEADER = 262_144
MAX_CARDS = 64 * 1024 * 1024
"""The inflated cards document."""
MAX_RECORDS = 1_000_000
MAX_LOGS = 1024
COMPRESS_LEVEL = 6

_LENGTH = struct.Struct(">I")
_HEX = re.compile(r"[0-9a-f]+\Z")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")
_RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,47}\Z")
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]{0,19})\Z")
_SEQ = validate.Range(min=1, max=2**53 - 1)


# -- the request ---------------------------------------------------------------------


class RequestBody(_Strict):
    v = fields.Integer(required=True, validate=validate.Equal(1), strict=True)
    type = fields.String(required=True, validate=validate.Equal(REQUEST_TYPE))
    node = fields.String(required=True, validate=_NODE)
    serial = fields.Integer(required=True, strict=True, validate=_SEQ)
    at = fields.Integer(required=True, strict=True, validate=_MS)
    nonce = fields.String(required=True, validate=validate.Regexp(r"[0-9a-f]{32}\Z"))


@dataclass(frozen=True, slots=True)
class RecoveryRequest:
    """A decoded request; :meth:`verify` says whether ``certificate`` asked for it."""

    node: NodeId
    serial: int
    at: int
    nonce: str
    signed: SignedObject = field(repr=False)
    certificate: bytes = field(repr=False)

    @property
    def id(self) -> str:
        """What the snapshot names as the request it answers: hex SHA-256 of the signed
        request (the certificate beside it is not part of it)."""
        return sha256(self.signed.raw).hex()

    def verify(self, cert: Certificate) -> None:
        """``cert`` (whose chain the caller checked) is the certificate the request names,
        and its key signed it.

        Raises:
            CertificateError: another node's or another serial's certificate.
            SignatureError: not signed by ``cert``'s key.
        """
        if cert.node != self.node or cert.serial != self.serial:
            raise CertificateError(
                f"recovery request of {self.node} (certificate {self.serial}) comes with "
                f"certificate {cert.serial} of {cert.node}"
            )
        self.signed.verify(cert.verify_key)


def make_recovery_request(
    key: SigningKey, node: NodeId, serial: int, certificate: bytes, at: int, nonce: bytes
) -> bytes:
    """The framed request (``u32 len | signed request | u32 len | certificate``)."""
    if len(nonce) != 16 or not certificate:
        raise ValueError("a recovery request needs a 16-byte nonce and the certificate")
    body = {
        "v": 1,
        "type": REQUEST_TYPE,
        "node": str(node),
        "serial": serial,
        "at": at,
        "nonce": nonce.hex(),
    }
    signed = sign_object(body, key)
    out = b"".join(_LENGTH.pack(len(p)) + p for p in (signed, certificate))
    if len(out) > MAX_REQUEST:
        raise ValueError(f"a recovery request is at most {MAX_REQUEST} bytes")
    return out


def decode_recovery_request(raw: bytes) -> RecoveryRequest:
    """Split and parse a request (the signature is checked by :meth:`RecoveryRequest.verify`).

    Raises:
        TooLargeError: over MAX_REQUEST bytes.
        MalformedError, UnsupportedError: not two non-empty parts, or not a valid
            ``recovery_request`` object.
    """
    if len(raw) > MAX_REQUEST:
        raise TooLargeError(f"recovery request of {len(raw)} bytes exceeds {MAX_REQUEST}")
    r = Reader(raw, "recovery request")
    signed_raw = r.blob32(MAX_REQUEST, "request")
    cert = r.blob32(MAX_REQUEST, "certificate")
    r.end()
    if not signed_raw or not cert:
        raise MalformedError("recovery request: a part is empty")
    signed = decode_signed(signed_raw, expect_type=REQUEST_TYPE)
    body = load_body(RequestBody(), signed.body, "recovery request")
    node = NodeId.parse(body["node"])
    return RecoveryRequest(node, body["serial"], body["at"], body["nonce"], signed, cert)


# -- the snapshot --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Card:
    """One record as the village's store holds it (node/store/schema.py ``records``).

    ``versions`` maps each field to the entry that last wrote it, as a base of §10.3
    naming its log (``"<log id>/<seq>"``): the new PC writes in a new epoch, so every
    version it holds is of another log. On the wire ``updated_hlc`` is its decimal
    string: a hybrid clock is beyond JSON's integer bound (§2).
    """

    kind: str
    id: str
    data: dict[str, Any] = field(repr=False)  # a person's fields: never logged
    versions: dict[str, str]
    retired: str | None
    created_seq: int
    updated_seq: int
    updated_hlc: int

    def row(self) -> list[Any]:
        return [
            self.kind, self.id, self.data, self.versions, self.retired,
            self.created_seq, self.updated_seq, str(self.updated_hlc),
        ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class SnapshotHeader:
    """The readable part: who made it, for whom, answering what, through which heads."""

    county: NodeId
    node: NodeId
    kem_key: bytes
    """Key id (§4.3) of the KEM key the content key is wrapped for."""
    request: str
    """:attr:`RecoveryRequest.id` of the request answered."""
    heads: Mapping[LogId, Head]
    """Each log of ``node`` the cards are made of, at the head the county holds."""
    records: int
    made: int

    def body(self) -> dict[str, Any]:
        heads = [[str(log), h.seq, h.hash.hex()] for log, h in sorted(
            self.heads.items(), key=lambda item: (item[0].epoch, str(item[0])))]  # fmt: skip
        return {
            "v": 1,
            "type": SNAPSHOT_TYPE,
            "county": str(self.county),
            "node": str(self.node),
            "kem_key": self.kem_key.hex(),
            "request": self.request,
            "heads": heads,
            "records": self.records,
            "made": self.made,
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A decoded snapshot, not yet verified (:meth:`verify`) nor opened (:func:`open_snapshot`)."""

    suite: Suite
    header: SnapshotHeader
    header_bytes: bytes = field(repr=False)
    wrap: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)
    signer_key_id: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    raw: bytes = field(repr=False)

    def verify(self, county_key: VerifyKey) -> None:
        """Return None if the county node's ``county_key`` signed these exact bytes.

        Raises:
            SignatureError: another key, another suite, or bytes changed since signing.
        """
        if county_key.suite is not self.suite or county_key.key_id != self.signer_key_id:
            raise SignatureError("recovery snapshot: signature is invalid")
        signed = self.raw[: len(self.raw) - 2 - len(self.signature)]
        county_key.verify(self.signature, SIGN_CONTEXT + signed)


def is_snapshot(raw: bytes) -> bool:
    """Whether an outbox item is a recovery snapshot (by its magic, §15.7)."""
    return raw[:3] == MAGIC[:3]


def seal_snapshot(
    header: SnapshotHeader,
    cards: Sequence[Card],
    key: SigningKey,
    recipient: KemPublicKey,
    content_key: bytes | None = None,
) -> bytes:
    """Compress, seal for ``recipient`` alone and sign the cards with the county node's key.

    ``content_key`` is for vectors only (a fresh random key otherwise; never reuse one).

    Raises:
        ValueError: ``header.records`` is not the number of cards, the key id is not
            ``recipient``'s, the recipient's suite is not the signer's, or the snapshot
            would exceed MAX_SNAPSHOT.
    """
    if header.records != len(cards) or header.kem_key != recipient.key_id:
        raise ValueError("the header must count the cards and name the recipient's key")
    if recipient.suite is not key.suite:
        raise ValueError("the recipient's KEM key is of another suite than the county's")
    k = content_key if content_key is not None else token_bytes(CONTENT_KEY_SIZE)
    header_bytes = canonical.encode(header.body())
    cards_bytes = canonical.encode({"records": [c.row() for c in cards], "v": 1})
    if len(cards_bytes) > MAX_CARDS:
        raise ValueError(f"the cards are over {MAX_CARDS} bytes")
    digest = sha256(header_bytes)
    wrap = recipient.wrap(k, WRAP_CONTEXT + digest)
    ct = seal(k, zlib.compress(cards_bytes, COMPRESS_LEVEL), SEAL_CONTEXT + digest)
    head = MAGIC + u8(key.suite) + blob32(header_bytes) + blob16(wrap) + blob32(ct)
    head += key.verify_key.key_id
    out = head + blob16(key.sign(SIGN_CONTEXT + head))
    if len(out) > MAX_SNAPSHOT:
        raise ValueError(f"a recovery snapshot is at most {MAX_SNAPSHOT} bytes")
    return out


def decode_snapshot(raw: bytes) -> Snapshot:
    """Parse a snapshot and its header, bounded, without verifying or opening it.

    Raises:
        TooLargeError: over a bound of §8.10.
        UnsupportedError: another version of the magic or of ``v``; an unknown suite.
        MalformedError: anything else that is not the layout of §8.10.
    """
    if len(raw) > MAX_SNAPSHOT:
        raise TooLargeError(f"recovery snapshot of {len(raw)} bytes exceeds {MAX_SNAPSHOT}")
    r = Reader(raw, "recovery snapshot")
    r.expect(MAGIC)
    suite = Suite.from_byte(r.u8())
    header_bytes = r.blob32(MAX_HEADER, "header")
    wrap = r.blob16(suite.wrap_size, "wrap")
    if len(wrap) != suite.wrap_size:
        raise MalformedError(f"recovery snapshot: the wrap must be {suite.wrap_size} bytes")
    ct = r.blob32(MAX_SNAPSHOT, "ciphertext")
    key_id = r.take(KEY_ID_SIZE)
    sig = r.blob16(suite.signature_size, "signature")
    r.end()
    header = _header(canonical.decode(header_bytes, max_bytes=MAX_HEADER))
    return Snapshot(suite, header, header_bytes, wrap, ct, key_id, sig, raw)


def open_snapshot(snap: Snapshot, kem: KemPrivateKey) -> list[Card]:
    """Unwrap, decrypt, inflate (bounded) and check the cards of a verified snapshot.

    Raises:
        UnknownRecipientError: not wrapped for ``kem``.
        DecryptionError: the wrap or the ciphertext does not open.
        TooLargeError, MalformedError: the cards break §8.10 (count, names, types).
    """
    if kem.public_key.key_id != snap.header.kem_key:
        raise UnknownRecipientError("recovery snapshot: not sealed for a key we hold")
    digest = sha256(snap.header_bytes)
    k = kem.unwrap(snap.wrap, WRAP_CONTEXT + digest)
    plain = _inflate(open_sealed(k, snap.ciphertext, SEAL_CONTEXT + digest))
    doc = canonical.decode(plain, max_bytes=MAX_CARDS)
    if type(doc) is not dict or set(doc) != {"records", "v"}:
        raise MalformedError("recovery cards: exactly the keys 'records' and 'v'")
    check_version(doc["v"], "recovery cards")
    rows = doc["records"]
    if type(rows) is not list or len(rows) != snap.header.records:
        raise MalformedError("recovery cards: their number is not the header's 'records'")
    return [_card(i, row) for i, row in enumerate(rows)]


def _inflate(data: bytes) -> bytes:
    """The snapshot's cards, inflated within ``MAX_CARDS`` (read at each call)."""
    return inflate_bounded(data, MAX_CARDS, "recovery cards")


class HeaderBody(_Strict):
    v = fields.Integer(required=True, strict=True)
    type = fields.String(required=True, validate=validate.Equal(SNAPSHOT_TYPE))
    county = fields.String(required=True, validate=_NODE)
    node = fields.String(required=True, validate=_NODE)
    kem_key = fields.String(required=True, validate=validate.Regexp(r"[0-9a-f]{16}\Z"))
    request = fields.String(required=True, validate=validate.Regexp(r"[0-9a-f]{64}\Z"))
    heads = fields.List(fields.Raw(), required=True, validate=validate.Length(1, MAX_LOGS))
    records = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_RECORDS))
    made = fields.Integer(required=True, strict=True, validate=_MS)


def _header(body: Any) -> SnapshotHeader:
    if type(body) is not dict:
        raise MalformedError("recovery snapshot header must be an object")
    check_version(body.get("v"), "recovery snapshot header")
    got = load_body(HeaderBody(), body, "recovery snapshot header")
    node = NodeId.parse(got["node"])
    heads: dict[LogId, Head] = {}
    for item in got["heads"]:
        ok = type(item) is list and len(item) == 3 and type(item[0]) is str
        ok = ok and type(item[1]) is int and 1 <= item[1] <= 2**53 - 1
        if not ok or type(item[2]) is not str or len(item[2]) != 64 or not _HEX.match(item[2]):
            raise MalformedError("recovery snapshot: a head is [log id, seq, 64 hex digits]")
        log = LogId.parse(item[0])
        if log.node != node or log in heads:
            raise MalformedError(f"recovery snapshot: head of {log} is not one of {node}'s logs")
        heads[log] = Head(item[1], bytes.fromhex(item[2]))
    return SnapshotHeader(
        NodeId.parse(got["county"]), node, bytes.fromhex(got["kem_key"]), got["request"],
        heads, got["records"], got["made"],
    )  # fmt: skip


def _card(i: int, row: Any) -> Card:
    """One row, strictly: ``[kind, id, data, versions, retired, created, updated, hlc]``."""
    where = f"recovery card {i}"
    if type(row) is not list or len(row) != 8:
        raise MalformedError(f"{where}: not a row of 8 members")
    kind, rid, data, versions, retired, created, updated, hlc = row
    if type(kind) is not str or not _KIND.match(kind):
        raise MalformedError(f"{where}: kind is not a valid name")
    if type(rid) is not str or not _RECORD_ID.match(rid):
        raise MalformedError(f"{where}: id is not a valid record id")
    if type(data) is not dict or not all(_FIELD.match(k) for k in data):
        raise MalformedError(f"{where}: data is not an object of field names")
    if type(versions) is not dict or not all(
        _FIELD.match(k) and type(v) is str and 0 < len(v) <= 96 for k, v in versions.items()
    ):
        raise MalformedError(f"{where}: versions are not field names with their entries")
    if retired is not None and (type(retired) is not str or not 0 < len(retired) <= 64):
        raise MalformedError(f"{where}: retired is not null or a reason")
    for n in (created, updated):
        if type(n) is not int or n < 0:
            raise MalformedError(f"{where}: seqs are non-negative integers")
    if type(hlc) is not str or not _DECIMAL.match(hlc) or int(hlc) > 2**64 - 1:
        raise MalformedError(f"{where}: the clock is a decimal string below 2^64")
    return Card(kind, rid, data, versions, retired, created, updated, int(hlc))


__all__ = [
    "Card",
    "RecoveryRequest",
    "Snapshot",
    "SnapshotHeader",
    "decode_recovery_request",
    "decode_snapshot",
    "is_snapshot",
    "make_recovery_request",
    "open_snapshot",
    "seal_snapshot",
]
