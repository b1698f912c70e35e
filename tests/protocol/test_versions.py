# SPDX-License-Identifier: Apache-2.0
"""Versions (SPEC.md §1.3): another version is unsupported, a bad marker malformed."""

from __future__ import annotations

import pytest

from protocol.batches import decode_header, sign_batch
from protocol.entries import Entry
from protocol.envelope import decode_envelope
from protocol.errors import MalformedError, UnsupportedError
from protocol.frontier import ForkProof, decode_fork_proof
from protocol.ops import decode_payload
from protocol.signed import decode_signed, sign_object
from protocol.testing import ORIGIN_EXPIRES, ORIGIN_SENT, chain_entries, person_payload
from protocol.testing import TestNode as Node
from tests.protocol.helpers import SealedBatch, raw_signed


def test_version_true_is_not_version_1(root: Node) -> None:
    """A "v" of true is refused in payloads and signed bodies (and by sign_object)."""
    with pytest.raises(MalformedError):
        decode_payload(b'{"ops":[{"body":{},"op":"note","topic":"x"}],"v":true}')
    with pytest.raises(MalformedError):
        decode_signed(raw_signed(b'{"type":"example","v":true}', root))
    with pytest.raises(ValueError):
        sign_object({"v": True, "type": "example"}, root.signing)


def test_other_versions_are_unsupported(
    root: Node, village: Node, sealed_batch: SealedBatch, entries: list[Entry]
) -> None:
    """A known magic with another version digit and an integer "v" other
    than 1 raise UnsupportedError (code "unsupported"); other magics stay malformed."""
    forked = chain_entries(entries[0].log, [person_payload(i) for i in range(50, 55)])
    second, second_sig = sign_batch(
        forked, village.signing, village.cert.serial, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES
    )
    proof = ForkProof(sealed_batch.header, sealed_batch.batch_sig, second, second_sig).to_bytes()
    header = sealed_batch.header.to_bytes()
    cases = [
        (decode_signed, root.cert.raw),
        (decode_header, header),
        (decode_envelope, sealed_batch.raw),
        (decode_fork_proof, proof),
    ]
    for decode, raw in cases:
        decode(raw)
        for digit in set(b"0123") - {raw[3]}:
            with pytest.raises(UnsupportedError) as exc:
                decode(raw[:3] + bytes([digit]) + raw[4:])
            assert "unsupported" == exc.value.code
        with pytest.raises(MalformedError):
            decode(raw[:3] + b"X" + raw[4:])
    with pytest.raises(UnsupportedError):
        decode_signed(raw_signed(b'{"type":"example","v":2}', root))
    with pytest.raises(UnsupportedError):
        decode_payload(b'{"ops":[],"v":2}')
    with pytest.raises(MalformedError):
        decode_payload(b'{"ops":[],"v":"1"}')
