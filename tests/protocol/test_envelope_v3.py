# SPDX-License-Identifier: Apache-2.0
"""Envelope version 3 (SPEC.md §1.3): the origin's expiry under the origin's signature,
the hop signature over the digest form, and the wrap-free evidence form (§6.4)."""

from __future__ import annotations

import pytest

from protocol.batches import sign_batch
from protocol.binary import Reader, u64
from protocol.envelope import _addressed, address, decode_envelope, readdress, sealed_part
from protocol.envelope_evidence import MAX_EVIDENCE, decode_evidence, evidence_form
from protocol.errors import (
    ExpiryExtendedError,
    MalformedError,
    SignatureError,
    TooLargeError,
    UnsupportedError,
)
from protocol.hop import HOP_FIELDS_SIZE, read_hop_fields
from protocol.testing import NOW
from protocol.testing import TestNode as Node
from tests.protocol.helpers import DAY_MS, Receive, SealedBatch

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def brief(sealed_batch: SealedBatch, village: Node, township: Node, root: Node) -> bytes:
    """The sealed part of the batch as the village sealed it good for one hour only."""
    from protocol.envelope import seal_batch

    header, sig = sign_batch(sealed_batch.entries, village.signing, village.cert.serial,
                             sent_ms=NOW, expires_ms=NOW + HOUR_MS)  # fmt: skip
    return seal_batch(sealed_batch.entries, header, sig,
                      [township.kem.public_key, root.kem.public_key])  # fmt: skip


def test_a_hop_expiry_later_than_the_origins_is_refused(
    brief: bytes, receive: Receive, village: Node, township: Node, root: Node
) -> None:
    """§6.7 step 2: a hop that signs a later expiry than the origin's batch header is
    refused with expiry_extended, after its signature verified (so it is the hop's
    doing); the same hop at the origin's expiry is taken; the sender's address() and a
    relay's readdress() refuse to sign a later one."""
    later = _addressed(brief, township.signing, township.node, root.node, NOW, NOW + 2 * HOUR_MS)
    with pytest.raises(ExpiryExtendedError) as exc:
        receive(later, hop=township)
    assert exc.value.code == "expiry_extended" and str(township.node) in str(exc.value)
    with pytest.raises(SignatureError):  # the signature is checked first
        receive(later, hop=village)
    at_origin = address(brief, township.signing, township.node, root.node, NOW, NOW + HOUR_MS)
    assert receive(at_origin, hop=township)
    with pytest.raises(ValueError):
        address(brief, township.signing, township.node, root.node, NOW, NOW + HOUR_MS + 1)
    with pytest.raises(ValueError):
        readdress(decode_envelope(at_origin), township.signing, township.node, root.node,
                  NOW + 1, NOW + DAY_MS)  # fmt: skip


def test_the_origins_expiry_is_under_the_origins_signature(
    brief: bytes, receive: Receive, township: Node, root: Node
) -> None:
    """A relay that rewrites the header's expiry (and signs its hop over it) fails the
    origin's signature: it cannot give itself a later bound to stay within."""
    forged = bytearray(brief)
    forged[136:144] = (NOW + DAY_MS).to_bytes(8, "big")  # the header's expires_ms
    raw = _addressed(bytes(forged), township.signing, township.node, root.node, NOW,
                     NOW + DAY_MS)  # fmt: skip
    with pytest.raises(SignatureError):
        receive(raw, hop=township)


def test_the_message_id_names_the_batch_not_the_sealing(
    sealed_batch: SealedBatch, brief: bytes, village: Node, township: Node
) -> None:
    """§6.2: sealed again with other times, the batch keeps its message id (the header's
    first 128 bytes), while the wrap info and the AAD bind the whole header."""
    again = address(brief, village.signing, village.node, township.node, NOW, NOW + HOUR_MS)
    a, b = decode_envelope(sealed_batch.raw), decode_envelope(again)
    assert a.message_id == b.message_id and a.header_bytes != b.header_bytes
    assert a.header.expires_ms != b.header.expires_ms


