# SPDX-License-Identifier: Apache-2.0
"""Batches, envelopes, frontiers, fork proofs and acks (batches.py, envelope.py, frontier.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from protocol.batches import MAX_ENTRIES, BatchHeader, decode_header, sign_batch
from protocol.crypto import Suite, sha256
from protocol.entries import FLAG_EPOCH_START, Entry
from protocol.envelope import (
    address,
    decode_envelope,
    open_envelope,
    readdress,
    seal_batch,
    sealed_part,
)
from protocol.errors import (
    ChainError,
    DecryptionError,
    ExpiredError,
    ForkError,
    GapError,
    MalformedError,
    SignatureError,
    UnknownRecipientError,
    UnsupportedError,
)
from protocol.frontier import (
    Ack,
    ForkProof,
    Frontier,
    Head,
    check_continues,
    decode_ack,
    decode_fork_proof,
    sign_ack,
)
from protocol.ids import LogId
from protocol.signed import sign_object
from protocol.testing import NOW, chain_entries, make_node, person_payload
from protocol.testing import TestNode as Node
from tests.protocol.helpers import DAY_MS, Receive, SealedBatch, keyring


def header_of(entries: Sequence[Entry], serial: int = 1) -> BatchHeader:
    """The header sign_batch would make, without the cost of signing it."""
    hlcs = [e.hlc for e in entries]
    first, last = entries[0], entries[-1]
    return BatchHeader(
        first.suite, first.log, first.seq, last.seq, first.prev_hash, last.hash,
        min(hlcs), max(hlcs), serial,
    )  # fmt: skip


@pytest.fixture(scope="module")
def next_entries(village_log: LogId, entries: list[Entry]) -> list[Entry]:
    """Seqs 6..10, continuing the fixture batch."""
    return chain_entries(
        village_log,
        [person_payload(i) for i in range(6, 11)],
        first_seq=6,
        prev_hash=entries[-1].hash,
        hlc0=entries[-1].hlc + 1,
    )


@pytest.fixture(scope="module")
def forked_entries(village_log: LogId) -> list[Entry]:
    """Seqs 1..5 of the same log with other payloads: a second history."""
    return chain_entries(village_log, [person_payload(i) for i in range(101, 106)])


# Envelopes.


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
    """message_id = first 16 bytes of SHA-256(batch_header); key ids sorted and distinct."""
    env = decode_envelope(sealed_batch.raw)
    assert sha256(sealed_batch.header.to_bytes())[:16] == env.message_id
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
    header, sig = sign_batch(batch, cvillage.signing, cvillage.cert.serial)
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


def test_sign_batch_requires_consecutive_entries(village: Node, entries: list[Entry]) -> None:
    """A batch is a run of consecutive entries of one log."""
    for bad in ([], [entries[0], entries[2]], [entries[1], entries[0]]):
        with pytest.raises(ValueError):
            sign_batch(bad, village.signing, 1)


def test_seq_one_needs_zero_prev_hash_unless_epoch_start(
    village: Node, township: Node, receive: Receive, village_log: LogId
) -> None:
    """seq 1 without the epoch-start flag must have a zero prev hash."""
    prev = b"\x11" * 32
    for flags, ok in [(0, False), (FLAG_EPOCH_START, True)]:
        [entry] = chain_entries(village_log, [person_payload(1)], prev_hash=prev)
        entry = dataclasses.replace(entry, flags=flags)
        header, sig = sign_batch([entry], village.signing, 1)
        sealed = seal_batch([entry], header, sig, [township.kem.public_key])
        raw = address(sealed, village.signing, village.node, township.node, NOW, NOW + DAY_MS)
        if ok:
            assert [entry] == receive(raw)
        else:
            with pytest.raises(ChainError):
                receive(raw)


# Batch headers.


def test_header_round_trip(sealed_batch: SealedBatch) -> None:
    """Batch header: 128 bytes, big-endian, readable by relays without decrypting."""
    raw = sealed_batch.header.to_bytes()
    assert 128 == len(raw)
    assert sealed_batch.header == decode_header(raw)
    assert 5 == sealed_batch.header.count


def _patched(header: BatchHeader, offset: int, value: bytes) -> bytes:
    raw = bytearray(header.to_bytes())
    raw[offset : offset + len(value)] = value
    return bytes(raw)


@pytest.mark.parametrize(
    ("offset", "value", "error"),
    [
        pytest.param(0, b"RKB2", UnsupportedError, id="magic-version-2"),
        pytest.param(0, b"RKX1", MalformedError, id="magic"),
        pytest.param(4, b"\x03", UnsupportedError, id="unknown-suite"),
        pytest.param(5, b"\x01", MalformedError, id="reserved"),
        pytest.param(6, b"\x04", MalformedError, id="log-role"),
        pytest.param(20, b"\x00\x00\x00\x00", MalformedError, id="epoch-0"),
        pytest.param(24, bytes(8), MalformedError, id="first-seq-0"),
        pytest.param(24, (6).to_bytes(8, "big"), MalformedError, id="first-after-last"),
        pytest.param(32, (MAX_ENTRIES + 1).to_bytes(8, "big"), MalformedError, id="too-many"),
        pytest.param(104, b"\xff" * 8, MalformedError, id="hlc-min-after-max"),
    ],
)
def test_bad_headers(
    sealed_batch: SealedBatch, offset: int, value: bytes, error: type[Exception]
) -> None:
    """decode_header checks every structural rule of SPEC.md §5."""
    with pytest.raises(error):
        decode_header(_patched(sealed_batch.header, offset, value))


@pytest.mark.parametrize("size", [0, 127, 129])
def test_header_size(sealed_batch: SealedBatch, size: int) -> None:
    """The batch header is exactly 128 bytes."""
    raw = (sealed_batch.header.to_bytes() + b"\x00")[:size]
    with pytest.raises(MalformedError):
        decode_header(raw)


# Frontier: gap, duplicate, fork.


@pytest.fixture(scope="module")
def frontier(village_log: LogId, entries: list[Entry]) -> Frontier:
    """We hold seqs 1..5 of the village's log."""
    return Frontier({village_log: Head(5, entries[-1].hash)})


