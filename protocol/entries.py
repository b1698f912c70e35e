# SPDX-License-Identifier: Apache-2.0
"""Change-log entries: the fixed 110-byte header that is hashed and chained.

Header layout (big-endian)::

    "RKE1" | suite u8 | flags u8 | ruleset u16 | log_id [18] | seq u64 | prev_hash [32]
           | hlc u64 | payload_len u32 | payload_hash [32]

``entry_hash = SHA-256(header)``. The header carries the payload's hash, not the payload,
so a payload erased at the end of its retention leaves a chain that still verifies.
Headers are never sent: the reader rebuilds them from the batch's frames and checks
that the chain ends in the head hash the origin signed.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from protocol.crypto import Suite
from protocol.ids import LogId

MAGIC = b"RKE1"
HEADER = struct.Struct(">4sBBH18sQ32sQI32s")
ZERO_HASH = bytes(32)
MAX_PAYLOAD = 64 * 1024

FLAG_EPOCH_START = 0x01
"""Seq 1 of an epoch after the first: ``prev_hash`` is the head of the previous epoch."""
KNOWN_FLAGS = FLAG_EPOCH_START


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a log; ``payload`` is None once erased (its hash and length remain)."""

    suite: Suite
    log: LogId
    seq: int
    prev_hash: bytes
    hlc: int
    ruleset: int
    payload_hash: bytes
    payload_len: int
    payload: bytes | None = None
    flags: int = 0

    def header(self) -> bytes:
        return HEADER.pack(
            MAGIC,
            self.suite,
            self.flags,
            self.ruleset,
            self.log.to_bytes(),
            self.seq,
            self.prev_hash,
            self.hlc,
            self.payload_len,
            self.payload_hash,
        )

    @property
    def hash(self) -> bytes:
        return hashlib.sha256(self.header()).digest()

    def erased(self) -> Entry:
        """The same entry without its payload: what is kept after retention ends."""
        return Entry(
            self.suite,
            self.log,
            self.seq,
            self.prev_hash,
            self.hlc,
            self.ruleset,
            self.payload_hash,
            self.payload_len,
            None,
            self.flags,
        )


_new = object.__new__
_set = object.__setattr__


def rebuilt_entry(
    suite: Suite,
    log: LogId,
    seq: int,
    prev_hash: bytes,
    hlc: int,
    ruleset: int,
    payload_hash: bytes,
    payload_len: int,
    payload: bytes | None,
    flags: int,
) -> Entry:
    """The same Entry as ``Entry(...)``, with its slots set directly.

    For the batch reader, which builds an entry per rebuilt frame from values it has
    already checked, and for a log read back from its own store: the frozen dataclass
    ``__init__`` costs about a quarter more, which is 5 % of opening a batch.
    """
    entry = _new(Entry)
    _set(entry, "suite", suite)
    _set(entry, "log", log)
    _set(entry, "seq", seq)
    _set(entry, "prev_hash", prev_hash)
    _set(entry, "hlc", hlc)
    _set(entry, "ruleset", ruleset)
    _set(entry, "payload_hash", payload_hash)
    _set(entry, "payload_len", payload_len)
    _set(entry, "payload", payload)
    _set(entry, "flags", flags)
    return entry


def make_entry(
    suite: Suite,
    log: LogId,
    seq: int,
    prev_hash: bytes,
    hlc: int,
    ruleset: int,
    payload: bytes,
    flags: int = 0,
) -> Entry:
    """Build the next entry of a log (the caller keeps seq and prev_hash)."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    if seq < 1 or len(prev_hash) != 32:
        raise ValueError("seq starts at 1 and prev_hash is 32 bytes")
    return Entry(
        suite,
        log,
        seq,
        prev_hash,
        hlc,
        ruleset,
        hashlib.sha256(payload).digest(),
        len(payload),
        payload,
        flags,
    )
