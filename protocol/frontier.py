# SPDX-License-Identifier: Apache-2.0
"""Frontiers (the version vector), acknowledgements, gaps and fork proofs.

A frontier maps each log to ``(max contiguous seq, head hash)``. Two peers compare one
SHA-256 of their frontiers first, so a sync where nothing changed costs one round trip.
A sender advances its record of a peer only from the peer's signed acknowledgement,
sent after the peer committed (CouchDB's and Tarr's lesson: never from "I sent it").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from protocol import canonical
from protocol.batches import MAX_SEQ, BatchHeader, decode_header
from protocol.batches import SIZE as HEADER_SIZE
from protocol.binary import Reader, blob16
from protocol.crypto import SigningKey, VerifyKey, sha256
from protocol.errors import ChainError, ForkError, GapError, MalformedError, TooLargeError
from protocol.ids import LogId, NodeId
from protocol.schemas import AckBody, load_body
from protocol.signed import decode_signed, sign_object

MAX_FRONTIER_LOGS = 100_000
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: bytes


class Frontier:
    """What a node holds contiguously of every log it knows."""

    def __init__(self, heads: Mapping[LogId, Head] | None = None) -> None:
        self._heads: dict[LogId, Head] = dict(heads or {})

    def get(self, log: LogId) -> Head | None:
        return self._heads.get(log)

    def items(self) -> Iterable[tuple[LogId, Head]]:
        return self._heads.items()

    def __len__(self) -> int:
        return len(self._heads)

    def set(self, log: LogId, head: Head) -> None:
        self._heads[log] = head

    def to_json(self) -> list[Any]:
        """Canonical form: ``[[log, seq, head_hex], …]`` sorted by log id text."""
        return sorted([str(log), h.seq, h.hash.hex()] for log, h in self._heads.items())

    def digest(self) -> bytes:
        """One hash of the whole frontier: equal digests mean nothing to exchange."""
        return sha256(canonical.encode({"v": 1, "frontier": self.to_json()}))

    @classmethod
    def from_json(cls, data: object) -> Frontier:
        """Parse the JSON form strictly (SPEC.md §9.1).

        Each item is ``[log, seq, head]``: a canonical LogId text, an integer seq in
        0..2**53-1 and exactly 64 lower-case hex characters; no log appears twice.

        Raises:
            TooLargeError: more than MAX_FRONTIER_LOGS items.
            MalformedError: anything else that is not that form.
        """
        if type(data) is not list:
            raise MalformedError("frontier must be a list of [log, seq, head]")
        if len(data) > MAX_FRONTIER_LOGS:
            raise TooLargeError(f"frontier of {len(data)} logs exceeds {MAX_FRONTIER_LOGS}")
        heads: dict[LogId, Head] = {}
        for item in data:
            if not (type(item) is list and len(item) == 3 and type(item[0]) is str):
                raise MalformedError("frontier item must be [log, seq, head_hex]")
            log = LogId.parse(item[0])
            seq, head = item[1], item[2]
            if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
                raise MalformedError(f"frontier item for {log} has a bad seq")
            if type(head) is not str or not _HEX64.fullmatch(head):
                raise MalformedError(f"frontier head for {log} is not 64 lower-case hex digits")
            if log in heads:
                raise MalformedError(f"frontier names {log} twice")
            heads[log] = Head(seq, bytes.fromhex(head))
        return cls(heads)


def check_continues(
    frontier: Frontier,
    header: BatchHeader,
    known: Callable[[int], bytes | None] | None = None,
) -> str:
    """Classify a verified batch header against what we hold of its log.

    Returns ``"next"`` when it extends our head, ``"duplicate"`` when the whole range is
    at or below our head (idempotent re-delivery).

    ``known``, if given, looks up the entry hash we hold (or a hash a signed header we
    kept claims) for a seq of ``header.log``, returning None where we know nothing.
    Every claim of the header (:meth:`BatchHeader.claims`) is compared with it first,
    so an older range that disagrees with what we stored is a fork, not a duplicate.
    Without ``known`` only our head hash is compared: a re-sent older range whose
    claims all lie below our head is classified ``"duplicate"`` unchecked (SPEC.md §9.2).

    Raises:
        GapError: entries between our head and the batch are missing (ask for a resend).
        ChainError: the batch overlaps our head partially; the caller should ask for
            the range from ``have + 1`` instead.
        ForkError: the batch claims another hash for a seq where we know the hash
            (without a proof: the caller builds one from the two signed headers).
    """
    if known is not None:
        for seq, claimed in sorted(header.claims().items()):
            held = known(seq)
            if held is not None and held != claimed:
                raise ForkError(f"{header.log}: batch claims another hash for seq {seq}")
    have = frontier.get(header.log) or Head(0, bytes(32))
    if header.first_seq == have.seq + 1:
        if have.seq > 0 and header.prev_hash != have.hash:
            raise ForkError(f"{header.log}: batch from seq {header.first_seq} forks our head")
        return "next"
    if header.first_seq > have.seq + 1:
        raise GapError(
            f"{header.log}: have through seq {have.seq}, batch starts at {header.first_seq}",
            have=have.seq,
            first=header.first_seq,
        )
    claim = header.claims().get(have.seq)
    if claim is not None and claim != have.hash:
        raise ForkError(f"{header.log}: batch claims another hash for seq {have.seq}")
    if header.last_seq <= have.seq:
        return "duplicate"
    raise ChainError(
        f"{header.log}: batch {header.first_seq}..{header.last_seq} overlaps our head {have.seq}"
    )


@dataclass(frozen=True, slots=True)
class ForkProof:
    """Two validly signed batch headers of one log that claim different hashes for a seq."""

    first: BatchHeader
    first_sig: bytes
    second: BatchHeader
    second_sig: bytes

    MAGIC = b"RKF2"
    """Version 2: around batch headers of version 2 (144 bytes, SPEC.md §1.3, §9.3)."""

    def to_bytes(self) -> bytes:
        return (
            self.MAGIC
            + self.first.to_bytes()
            + blob16(self.first_sig)
            + self.second.to_bytes()
            + blob16(self.second_sig)
        )

    @property
    def seq(self) -> int:
        a, b = self.first.claims(), self.second.claims()
        return min(s for s in a.keys() & b.keys() if a[s] != b[s])

    def check(self, key: VerifyKey) -> None:
        """Return None if this is a real fork of a log signed by ``key``; else raise.

        Anyone can check it: both signatures, same log, a seq with two different hashes.
        """
        if self.first.log != self.second.log:
            raise MalformedError("fork proof: headers are of different logs")
        a, b = self.first.claims(), self.second.claims()
        if not any(a[s] != b[s] for s in a.keys() & b.keys()):
            raise MalformedError("fork proof: the headers do not disagree on any seq")
        self.first.verify(key, self.first_sig)
        self.second.verify(key, self.second_sig)


def decode_fork_proof(raw: bytes) -> ForkProof:
    if len(raw) > 2 * (HEADER_SIZE + 2 + 4096) + 4:
        raise TooLargeError("fork proof is too large")
    r = Reader(raw, "fork proof")
    r.expect(ForkProof.MAGIC)
    first = decode_header(r.take(HEADER_SIZE))
    first_sig = r.blob16(first.suite.signature_size, "signature")
    second = decode_header(r.take(HEADER_SIZE))
    second_sig = r.blob16(second.suite.signature_size, "signature")
    r.end()
    return ForkProof(first, first_sig, second, second_sig)


@dataclass(frozen=True, slots=True)
class Ack:
    """A receiver's signed statement that it committed ``log`` through ``seq``."""

    by: NodeId
    log: LogId
    seq: int
    head: bytes
    at: int


def sign_ack(ack: Ack, key: SigningKey) -> bytes:
    body = {
        "v": 1,
        "type": "ack",
        "by": str(ack.by),
        "log": str(ack.log),
        "seq": ack.seq,
        "head": ack.head.hex(),
        "at": ack.at,
    }
    return sign_object(body, key)


def decode_ack(raw: bytes, key: VerifyKey) -> Ack:
    """Parse and verify an acknowledgement signed by ``key`` (the acknowledging node's)."""
    signed = decode_signed(raw, expect_type="ack")
    body = load_body(AckBody(), signed.body, "ack")
    signed.verify(key)
    return Ack(
        NodeId.parse(body["by"]),
        LogId.parse(body["log"]),
        body["seq"],
        bytes.fromhex(body["head"]),
        body["at"],
    )
