# SPDX-License-Identifier: Apache-2.0
"""Batches: a run of consecutive entries of one log under one origin signature.

Batch header (144 bytes, big-endian, readable by relays without decrypting)::

    "RKB2" | suite u8 | reserved u8 (0) | log_id [18] | first_seq u64 | last_seq u64
           | prev_hash [32] | head_hash [32] | hlc_min u64 | hlc_max u64 | cert_serial u64
           | sent_ms u64 | expires_ms u64

The origin signs ``CONTEXT || header``. ``sent_ms`` and ``expires_ms`` are the origin's
sending of this batch (version 2, SPEC.md §1.3): its expiry is under the origin's own
signature, so no relay can hand the batch on as fresh beyond it (a hop's expiry is at
most this one, §6.5, and every receiver checks that). The first 128 bytes (the
*identity*) name the batch however often it is sealed again: the message id hashes
them alone (§6.2). Because entries chain, recomputing every entry
hash from the opened frames and finding ``head_hash`` at the end authenticates the whole
range with one signature check (SSB's Butt2 lesson: verification cost per batch, not per
entry).

Inside the sealed part the entries travel as frames (format 2, :mod:`protocol.frames`):
columns of clock deltas, rulesets, flags and payloads. Seq, prev hash, payload hashes
and lengths (of present payloads) and the entry hashes are never sent: the reader
derives them, here.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, repeat
from typing import cast

from protocol.binary import Reader, check_magic
from protocol.crypto import SigningKey, Suite, VerifyKey
from protocol.entries import (
    FLAG_EPOCH_START,
    HEADER,
    KNOWN_FLAGS,
    ZERO_HASH,
    Entry,
    rebuilt_entry,
)
from protocol.entries import (
    MAGIC as ENTRY_MAGIC,
)
from protocol.errors import ChainError, MalformedError
from protocol.frames import decode_frames
from protocol.ids import LogId

MAGIC = b"RKB2"
"""Version 2: the origin's sending time and expiry at the end (SPEC.md §1.3, §5.2)."""
CONTEXT = b"renkou-net/1 batch\x00"
LAYOUT = struct.Struct(">4sBB18sQQ32s32sQQQQQ")
SIZE = LAYOUT.size
IDENTITY_SIZE = SIZE - 16
"""The header without the origin's times: what names the batch (message id, §6.2)."""
MAX_LIFETIME_MS = 30 * 86_400_000
"""An origin's batch lives at most 30 days after it sent it, and so does every hop's
envelope of it (SPEC.md §6.1, §6.5)."""
MAX_ENTRIES = 10_000
MAX_SEQ = 2**53 - 1
"""Seqs are u64 on the wire but also appear in JSON (acks, frontiers, bases), so they
are bounded by the canonical-JSON integer range everywhere."""
_HLC_LIMIT = 1 << 64


@dataclass(frozen=True, slots=True)
class BatchHeader:
    suite: Suite
    log: LogId
    first_seq: int
    last_seq: int
    prev_hash: bytes
    head_hash: bytes
    hlc_min: int
    hlc_max: int
    cert_serial: int
    sent_ms: int
    expires_ms: int

    def to_bytes(self) -> bytes:
        return LAYOUT.pack(
            MAGIC,
            self.suite,
            0,
            self.log.to_bytes(),
            self.first_seq,
            self.last_seq,
            self.prev_hash,
            self.head_hash,
            self.hlc_min,
            self.hlc_max,
            self.cert_serial,
            self.sent_ms,
            self.expires_ms,
        )

    @property
    def count(self) -> int:
        return self.last_seq - self.first_seq + 1

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.to_bytes()).digest()

    @property
    def message_id(self) -> bytes:
        """SHA-256 of the identity part (all but the origin's times), first 16 bytes:
        the same for every sealing of the same range (SPEC.md §6.2)."""
        return hashlib.sha256(self.to_bytes()[:IDENTITY_SIZE]).digest()[:16]

    def claims(self) -> dict[int, bytes]:
        """The entry hashes this header vouches for, by seq (for fork detection)."""
        out = {self.last_seq: self.head_hash}
        if self.first_seq > 1:
            out[self.first_seq - 1] = self.prev_hash
        return out

    def verify(self, key: VerifyKey, signature: bytes) -> None:
        """Return None if the origin's ``key`` signed this header; else SignatureError."""
        key.verify(signature, CONTEXT + self.to_bytes())


