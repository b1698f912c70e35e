# SPDX-License-Identifier: Apache-2.0
"""Batches: a run of consecutive entries of one log under one origin signature.

Batch header (128 bytes, big-endian, readable by relays without decrypting)::

    "RKB1" | suite u8 | reserved u8 (0) | log_id [18] | first_seq u64 | last_seq u64
           | prev_hash [32] | head_hash [32] | hlc_min u64 | hlc_max u64 | cert_serial u64

The origin signs ``CONTEXT || header``. Because entries chain, recomputing every entry
hash from the opened frames and finding ``head_hash`` at the end authenticates the whole
range with one signature check (SSB's Butt2 lesson: verification cost per batch, not per
entry).

Frames are what the entries look like inside the sealed part, laid out in two columns
so the compressor sees like next to like: first ``count`` fixed frame heads
``hlc_delta u64 | ruleset u16 | flags u8 | form u8 | payload_len u32`` (``hlc_delta`` is
the entry's clock minus the previous entry's, the first one's minus zero; clocks strictly
increase along a log), then the bodies in the same order: the payload for form 0, the
32-byte payload hash for form 1 (erased). Seq, prev hash and the entry hashes are never
sent: the reader derives them.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from protocol.binary import Reader, check_magic
from protocol.crypto import SigningKey, Suite, VerifyKey
from protocol.entries import (
    FLAG_EPOCH_START,
    HEADER,
    KNOWN_FLAGS,
    MAX_PAYLOAD,
    ZERO_HASH,
    Entry,
)
from protocol.entries import (
    MAGIC as ENTRY_MAGIC,
)
from protocol.errors import ChainError, MalformedError, TooLargeError
from protocol.ids import LogId

MAGIC = b"RKB1"
CONTEXT = b"renkou-net/1 batch\x00"
LAYOUT = struct.Struct(">4sBB18sQQ32s32sQQQ")
SIZE = LAYOUT.size
MAX_ENTRIES = 10_000
MAX_SEQ = 2**53 - 1
"""Seqs are u64 on the wire but also appear in JSON (acks, frontiers, bases), so they
are bounded by the canonical-JSON integer range everywhere."""
_HLC_LIMIT = 1 << 64
_FRAME = struct.Struct(">QHBBI")
FORM_PAYLOAD = 0
FORM_ERASED = 1


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
        )

    @property
    def count(self) -> int:
        return self.last_seq - self.first_seq + 1

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.to_bytes()).digest()

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
    """Parse the fixed 128-byte header, checking every structural rule of SPEC.md §5."""
    if len(raw) != SIZE:
        raise MalformedError(f"batch header must be {SIZE} bytes, got {len(raw)}")
    magic, suite, reserved, log_raw, first, last, prev, head, lo, hi, serial = LAYOUT.unpack(raw)
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
    return BatchHeader(Suite.from_byte(suite), log, first, last, prev, head, lo, hi, serial)


def sign_batch(
    entries: Sequence[Entry], key: SigningKey, cert_serial: int
) -> tuple[BatchHeader, bytes]:
    """Make and sign the header of consecutive ``entries`` of one log.

    Raises:
        ValueError: no entries or too many, entries that are not consecutive entries of
            one log with increasing clocks, an entry of another suite than ``key``'s
            (the header's suite is the key's, and every entry header must carry it), or
            a seq beyond 2**53-1.
    """
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
    )
    return header, key.sign(CONTEXT + header.to_bytes())


def encode_frames(entries: Sequence[Entry]) -> bytes:
    heads = bytearray()
    bodies = bytearray()
    prev_hlc = 0
    for e in entries:
        if e.hlc <= prev_hlc:
            raise ValueError("entry clocks must strictly increase along a log")
        form = FORM_ERASED if e.payload is None else FORM_PAYLOAD
        heads += _FRAME.pack(e.hlc - prev_hlc, e.ruleset, e.flags, form, e.payload_len)
        bodies += e.payload_hash if e.payload is None else e.payload
        prev_hlc = e.hlc
    return bytes(heads + bodies)


def rebuild_entries(header: BatchHeader, frames: bytes) -> list[Entry]:
    """Recompute every entry from the frames and check the chain ends at ``head_hash``.

    Checks (SPEC.md §5.3): 1. exactly ``count`` frame heads and bodies, nothing after;
    2. flags known, the epoch-start flag only on seq 1, payload lengths within bounds
    (erased frames too: their length is part of the entry header);
    3. clocks strictly increase, stay below 2**64, and the first and last equal the
    signed bounds;
    4. the recomputed chain from ``prev_hash`` ends at ``head_hash``.

    Raises:
        MalformedError, TooLargeError, ChainError.
    """
    sha = hashlib.sha256
    pack = HEADER.pack
    unpack = _FRAME.unpack_from
    count = header.count
    heads_end = count * _FRAME.size
    if heads_end > len(frames):
        raise MalformedError(f"frames hold fewer than the {count} entries the header names")
    suite, log, log_raw = header.suite, header.log, header.log.to_bytes()
    prev, hlc, pos = header.prev_hash, 0, heads_end
    out: list[Entry] = []
    append = out.append
    for i in range(count):
        delta, ruleset, flags, form, length = unpack(frames, i * 16)
        seq = header.first_seq + i
        if delta == 0:
            raise ChainError(f"seq {seq}: clock does not increase")
        hlc += delta
        if hlc >= _HLC_LIMIT:
            raise MalformedError(f"seq {seq}: clock overflows 64 bits")
        if flags and (flags & ~KNOWN_FLAGS or seq != 1):
            raise MalformedError(f"seq {seq}: flags {flags:#x} are not allowed here")
        if form != FORM_PAYLOAD and form != FORM_ERASED:
            raise MalformedError(f"seq {seq}: unknown frame form {form}")
        if length > MAX_PAYLOAD:
            raise TooLargeError(f"seq {seq}: payload of {length} bytes exceeds {MAX_PAYLOAD}")
        if form == FORM_PAYLOAD:
            payload: bytes | None = frames[pos : pos + length]
            pos += length
            digest = sha(payload).digest()  # type: ignore[arg-type]
        else:
            payload, digest = None, frames[pos : pos + 32]
            pos += 32
        if pos > len(frames):
            raise MalformedError(f"seq {seq}: frame body is cut short")
        head = pack(ENTRY_MAGIC, suite, flags, ruleset, log_raw, seq, prev, hlc, length, digest)
        append(Entry(suite, log, seq, prev, hlc, ruleset, digest, length, payload, flags))
        prev = sha(head).digest()
    if pos != len(frames):
        raise MalformedError(f"{len(frames) - pos} bytes after the last frame")
    if out[0].hlc != header.hlc_min or hlc != header.hlc_max:
        raise ChainError("entry clocks do not match the signed clock bounds")
    if prev != header.head_hash:
        raise ChainError(f"recomputed chain of {log} does not end at the signed head hash")
    if (
        header.first_seq == 1
        and not out[0].flags & FLAG_EPOCH_START
        and header.prev_hash != ZERO_HASH
    ):
        raise ChainError("seq 1 without the epoch-start flag must have a zero prev hash")
    return out