def test_next_on_empty_frontier(entries: list[Entry]) -> None:
    """ "next" when it extends our head (an unknown log starts at seq 1)."""
    assert "next" == check_continues(Frontier(), header_of(entries))


def test_next(frontier: Frontier, next_entries: list[Entry]) -> None:
    """ "next" when it extends our head."""
    assert "next" == check_continues(frontier, header_of(next_entries))


@pytest.mark.parametrize(("lo", "hi"), [(0, 5), (1, 3), (4, 5)])
def test_duplicate(frontier: Frontier, entries: list[Entry], lo: int, hi: int) -> None:
    """ "duplicate" when we already hold the whole range (idempotent re-delivery)."""
    assert "duplicate" == check_continues(frontier, header_of(entries[lo:hi]))


def test_gap(frontier: Frontier, next_entries: list[Entry]) -> None:
    """GapError: entries between our head and the batch are missing."""
    with pytest.raises(GapError) as info:
        check_continues(frontier, header_of(next_entries[2:]))
    assert (5, 8) == (info.value.have, info.value.first)


def test_gap_on_empty_frontier(next_entries: list[Entry]) -> None:
    """GapError: an unknown log must start at seq 1."""
    with pytest.raises(GapError) as info:
        check_continues(Frontier(), header_of(next_entries))
    assert (0, 6) == (info.value.have, info.value.first)


def test_partial_overlap(
    frontier: Frontier, entries: list[Entry], next_entries: list[Entry]
) -> None:
    """ChainError: the batch overlaps our head partially (ask from have + 1)."""
    spanning = header_of([*entries[2:], *next_entries[:2]])
    with pytest.raises(ChainError) as info:
        check_continues(frontier, spanning)
    assert ChainError is type(info.value)


def test_fork_same_range(frontier: Frontier, forked_entries: list[Entry]) -> None:
    """ForkError: the batch claims another hash for a seq where we know our head."""
    with pytest.raises(ForkError):
        check_continues(frontier, header_of(forked_entries))


def test_fork_on_continuation(
    frontier: Frontier, next_entries: list[Entry], forked_entries: list[Entry]
) -> None:
    """ForkError: a batch from seq have+1 whose prev hash is not our head."""
    header = dataclasses.replace(header_of(next_entries), prev_hash=forked_entries[-1].hash)
    with pytest.raises(ForkError):
        check_continues(frontier, header)


def test_frontier_json_round_trip(frontier: Frontier) -> None:
    """Canonical form: [[log, seq, head_hex], ...] sorted by log id text."""
    again = Frontier.from_json(frontier.to_json())
    assert frontier.digest() == again.digest()
    assert frontier.digest() != Frontier().digest()


LOG_TEXT = "village:440104001002#1"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="not-a-list"),
        pytest.param([[LOG_TEXT, 1]], id="short-item"),
        pytest.param([[LOG_TEXT, -1, "ab" * 32]], id="negative-seq"),
        pytest.param([[LOG_TEXT, True, "ab" * 32]], id="bool-seq"),
        pytest.param([[LOG_TEXT, 1, "ab" * 31]], id="short-head"),
        pytest.param([[LOG_TEXT, 1, "zz" * 32]], id="not-hex"),
        pytest.param([["village:440104001002", 1, "ab" * 32]], id="bad-log"),
    ],
)
def test_bad_frontier_json(data: object) -> None:
    """A decoder of the frontier JSON form MUST reject an item not [string, int >= 0, hex]."""
    with pytest.raises(MalformedError):
        Frontier.from_json(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param([[LOG_TEXT, 1, "AB" * 32]], id="upper-case-hex"),
        pytest.param([[LOG_TEXT, 1, "ab" * 31 + "  "]], id="whitespace-31-byte-head"),
        pytest.param([[LOG_TEXT, 1, "ab" * 32], [LOG_TEXT, 2, "cd" * 32]], id="log-twice"),
    ],
)
def test_frontier_json_strict(data: object) -> None:
    """Heads MUST be exactly 64 lowercase hex characters, and a log MUST NOT appear twice."""
    with pytest.raises(MalformedError):
        Frontier.from_json(data)


