# SPDX-License-Identifier: Apache-2.0
"""Batch headers and the origin's signature over them (protocol/batches.py, SPEC.md §5.2)."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.batches import MAX_ENTRIES, MAX_SEQ, BatchHeader, decode_header, sign_batch
from protocol.crypto import Suite
from protocol.entries import Entry
from protocol.errors import MalformedError, UnsupportedError
from protocol.ids import LogId
from protocol.testing import ORIGIN_EXPIRES, ORIGIN_SENT, chain_entries, person_payload
from protocol.testing import TestNode as Node
from tests.protocol.helpers import SealedBatch


def test_header_round_trip(sealed_batch: SealedBatch) -> None:
    """Batch header: 144 bytes, big-endian, readable by relays without decrypting."""
    raw = sealed_batch.header.to_bytes()
    assert 144 == len(raw)
    assert sealed_batch.header == decode_header(raw)
    assert 5 == sealed_batch.header.count


def _patched(header: BatchHeader, offset: int, value: bytes) -> bytes:
    raw = bytearray(header.to_bytes())
    raw[offset : offset + len(value)] = value
    return bytes(raw)


@pytest.mark.parametrize(
    ("offset", "value", "error"),
    [
        pytest.param(0, b"RKB1", UnsupportedError, id="magic-version-1"),
        pytest.param(0, b"RKB3", UnsupportedError, id="magic-version-3"),
        pytest.param(0, b"RKX1", MalformedError, id="magic"),
        pytest.param(4, b"\x03", UnsupportedError, id="unknown-suite"),
        pytest.param(5, b"\x01", MalformedError, id="reserved"),
        pytest.param(6, b"\x04", MalformedError, id="log-role"),
        pytest.param(20, b"\x00\x00\x00\x00", MalformedError, id="epoch-0"),
        pytest.param(24, bytes(8), MalformedError, id="first-seq-0"),
        pytest.param(24, (6).to_bytes(8, "big"), MalformedError, id="first-after-last"),
        pytest.param(32, (MAX_ENTRIES + 1).to_bytes(8, "big"), MalformedError, id="too-many"),
        pytest.param(104, b"\xff" * 8, MalformedError, id="hlc-min-after-max"),
        pytest.param(136, bytes(8), MalformedError, id="expires-not-after-sent"),
        pytest.param(128, bytes(8), MalformedError, id="lifetime-over-30-days"),
    ],
)
def test_bad_headers(
    sealed_batch: SealedBatch, offset: int, value: bytes, error: type[Exception]
) -> None:
    """decode_header checks every structural rule of SPEC.md §5."""
    with pytest.raises(error):
        decode_header(_patched(sealed_batch.header, offset, value))


@pytest.mark.parametrize("size", [0, 127, 128, 143, 145])
def test_header_size(sealed_batch: SealedBatch, size: int) -> None:
    """The batch header is exactly 144 bytes (128, the size of version 1, is short)."""
    raw = (sealed_batch.header.to_bytes() + b"\x00")[:size]
    with pytest.raises(MalformedError):
        decode_header(raw)


def test_sign_batch_requires_consecutive_entries(village: Node, entries: list[Entry]) -> None:
    """A batch is a run of consecutive entries of one log."""
    for bad in ([], [entries[0], entries[2]], [entries[1], entries[0]]):
        with pytest.raises(ValueError):
            sign_batch(bad, village.signing, 1, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES)


def test_sign_batch_refuses_entries_of_another_suite(village: Node, village_log: LogId) -> None:
    """Every entry of a batch must use the signing key's suite."""
    classic = chain_entries(village_log, [person_payload(1)], suite=Suite.CLASSIC)
    with pytest.raises(ValueError):
        sign_batch(
            classic,
            village.signing,
            village.cert.serial,
            sent_ms=ORIGIN_SENT,
            expires_ms=ORIGIN_EXPIRES,
        )


def test_header_seq_bound(sealed_batch: SealedBatch) -> None:
    """decode_header refuses seqs above 2**53-1 (SPEC.md §5.2 step 6)."""
    big = dataclasses.replace(sealed_batch.header, first_seq=MAX_SEQ, last_seq=MAX_SEQ + 1)
    with pytest.raises(MalformedError):
        decode_header(big.to_bytes())
    edge = dataclasses.replace(sealed_batch.header, first_seq=MAX_SEQ - 1, last_seq=MAX_SEQ)
    assert edge == decode_header(edge.to_bytes())