def decode_header(raw: bytes) -> BatchHeader:
    """Parse the fixed 144-byte header, checking every structural rule of SPEC.md §5.2."""
    if len(raw) != SIZE:
        raise MalformedError(f"batch header must be {SIZE} bytes, got {len(raw)}")
    (magic, suite, reserved, log_raw, first, last, prev, head, lo, hi, serial, sent, expires) = (
        LAYOUT.unpack(raw)
    )
    check_magic(magic, MAGIC, "batch header")
    if reserved != 0:
        raise MalformedError("batch header: reserved byte is not 0")
    log = LogId.read(Reader(log_raw, "batch log id"))
    if not 1 <= first <= last or last - first + 1 > MAX_ENTRIES:
        raise MalformedError(
            f"batch range {first}..{last} is empty, reversed or over {MAX_ENTRIES}"
        )
    if last > MAX_SEQ:
        raise MalformedError(f"batch header: seq {last} exceeds 2**53-1")
    if lo > hi:
        raise MalformedError("batch header: hlc_min is after hlc_max")
    if not sent < expires <= sent + MAX_LIFETIME_MS:
        raise MalformedError(
            f"batch header: expires_ms must be after sent_ms and at most {MAX_LIFETIME_MS} ms later"
        )
    return BatchHeader(
        Suite.from_byte(suite), log, first, last, prev, head, lo, hi, serial, sent, expires
    )


def sign_batch(
    entries: Sequence[Entry],
    key: SigningKey,
    cert_serial: int,
    *,
    sent_ms: int,
    expires_ms: int,
) -> tuple[BatchHeader, bytes]:
    """Make and sign the header of consecutive ``entries`` of one log, sent at
    ``sent_ms`` and good until ``expires_ms`` (no hop may hand it on later, §6.5).

    Raises:
        ValueError: no entries or too many, entries that are not consecutive entries of
            one log with increasing clocks, an entry of another suite than ``key``'s
            (the header's suite is the key's, and every entry header must carry it), or
            a seq beyond 2**53-1; ``expires_ms`` not after ``sent_ms`` or more than
            MAX_LIFETIME_MS after it.
    """
    if not sent_ms < expires_ms <= sent_ms + MAX_LIFETIME_MS:
        raise ValueError(f"a batch expires after it is sent, within {MAX_LIFETIME_MS} ms")
    if not entries or len(entries) > MAX_ENTRIES:
        raise ValueError(f"a batch holds 1..{MAX_ENTRIES} entries")
    first = entries[0]
    if any(e.suite is not key.suite for e in entries):
        raise ValueError(f"batch entries must use the signing key's suite {key.suite.name}")
    if first.seq < 1 or entries[-1].seq > MAX_SEQ:
        raise ValueError(f"batch seqs must lie in 1..{MAX_SEQ}")
    for prev, entry in zip(entries, entries[1:], strict=False):
        if entry.log != first.log or entry.seq != prev.seq + 1 or entry.prev_hash != prev.hash:
            raise ValueError("batch entries must be consecutive entries of one log")
        if entry.hlc <= prev.hlc:
            raise ValueError("entry clocks must strictly increase along a log")
    header = BatchHeader(
        key.suite,
        first.log,
        first.seq,
        entries[-1].seq,
        first.prev_hash,
        entries[-1].hash,
        first.hlc,
        entries[-1].hlc,
        cert_serial,
        sent_ms,
        expires_ms,
    )
    return header, key.sign(CONTEXT + header.to_bytes())


def rebuild_entries(header: BatchHeader, frames: bytes) -> list[Entry]:
    """Rebuild every entry from the frames and check the chain ends at ``head_hash``.

    Raises:
        MalformedError, TooLargeError, ChainError: as :func:`rebuild_payloads`.
    """
    rebuilt = _rebuild(header, frames)
    # prevs holds count + 1 hashes (the last is head_hash); map stops with seqs.
    return list(
        map(rebuilt_entry, repeat(header.suite), repeat(header.log), rebuilt.seqs,
            rebuilt.prevs, rebuilt.hlcs, rebuilt.rulesets, rebuilt.digests, rebuilt.lengths,
            rebuilt.payloads, rebuilt.flags)
    )  # fmt: skip


