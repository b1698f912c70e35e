# SPDX-License-Identifier: Apache-2.0
"""The hop fields of an envelope (SPEC.md §6.2) and the signed batch and wraps after
them: read and written here only.

Every hop writes its own hop fields in front of the sealed part it sends on: the magic,
its suite, the message id, from, to, sent and expires; then come the batch header with
the origin's signature and the wraps (protocol.envelope has the whole layout). The
evidence kept of an envelope (protocol.envelope_evidence) carries the same fields and
header, with each wrap's SHA-256 in place of the wrap. Both decoders read them with
:func:`read_hop_fields`, :func:`read_signed_header` and :func:`read_wraps`, so each part
of the wire format, and each of its checks, is decoded in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import batches
from protocol.batches import BatchHeader, decode_header
from protocol.binary import Reader, u8, u64
from protocol.crypto import KEY_ID_SIZE, Suite
from protocol.errors import MalformedError
from protocol.ids import NodeId

MAGIC = b"RKV3"
"""Version 3 (SPEC.md §1.3): the layout of 2 around a batch header of version 2 (the
origin's expiry under the origin's signature), the hop signature over the digest form."""
HOP_FIELDS_SIZE = 4 + 1 + 16 + 14 + 14 + 8 + 8
"""Bytes before the batch header: magic, hop suite, message id, from, to, sent, expires."""
MAX_RECIPIENTS = 8
MAX_LIFETIME_MS = batches.MAX_LIFETIME_MS
"""An envelope, like the batch in it, lives at most 30 days (SPEC.md §6.1)."""


@dataclass(frozen=True, slots=True)
class HopFields:
    """The hop fields opening an envelope and its digest form (SPEC.md §6.2), the magic
    to ``expires_ms``: each hop writes its own; read and written only here."""

    suite: Suite
    message_id: bytes
    sender: NodeId
    recipient: NodeId
    sent_ms: int
    expires_ms: int

    def values(self) -> tuple[Suite, bytes, NodeId, NodeId, int, int]:
        """The fields in wire order: the first six of an Envelope or an EnvelopeEvidence."""
        return (
            self.suite, self.message_id, self.sender, self.recipient, self.sent_ms,
            self.expires_ms,
        )  # fmt: skip

    def encode(self) -> bytes:
        """The :data:`HOP_FIELDS_SIZE` bytes of the fields, the magic first."""
        return (
            MAGIC
            + u8(self.suite)
            + self.message_id
            + self.sender.to_bytes()
            + self.recipient.to_bytes()
            + u64(self.sent_ms)
            + u64(self.expires_ms)
        )


def read_hop_fields(r: Reader, what: str) -> HopFields:
    """The hop fields at ``r`` (of an envelope, or of the digest form kept as evidence).

    Raises:
        MalformedError: cut short, another magic, ``expires_ms`` not after ``sent_ms`` or
            over MAX_LIFETIME_MS later. UnsupportedError: another version or suite.
    """
    r.expect(MAGIC)
    suite = Suite.from_byte(r.u8())
    message_id = r.take(16)
    sender, recipient = NodeId.read(r), NodeId.read(r)
    sent_ms, expires_ms = r.u64(), r.u64()
    if not sent_ms < expires_ms <= sent_ms + MAX_LIFETIME_MS:
        raise MalformedError(
            f"{what}: expires_ms must be after sent_ms and at most {MAX_LIFETIME_MS} ms later"
        )
    return HopFields(suite, message_id, sender, recipient, sent_ms, expires_ms)


def read_signed_header(r: Reader, hop: HopFields, what: str) -> tuple[bytes, BatchHeader, bytes]:
    """The batch header after ``hop`` (its bytes, decoded) and the origin's signature.

    Raises:
        MalformedError: a bad header (§5.2), or its message id not the hop fields'.
        TooLargeError: a signature length over the header's suite's.
    """
    header_bytes = r.take(batches.SIZE)
    header = decode_header(header_bytes)
    if hop.message_id != header.message_id:
        raise MalformedError(f"{what}: message id does not match the batch header")
    return header_bytes, header, r.blob16(header.suite.signature_size, "batch signature")


def read_wraps(r: Reader, size: int, what: str) -> tuple[tuple[bytes, bytes], ...]:
    """``n u8 | n × (key_id [8] | [size])``: an envelope's wraps, or their SHA-256s.

    Raises:
        MalformedError: 0 or over MAX_RECIPIENTS, key ids not sorted and distinct.
    """
    count = r.u8()
    if not 1 <= count <= MAX_RECIPIENTS:
        raise MalformedError(f"{what}: {count} recipients, expected 1..{MAX_RECIPIENTS}")
    wraps = tuple((r.take(KEY_ID_SIZE), r.take(size)) for _ in range(count))
    if [k for k, _ in wraps] != sorted({k for k, _ in wraps}):
        raise MalformedError(f"{what}: recipient key ids must be sorted and distinct")
    return wraps


__all__ = [
    "HOP_FIELDS_SIZE",
    "MAGIC",
    "MAX_LIFETIME_MS",
    "MAX_RECIPIENTS",
    "HopFields",
    "read_hop_fields",
    "read_signed_header",
    "read_wraps",
]
