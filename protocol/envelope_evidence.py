# SPDX-License-Identifier: Apache-2.0
"""An envelope kept as evidence without its wraps and ciphertext (SPEC.md §6.3.2, §6.4).

A receiver that refuses a batch keeps it for the administrator as proof of who sent
what: the hop signature names the sender, the origin signature the writer. Since
version 3 the hop signs the envelope's *digest form* (protocol.envelope.digest_form):
every wrap and the ciphertext enter it only by their SHA-256. So the evidence form

    "RKD1" | digest form | hop_sig_len u16 | hop_sig

proves exactly what the whole envelope proved (both signatures verify over it), while
it holds no wrap and no ciphertext: nothing in it opens for anyone, the keeper
included. A township keeps a refused batch whole only as long as its administrator
needs to look inside (node/store/evidence.py), then only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol import batches
from protocol.batches import BatchHeader
from protocol.binary import Reader, blob16
from protocol.crypto import KEY_ID_SIZE, Suite, VerifyKey
from protocol.envelope import HOP_CONTEXT, MAX_ENVELOPE, Envelope, check_hop_expiry
from protocol.errors import ExpiryExtendedError, SignatureError, TooLargeError
from protocol.hop import (
    HOP_FIELDS_SIZE,
    MAX_RECIPIENTS,
    read_hop_fields,
    read_signed_header,
    read_wraps,
)
from protocol.ids import NodeId

MAGIC = b"RKD1"
WHAT = "envelope evidence"
HASH_SIZE = 32
MAX_EVIDENCE = (
    len(MAGIC)
    + HOP_FIELDS_SIZE
    + batches.SIZE
    + 2
    + max(s.signature_size for s in Suite)
    + 1
    + MAX_RECIPIENTS * (KEY_ID_SIZE + HASH_SIZE)
    + 4
    + HASH_SIZE
    + KEY_ID_SIZE
    + 2
    + max(s.signature_size for s in Suite)
)
"""The largest evidence form: every field at its bound (a few kilobytes)."""


@dataclass(frozen=True, slots=True)
class EnvelopeEvidence:
    """The digest form of an envelope and its hop signature, decoded."""

    hop_suite: Suite
    message_id: bytes
    sender: NodeId
    recipient: NodeId
    sent_ms: int
    expires_ms: int
    header: BatchHeader
    batch_sig: bytes
    wrap_hashes: tuple[tuple[bytes, bytes], ...]
    ciphertext_len: int
    ciphertext_hash: bytes
    hop_key_id: bytes
    hop_sig: bytes = field(repr=False)
    signed: bytes = field(repr=False)

    def verify(self, hop_key: VerifyKey, origin_key: VerifyKey) -> None:
        """Both signatures hold: ``hop_key`` (the sender's) signed this digest form and
        ``origin_key`` (the writer's) the batch header.

        Raises:
            SignatureError: either does not verify, or a key of another suite or id.
        """
        if hop_key.key_id != self.hop_key_id or hop_key.suite is not self.hop_suite:
            raise SignatureError("signature is invalid")
        hop_key.verify(self.hop_sig, HOP_CONTEXT + self.signed)
        if origin_key.suite is not self.header.suite:
            raise SignatureError("signature is invalid")
        self.header.verify(origin_key, self.batch_sig)

    @property
    def extends_expiry(self) -> bool:
        """Did the hop sign a later expiry than the origin (SPEC.md §6.5)?"""
        try:
            check_hop_expiry(self.sender, self.expires_ms, self.header)
        except ExpiryExtendedError:
            return True
        return False


def evidence_form(env: Envelope) -> bytes:
    """The wrap-free evidence of ``env``: its digest form and hop signature."""
    return MAGIC + env.digest_form() + blob16(env.hop_sig)


def decode_evidence(raw: bytes) -> EnvelopeEvidence:
    """Parse an evidence form, bounding every size; verifies nothing yet.

    Raises:
        TooLargeError: over MAX_EVIDENCE, or a signature length over its suite's.
        UnsupportedError: ``RKD`` with another version digit, or an envelope magic of
            another version inside (§1.3).
        MalformedError: anything else out of shape (as §6.6 for the envelope's fields).
    """
    if len(raw) > MAX_EVIDENCE:
        raise TooLargeError(f"envelope evidence of {len(raw)} bytes exceeds {MAX_EVIDENCE}")
    r = Reader(raw, "envelope evidence")
    r.expect(MAGIC)
    hop = read_hop_fields(r, WHAT)
    _header_bytes, header, batch_sig = read_signed_header(r, hop, WHAT)
    wraps = read_wraps(r, HASH_SIZE, WHAT)
    ciphertext_len = r.u32()
    if ciphertext_len > MAX_ENVELOPE:
        raise TooLargeError("envelope evidence: ciphertext length over 8 MiB")
    ciphertext_hash = r.take(HASH_SIZE)
    hop_key_id = r.take(KEY_ID_SIZE)
    signed = raw[len(MAGIC) : len(raw) - r.remaining]
    hop_sig = r.blob16(hop.suite.signature_size, "hop signature")
    r.end()
    tail = (header, batch_sig, wraps, ciphertext_len, ciphertext_hash, hop_key_id, hop_sig, signed)
    return EnvelopeEvidence(*(hop.values() + tail))


__all__ = ["MAGIC", "EnvelopeEvidence", "decode_evidence", "evidence_form"]
