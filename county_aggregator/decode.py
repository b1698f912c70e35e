# SPDX-License-Identifier: Apache-2.0
"""Payload decoding for the merge: protocol's fast path, then its strict decoder.

``protocol.fast_payload`` vouches for nearly every payload at a fraction of the strict
decoder's cost; whatever it declines (a note, a sealed field, a float, a bad byte) goes
to ``protocol.decode_payload``, which decides and raises the protocol's own errors. So
what is rejected, and why, is exactly what protocol says; tests/county_aggregator/
test_decode.py holds the two paths equal.

Ops come back as plain tuples, cheaper than the dataclasses on this hot path:
``("u", kind, id, {field: [value, base]}, fields_text)`` (a pair is a 2-list from the
fast path, a tuple from the strict one; ``fields_text`` is the canonical JSON of the
fields object), ``("r", kind, id, reason, base)``, ``("n", topic, body)`` and ``("e", prev_epoch,
prev_seq)``.
"""

from __future__ import annotations

from typing import Any

from protocol import EpochStart, Note, Retire, Upsert, decode_payload
from protocol.canonical import canonical_text
from protocol.fast_payload import DECLINED, OpTuple, fast_ops

__all__ = ["OpTuple", "canonical_text", "decode_ops"]


def decode_ops(payload: bytes) -> list[OpTuple]:
    """The ops of ``payload`` as tuples.

    Raises:
        ProtocolError: whatever ``protocol.decode_payload`` raises for these bytes.
    """
    try:
        return fast_ops(payload)
    except DECLINED:
        pass
    return [_as_tuple(op) for op in decode_payload(payload)]


def _as_tuple(op: Any) -> OpTuple:
    if isinstance(op, Upsert):
        text = canonical_text({k: list(pair) for k, pair in op.fields.items()})
        return ("u", op.kind, op.id, op.fields, text)
    if isinstance(op, Retire):
        return ("r", op.kind, op.id, op.reason, op.base)
    if isinstance(op, Note):
        return ("n", op.topic, op.body)
    assert isinstance(op, EpochStart)
    return ("e", op.prev_epoch, op.prev_seq)
