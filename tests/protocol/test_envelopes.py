# SPDX-License-Identifier: Apache-2.0
"""Envelopes: sealing, addressing, relaying and opening (protocol/envelope.py, SPEC.md §6)."""

from __future__ import annotations

import dataclasses
import zlib

import pytest

from protocol import envelope
from protocol.batches import sign_batch
from protocol.crypto import Suite, sha256
from protocol.entries import FLAG_EPOCH_START, Entry
from protocol.envelope import (
    HOP_CONTEXT,
    MAX_LIFETIME_MS,
    address,
    decode_envelope,
    open_envelope,
    readdress,
    seal_batch,
    sealed_part,
    without_wrap,
)
from protocol.errors import (
    ChainError,
    DecryptionError,
    ExpiredError,
    MalformedError,
    SignatureError,
    TooLargeError,
    UnknownRecipientError,
)
from protocol.ids import LogId
from protocol.testing import (
    NOW,
    ORIGIN_EXPIRES,
    ORIGIN_SENT,
    chain_entries,
    make_node,
    person_payload,
)
from protocol.testing import TestNode as Node
from tests.protocol.helpers import DAY_MS, Receive, SealedBatch, keyring


def test_round_trip(sealed_batch: SealedBatch, receive: Receive) -> None:
    """A recipient opens only what is wrapped for it and rebuilds the signed entries."""
    assert sealed_batch.entries == receive(sealed_batch.raw)


def test_county_reads_the_same_envelope(
    sealed_batch: SealedBatch, receive: Receive, root: Node
) -> None:
    """The frames are sealed once; the key is wrapped per recipient."""
    assert sealed_batch.entries == receive(sealed_batch.raw, keys=keyring(root))


def test_envelope_fields(
    sealed_batch: SealedBatch, village: Node, township: Node, root: Node
) -> None:
    """message_id = first 16 bytes of SHA-256 of the batch header's first 128 bytes (not
    the origin's times); key ids sorted and distinct."""
    env = decode_envelope(sealed_batch.raw)
    assert sha256(sealed_batch.header.to_bytes()[:128])[:16] == env.message_id
    assert sealed_batch.header == env.header
    assert (village.node, township.node) == (env.sender, env.recipient)
    assert (NOW, NOW + DAY_MS) == (env.sent_ms, env.expires_ms)
    assert sorted(keyring(township, root)) == env.recipient_key_ids
    assert sealed_batch.sealed == sealed_part(env)
    assert sealed_batch.raw == env.raw


def test_relay_readdress_keeps_message_id(
    sealed_batch: SealedBatch, receive: Receive, township: Node, root: Node, village: Node
) -> None:
    """A relay that forwards replaces from/to/sent/expires and the hop signature."""
    env = decode_envelope(sealed_batch.raw)
    forwarded = readdress(env, township.signing, township.node, root.node, NOW + 5, NOW + DAY_MS)
    fwd = decode_envelope(forwarded)
    assert env.message_id == fwd.message_id
    assert (env.ciphertext, env.wraps, env.batch_sig) == (fwd.ciphertext, fwd.wraps, fwd.batch_sig)
    assert (township.node, root.node, NOW + 5) == (fwd.sender, fwd.recipient, fwd.sent_ms)
    assert sealed_batch.entries == receive(forwarded, hop=township, keys=keyring(root))
    with pytest.raises(SignatureError):
        fwd.verify_hop(village.cert.verify_key, NOW)


def test_a_township_takes_its_own_wrap_out(
    sealed_batch: SealedBatch, receive: Receive, township: Node, root: Node
) -> None:
    """SPEC.md §6.3.2: once the county has acknowledged a batch, the township keeps it
    without its own wrap: the same message, header, signature and ciphertext, which the
    county still opens and the township no longer does."""
    env = decode_envelope(sealed_batch.raw)
    own = township.kem.public_key.key_id
    kept = address(without_wrap(env, own), township.signing, township.node, root.node,
                   env.sent_ms, env.expires_ms)  # fmt: skip
    again = decode_envelope(kept)
    assert (again.message_id, again.ciphertext, again.batch_sig) == (
        env.message_id,
        env.ciphertext,
        env.batch_sig,
    )
    assert again.recipient_key_ids == [root.kem.public_key.key_id]
    assert sealed_batch.entries == receive(kept, hop=township, keys=keyring(root))
    with pytest.raises(UnknownRecipientError):
        receive(kept, hop=township, keys=keyring(township))
    with pytest.raises(ValueError, match="no wrap"):
        without_wrap(again, own)
    with pytest.raises(ValueError, match="at least one"):
        without_wrap(again, root.kem.public_key.key_id)