def rebuild_payloads(header: BatchHeader, frames: bytes) -> tuple[list[int], list[bytes | None]]:
    """The clocks and payloads of the batch's entries (seq ``header.first_seq`` on),
    after every check :func:`rebuild_entries` makes, without building the entries: for
    a reader of payloads alone (the township's review copies a catch-up of tens of
    thousands of entries; an Entry object costs a third of opening one).

    Raises:
        MalformedError, TooLargeError, ChainError: as :func:`_rebuild`.
    """
    rebuilt = _rebuild(header, frames)
    return rebuilt.hlcs, rebuilt.payloads


@dataclass(frozen=True, slots=True)
class _Rebuilt:
    """The columns of a batch's entries, checked against its header."""

    seqs: range
    hlcs: list[int]
    rulesets: tuple[int, ...]
    flags: bytes
    payloads: list[bytes | None]
    lengths: list[int]
    digests: list[bytes]
    prevs: list[bytes]


def _rebuild(header: BatchHeader, frames: bytes) -> _Rebuilt:
    """Decode the frames and recompute the chain, checking it ends at ``head_hash``.

    Checks (SPEC.md §5.3), the first failure deciding the error: 1. the frames'
    structure (:func:`protocol.frames.decode_frames`); 2. flags known, the epoch-start
    flag only on seq 1; 3. clocks below 2**64; 4. clocks strictly increasing, the first
    and last equal to the signed bounds; 5. the recomputed chain from ``prev_hash`` ends
    at ``head_hash``; 6. a seq 1 without the epoch-start flag has a zero ``prev_hash``.

    Raises:
        MalformedError, TooLargeError, ChainError.
    """
    count = header.count
    cols = decode_frames(frames, count)
    flags, deltas, first = cols.flags, cols.deltas, header.first_seq
    if flags.count(0) != count:
        for i, flag in enumerate(flags):
            if flag and (flag & ~KNOWN_FLAGS or first + i != 1):
                raise MalformedError(f"seq {first + i}: flags {flag:#x} are not allowed here")
    hlcs = list(accumulate(deltas))
    if hlcs[-1] >= _HLC_LIMIT:
        raise MalformedError("entry clocks overflow 64 bits")
    if 0 in deltas:
        raise ChainError(f"seq {first + deltas.index(0)}: clock does not increase")
    if hlcs[0] != header.hlc_min or hlcs[-1] != header.hlc_max:
        raise ChainError("entry clocks do not match the signed clock bounds")
    # Lengths and hashes first, by comprehension, then the chain in the tightest loop
    # Python allows (the Entry objects after, in rebuild_entries): opening a batch is
    # mostly this function.
    sha = hashlib.sha256
    payloads = cols.payloads
    if cols.erased:
        erased = iter(cols.erased)
        known = [(len(p), sha(p).digest()) if p is not None else next(erased) for p in payloads]
        lengths, digests = [n for n, _ in known], [d for _, d in known]
    else:
        present = cast(list[bytes], payloads)
        lengths, digests = list(map(len, present)), [sha(p).digest() for p in present]
    pack = HEADER.pack
    suite, log, log_raw = header.suite, header.log, header.log.to_bytes()
    prev = header.prev_hash
    prevs = [prev]
    append = prevs.append
    seqs = range(first, first + count)
    rulesets = cols.rulesets
    for seq, hlc, ruleset, flag, length, digest in zip(
        seqs, hlcs, rulesets, flags, lengths, digests, strict=True
    ):
        prev = sha(
            pack(ENTRY_MAGIC, suite, flag, ruleset, log_raw, seq, prev, hlc, length, digest)
        ).digest()
        append(prev)
    if prev != header.head_hash:
        raise ChainError(f"recomputed chain of {log} does not end at the signed head hash")
    if first == 1 and not flags[0] & FLAG_EPOCH_START and header.prev_hash != ZERO_HASH:
        raise ChainError("seq 1 without the epoch-start flag must have a zero prev hash")
    return _Rebuilt(seqs, hlcs, rulesets, flags, payloads, lengths, digests, prevs)