# Fork proofs.


@pytest.fixture(scope="module")
def fork_proof(
    village: Node, entries: list[Entry], forked_entries: list[Entry], sealed_batch: SealedBatch
) -> ForkProof:
    second, second_sig = sign_batch(forked_entries, village.signing, village.cert.serial)
    return ForkProof(sealed_batch.header, sealed_batch.batch_sig, second, second_sig)


def test_fork_proof_checks(fork_proof: ForkProof, village: Node) -> None:
    """Anyone can check it: both signatures, same log, a seq with two different hashes."""
    fork_proof.check(village.cert.verify_key)
    assert 5 == fork_proof.seq


def test_fork_proof_round_trip(fork_proof: ForkProof, village: Node) -> None:
    """A fork proof travels as RKF1 | header | sig | header | sig."""
    raw = fork_proof.to_bytes()
    assert raw.startswith(b"RKF1")
    again = decode_fork_proof(raw)
    assert fork_proof == again
    again.check(village.cert.verify_key)
    with pytest.raises(MalformedError):
        decode_fork_proof(raw + b"\x00")
    with pytest.raises(MalformedError):
        decode_fork_proof(raw[:-1])


def test_fork_proof_wrong_key(fork_proof: ForkProof, village2: Node) -> None:
    """A real fork of a log signed by key: both signatures must verify."""
    with pytest.raises(SignatureError):
        fork_proof.check(village2.cert.verify_key)


def test_fork_proof_forged_second_signature(fork_proof: ForkProof, village: Node) -> None:
    """A real fork of a log signed by key: both signatures must verify."""
    forged = dataclasses.replace(fork_proof, second_sig=fork_proof.first_sig)
    with pytest.raises(SignatureError):
        forged.check(village.cert.verify_key)


def test_non_fork_pair_rejected(
    village: Node, sealed_batch: SealedBatch, next_entries: list[Entry]
) -> None:
    """A proof of two headers that do not disagree on any seq is rejected."""
    second, second_sig = sign_batch(next_entries, village.signing, village.cert.serial)
    for pair in [
        ForkProof(sealed_batch.header, sealed_batch.batch_sig, second, second_sig),
        ForkProof(
            sealed_batch.header, sealed_batch.batch_sig, sealed_batch.header, sealed_batch.batch_sig
        ),
    ]:
        with pytest.raises(MalformedError):
            pair.check(village.cert.verify_key)


def test_fork_proof_of_different_logs(fork_proof: ForkProof, village: Node) -> None:
    """A fork proof needs two headers of the same log."""
    other_log = LogId(village.node, 2)
    bad = dataclasses.replace(
        fork_proof, second=dataclasses.replace(fork_proof.second, log=other_log)
    )
    with pytest.raises(MalformedError):
        bad.check(village.cert.verify_key)


# Acks.


@pytest.fixture(scope="module")
def ack(township: Node, village_log: LogId, entries: list[Entry]) -> Ack:
    return Ack(township.node, village_log, 5, entries[-1].hash, NOW)


def test_ack_round_trip(ack: Ack, township: Node) -> None:
    """A receiver's signed statement that it committed log through seq."""
    assert ack == decode_ack(sign_ack(ack, township.signing), township.cert.verify_key)


def test_ack_wrong_key(ack: Ack, township: Node, village: Node) -> None:
    """decode_ack verifies the acknowledging node's signature."""
    with pytest.raises(SignatureError):
        decode_ack(sign_ack(ack, township.signing), village.cert.verify_key)


def test_ack_wrong_type(township: Node) -> None:
    """decode_ack accepts only an 'ack' object."""
    with pytest.raises(MalformedError):
        decode_ack(township.cert.raw, township.cert.verify_key)


def test_ack_head_with_trailing_newline(ack: Ack, township: Node) -> None:
    """head is exactly 64 lower-case hex digits."""
    body = {
        "v": 1, "type": "ack", "by": str(ack.by), "log": str(ack.log), "seq": ack.seq,
        "head": ack.head.hex() + "\n", "at": ack.at,
    }  # fmt: skip
    with pytest.raises(MalformedError):
        decode_ack(sign_object(body, township.signing), township.cert.verify_key)