def test_not_a_recipient(sealed_batch: SealedBatch, receive: Receive, village2: Node) -> None:
    """UnknownRecipientError: nothing is wrapped for any key we hold."""
    with pytest.raises(UnknownRecipientError):
        receive(sealed_batch.raw, keys=keyring(village2))
    with pytest.raises(UnknownRecipientError):
        receive(sealed_batch.raw, keys={})


def test_key_id_of_a_recipient_with_the_wrong_private_key(
    sealed_batch: SealedBatch, receive: Receive, township: Node, village2: Node
) -> None:
    """DecryptionError: the wrap does not open (a key id that names someone else's key)."""
    with pytest.raises(DecryptionError):
        receive(sealed_batch.raw, keys={township.kem.public_key.key_id: village2.kem})


@pytest.mark.parametrize(
    ("now", "expired"), [(NOW, False), (NOW + DAY_MS, False), (NOW + DAY_MS + 1, True)]
)
def test_expired_envelope(
    sealed_batch: SealedBatch, receive: Receive, now: int, expired: bool
) -> None:
    """ExpiredError: now_ms is past expires_ms (a replay of an old envelope)."""
    if not expired:
        assert sealed_batch.entries == receive(sealed_batch.raw, now=now)
        return
    with pytest.raises(ExpiredError):
        receive(sealed_batch.raw, now=now)


def test_hop_signed_by_another_node(
    sealed_batch: SealedBatch, receive: Receive, village: Node, village2: Node, township: Node
) -> None:
    """SignatureError: not signed by key (the sender's certified key)."""
    forged = address(
        sealed_batch.sealed, village2.signing, village.node, township.node, NOW, NOW + DAY_MS
    )
    with pytest.raises(SignatureError):
        receive(forged)
    assert sealed_batch.entries == receive(forged, hop=village2)


def test_batch_verified_against_origin(
    sealed_batch: SealedBatch, receive: Receive, village2: Node
) -> None:
    """The origin signs CONTEXT || header; relays can check it without decrypting."""
    with pytest.raises(SignatureError):
        receive(sealed_batch.raw, origin=village2)


def test_erased_payload_still_rebuilds(
    village: Node, township: Node, entries: list[Entry], sealed_batch: SealedBatch, receive: Receive
) -> None:
    """A payload erased at the end of its retention leaves a chain that still verifies."""
    kept = [e.erased() if e.seq in (2, 5) else e for e in entries]
    sealed = seal_batch(
        kept, sealed_batch.header, sealed_batch.batch_sig, [township.kem.public_key]
    )
    raw = address(sealed, village.signing, village.node, township.node, NOW, NOW + DAY_MS)
    got = receive(raw)
    assert kept == got
    assert [None, None] == [got[1].payload, got[4].payload]
    assert [e.hash for e in entries] == [e.hash for e in got]


def test_classic_suite_round_trip() -> None:
    """CLASSIC (2): Ed25519; HPKE with DHKEM(X25519)."""
    croot = make_node("440104", suite=Suite.CLASSIC)
    cvillage = make_node("440104001002", croot, suite=Suite.CLASSIC)
    ctown = make_node("440104001", croot, suite=Suite.CLASSIC)
    log = LogId(cvillage.node, 1)
    batch = chain_entries(log, [person_payload(1), person_payload(2)], suite=Suite.CLASSIC)
    header, sig = sign_batch(
        batch,
        cvillage.signing,
        cvillage.cert.serial,
        sent_ms=ORIGIN_SENT,
        expires_ms=ORIGIN_EXPIRES,
    )
    sealed = seal_batch(batch, header, sig, [ctown.kem.public_key])
    raw = address(sealed, cvillage.signing, cvillage.node, ctown.node, NOW, NOW + DAY_MS)
    env = decode_envelope(raw)
    env.verify_hop(cvillage.signing.verify_key, NOW)
    env.verify_batch(cvillage.signing.verify_key)
    assert batch == open_envelope(env, keyring(ctown))


def test_seal_batch_programmer_errors(
    sealed_batch: SealedBatch, township: Node, village: Node
) -> None:
    """1..MAX_RECIPIENTS recipients of the batch's suite (no PQ/classical mixing)."""
    h, sig = sealed_batch.header, sealed_batch.batch_sig
    classic = make_node("440104", suite=Suite.CLASSIC)
    with pytest.raises(ValueError):
        seal_batch(sealed_batch.entries, h, sig, [])
    with pytest.raises(ValueError):
        seal_batch(sealed_batch.entries, h, sig, [township.kem.public_key] * 9)
    with pytest.raises(ValueError):
        seal_batch(sealed_batch.entries, h, sig, [classic.kem.public_key])
    with pytest.raises(ValueError):
        address(sealed_batch.sealed, village.signing, village.node, township.node, NOW, NOW)


