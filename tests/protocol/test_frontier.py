# SPDX-License-Identifier: Apache-2.0
"""Frontiers, continuity, fork proofs and acknowledgements (protocol/frontier.py;
SPEC.md §8.4, §9)."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.batches import MAX_SEQ, sign_batch
from protocol.entries import Entry
from protocol.errors import ChainError, ForkError, GapError, MalformedError, SignatureError
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
from protocol.schemas import AckBody, load_body
from protocol.signed import sign_object
from protocol.testing import NOW, ORIGIN_EXPIRES, ORIGIN_SENT, chain_entries, person_payload
from protocol.testing import TestNode as Node
from tests.protocol.helpers import SealedBatch, header_of


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


@pytest.fixture(scope="module")
def fork_proof(
    village: Node, entries: list[Entry], forked_entries: list[Entry], sealed_batch: SealedBatch
) -> ForkProof:
    second, second_sig = sign_batch(
        forked_entries,
        village.signing,
        village.cert.serial,
        sent_ms=ORIGIN_SENT,
        expires_ms=ORIGIN_EXPIRES,
    )
    return ForkProof(sealed_batch.header, sealed_batch.batch_sig, second, second_sig)


def test_fork_proof_checks(fork_proof: ForkProof, village: Node) -> None:
    """Anyone can check it: both signatures, same log, a seq with two different hashes."""
    fork_proof.check(village.cert.verify_key)
    assert 5 == fork_proof.seq


def test_fork_proof_round_trip(fork_proof: ForkProof, village: Node) -> None:
    """A fork proof travels as RKF2 | header | sig | header | sig (headers of version 2)."""
    raw = fork_proof.to_bytes()
    assert raw.startswith(b"RKF2RKB2")
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
    second, second_sig = sign_batch(
        next_entries,
        village.signing,
        village.cert.serial,
        sent_ms=ORIGIN_SENT,
        expires_ms=ORIGIN_EXPIRES,
    )
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
    """The head is exactly 64 lower-case hex digits."""
    body = {
        "v": 1, "type": "ack", "by": str(ack.by), "log": str(ack.log), "seq": ack.seq,
        "head": ack.head.hex() + "\n", "at": ack.at,
    }  # fmt: skip
    with pytest.raises(MalformedError):
        decode_ack(sign_object(body, township.signing), township.cert.verify_key)


def test_check_continues_compares_older_claims_with_known_hashes(
    village: Node, entries: list[Entry], village_log: LogId
) -> None:
    """check_continues(known=...) raises ForkError for an older range that
    disagrees with a stored hash; without ``known`` it stays "duplicate"."""
    frontier = Frontier({village_log: Head(5, entries[-1].hash)})
    forked = chain_entries(village_log, [person_payload(i) for i in range(50, 53)])
    header, _ = sign_batch(
        forked, village.signing, village.cert.serial, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES
    )
    stored = {e.seq: e.hash for e in entries}
    assert "duplicate" == check_continues(frontier, header)
    with pytest.raises(ForkError):
        check_continues(frontier, header, known=stored.get)
    same, _ = sign_batch(
        entries[1:3],
        village.signing,
        village.cert.serial,
        sent_ms=ORIGIN_SENT,
        expires_ms=ORIGIN_EXPIRES,
    )
    assert "duplicate" == check_continues(frontier, same, known=stored.get)
    assert "duplicate" == check_continues(frontier, same, known=lambda seq: None)


LOG_TEXT = "village:440104001002#1"


@pytest.mark.parametrize(
    "data",
    [
        [[LOG_TEXT, 1, "AB" * 32]],
        [[LOG_TEXT, 1, "ab" * 31 + "  "]],
        [[LOG_TEXT, 1, "ab" * 32 + "\n"]],
        [[LOG_TEXT, 1, "ab" * 32], [LOG_TEXT, 2, "cd" * 32]],
        [["village:440104001002#01", 1, "ab" * 32]],
        [[LOG_TEXT, MAX_SEQ + 1, "ab" * 32]],
        [[LOG_TEXT, True, "ab" * 32]],
    ],
)
def test_frontier_from_json_is_strict(data: object) -> None:
    """Heads fullmatch [0-9a-f]{64}, logs distinct and canonical."""
    assert 1 == len(Frontier.from_json([[LOG_TEXT, 1, "ab" * 32]]))
    with pytest.raises(MalformedError):
        Frontier.from_json(data)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("by", "county:440104\n"),
        ("by", "county:\u0664\u0664\u0660\u0661\u0660\u0664"),
        ("log", LOG_TEXT + "\n"),
        ("head", "ab" * 32 + "\n"),
    ],
)
def test_schema_patterns_are_full_ascii_matches(name: str, value: str) -> None:
    """Schema regexes are \\Z-anchored and use [0-9], not \\d."""
    body = {
        "v": 1, "type": "ack", "by": "county:440104", "log": LOG_TEXT, "seq": 1,
        "head": "ab" * 32, "at": NOW,
    }  # fmt: skip
    load_body(AckBody(), body, "ack")
    with pytest.raises(MalformedError):
        load_body(AckBody(), {**body, name: value}, "ack")