def test_the_evidence_form_proves_hop_and_origin_without_wraps(
    sealed_batch: SealedBatch, village: Node, village2: Node, township: Node, root: Node
) -> None:
    """§6.4: the evidence form verifies with the hop's and the origin's keys, holds no
    wrap and no ciphertext, and fails with another hop key or a changed digest; a
    relay's copy gives evidence of the relay."""
    env = decode_envelope(sealed_batch.raw)
    form = evidence_form(env)
    kept = decode_evidence(form)
    kept.verify(village.cert.verify_key, village.cert.verify_key)
    assert (kept.sender, kept.recipient, kept.message_id) == (env.sender, env.recipient,
                                                              env.message_id)  # fmt: skip
    assert kept.ciphertext_len == len(env.ciphertext) and not kept.extends_expiry
    assert env.ciphertext not in form and all(w not in form for _, w in env.wraps)
    assert len(form) < len(sealed_batch.raw) and len(form) <= MAX_EVIDENCE
    with pytest.raises(SignatureError):
        kept.verify(village2.cert.verify_key, village.cert.verify_key)
    with pytest.raises(SignatureError):
        kept.verify(village.cert.verify_key, village2.cert.verify_key)
    changed = bytearray(form)
    changed[len(form) - 2 - len(env.hop_sig) - 8 - 1] ^= 1  # the ciphertext's hash
    with pytest.raises(SignatureError):
        decode_evidence(bytes(changed)).verify(village.cert.verify_key, village.cert.verify_key)
    relayed = readdress(env, township.signing, township.node, root.node, NOW + 1, NOW + DAY_MS)
    again = decode_evidence(evidence_form(decode_envelope(relayed)))
    again.verify(township.cert.verify_key, village.cert.verify_key)
    assert again.sender == township.node


def test_the_evidence_decoder_bounds_and_versions(sealed_batch: SealedBatch) -> None:
    """Decoding checks the magic's version, the inner envelope magic, sizes and the end."""
    form = evidence_form(decode_envelope(sealed_batch.raw))
    for bad, error in (
        (b"RKD2" + form[4:], UnsupportedError),
        (b"RKX1" + form[4:], MalformedError),
        (form[:4] + b"RKV2" + form[8:], UnsupportedError),
        (form + b"\x00", MalformedError),
        (form[:-1], MalformedError),
        (form + bytes(MAX_EVIDENCE), TooLargeError),
    ):
        with pytest.raises(error):
            decode_evidence(bad)
    assert sealed_part(decode_envelope(sealed_batch.raw)) == sealed_batch.sealed


def test_the_hop_fields_are_read_and_written_in_one_place(sealed_batch: SealedBatch) -> None:
    """§6.2: an envelope's hop fields and those its evidence keeps are decoded by one
    reader (read_hop_fields) with one set of checks, and HopFields.encode writes the
    bytes the hop wrote."""
    env = decode_envelope(sealed_batch.raw)
    hop = read_hop_fields(Reader(sealed_batch.raw, "envelope"), "envelope")
    assert hop.encode() == sealed_batch.raw[:HOP_FIELDS_SIZE]
    kept = decode_evidence(evidence_form(env))
    as_sent = (env.hop_suite, env.message_id, env.sender, env.recipient, env.sent_ms,
               env.expires_ms)  # fmt: skip
    as_kept = (kept.hop_suite, kept.message_id, kept.sender, kept.recipient, kept.sent_ms,
               kept.expires_ms)  # fmt: skip
    assert hop.values() == as_sent == as_kept
    expires_at = HOP_FIELDS_SIZE - 8  # expires_ms, the last hop field: now = sent_ms
    stale = sealed_batch.raw[:expires_at] + u64(env.sent_ms) + sealed_batch.raw[HOP_FIELDS_SIZE:]
    form = evidence_form(env)
    stale_form = form[: 4 + expires_at] + u64(env.sent_ms) + form[4 + HOP_FIELDS_SIZE :]
    for decode, bad in ((decode_envelope, stale), (decode_evidence, stale_form)):
        with pytest.raises(MalformedError, match="expires_ms must be after sent_ms"):
            decode(bad)