def test_seq_one_needs_zero_prev_hash_unless_epoch_start(
    village: Node, township: Node, receive: Receive, village_log: LogId
) -> None:
    """Seq 1 without the epoch-start flag must have a zero prev hash."""
    prev = b"\x11" * 32
    for flags, ok in [(0, False), (FLAG_EPOCH_START, True)]:
        [entry] = chain_entries(village_log, [person_payload(1)], prev_hash=prev)
        entry = dataclasses.replace(entry, flags=flags)
        header, sig = sign_batch(
            [entry], village.signing, 1, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES
        )
        sealed = seal_batch([entry], header, sig, [township.kem.public_key])
        raw = address(sealed, village.signing, village.node, township.node, NOW, NOW + DAY_MS)
        if ok:
            assert [entry] == receive(raw)
        else:
            with pytest.raises(ChainError):
                receive(raw)


def test_envelope_lifetime_and_hop_key_id_signed(
    village: Node, township: Node, sealed_batch: SealedBatch
) -> None:
    """decode_envelope refuses expires_ms <= sent_ms and a lifetime over
    MAX_LIFETIME_MS (30 days); the hop signature, over the digest form (§6.4), also
    covers hop_key_id."""
    raw = sealed_batch.raw
    for expires in (NOW, NOW - 1, NOW + MAX_LIFETIME_MS + 1):
        with pytest.raises(MalformedError):
            decode_envelope(raw[:57] + expires.to_bytes(8, "big") + raw[65:])
    with pytest.raises(ValueError):
        address(sealed_batch.sealed, village.signing, village.node, township.node,
                NOW, NOW + MAX_LIFETIME_MS + 1)  # fmt: skip
    longest = address(sealed_batch.sealed, village.signing, village.node, township.node,
                      NOW, NOW + MAX_LIFETIME_MS)  # fmt: skip
    decode_envelope(longest).verify_hop(village.cert.verify_key, NOW)
    env = decode_envelope(raw)
    sig_len = len(env.hop_sig)
    key = village.cert.verify_key
    signed = env.digest_form()
    assert signed.endswith(env.hop_key_id) and signed != raw[: len(raw) - 2 - sig_len]
    key.verify(env.hop_sig, HOP_CONTEXT + signed)
    with pytest.raises(SignatureError):
        key.verify(env.hop_sig, HOP_CONTEXT + signed[:-8])


def test_duplicate_recipients_are_refused(root: Node, sealed_batch: SealedBatch) -> None:
    """Naming one recipient key twice is a ValueError when sealing (SPEC.md §6.3 step 2)."""
    key = root.kem.public_key
    with pytest.raises(ValueError):
        seal_batch(sealed_batch.entries, sealed_batch.header, sealed_batch.batch_sig, [key, key])


def test_inflate_bound_is_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames inflating to exactly MAX_FRAMES are fine; one byte more is
    TooLargeError."""
    monkeypatch.setattr(envelope, "MAX_FRAMES", 1000)
    assert b"x" * 1000 == envelope._inflate(zlib.compress(b"x" * 1000))
    assert b"x" * 999 == envelope._inflate(zlib.compress(b"x" * 999))
    with pytest.raises(TooLargeError):
        envelope._inflate(zlib.compress(b"x" * 1001))
    with pytest.raises(MalformedError):
        envelope._inflate(zlib.compress(b"x" * 1000)[:-2])


def test_recovery_cards_inflate_within_their_own_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshot's cards go through the same bounded inflater as sealed frames, under
    their own bound (SPEC §8.10): exactly MAX_CARDS is fine, one byte more is too large,
    a cut stream is malformed."""
    from protocol import recovery

    monkeypatch.setattr(recovery, "MAX_CARDS", 1000)
    assert b"y" * 1000 == recovery._inflate(zlib.compress(b"y" * 1000))
    with pytest.raises(TooLargeError, match="recovery cards inflate beyond 1000 bytes"):
        recovery._inflate(zlib.compress(b"y" * 1001))
    with pytest.raises(MalformedError, match="recovery cards are truncated"):
        recovery._inflate(zlib.compress(b"y" * 1000)[:-2])
