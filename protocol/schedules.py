# SPDX-License-Identifier: Apache-2.0
"""Holiday schedules over sync (SPEC.md §8.7, §8.6): the set digest and the bundle.

A schedule is a signed object (§8.1) of type ``holiday_schedule``, signed by the county
root; its body is the node's business (node/deadlines/schedule.py). What the protocol
adds is how the set of schedules a parent holds travels down:

* the **schedule-set digest** names the exact set a node holds: the first 16 bytes of
  ``SHA-256("renkou-net/1 schedules\\0" || SHA-256(s_1) || … || SHA-256(s_n))`` in
  lower-case hex, the schedules' hashes sorted bytewise; "" for the empty set;
* the **bundle** is the set itself: ``"RKH1" | count u16 | (len u32 | signed object)*``,
  at most ``MAX_SCHEDULES`` objects of at most ``MAX_SCHEDULE_BYTES`` each, in any order.

A child remembers the digest of the parent's set it last took and names it in its state
request (``h=``); the parent offers its digest in the state answer when it differs, so
each change of the parent's set costs one fetch and an idle round stays one request.
"""

from __future__ import annotations

import re

from protocol.binary import Reader, blob32, u16
from protocol.crypto import sha256
from protocol.errors import MalformedError, TooLargeError

MAGIC = b"RKH1"
MAX_SCHEDULES = 64
"""Schedules in one bundle: one a year, so half a century of them."""
MAX_SCHEDULE_BYTES = 16 * 1024
"""One signed schedule: a body of at most 80 dates and a 200-character source (about
2 KB) and a hybrid signature (3.3 KB) fit four times over."""
MAX_BUNDLE = 6 + MAX_SCHEDULES * (4 + MAX_SCHEDULE_BYTES)
CONTEXT = b"renkou-net/1 schedules\x00"
_DIGEST = re.compile(r"[0-9a-f]{32}")


def schedule_set_digest(schedules: list[bytes]) -> str:
    """The digest of a set of signed schedules ("" when there is none)."""
    if not schedules:
        return ""
    hashes = sorted({sha256(raw) for raw in schedules})
    return sha256(CONTEXT + b"".join(hashes)).hex()[:32]


def check_schedule_digest(text: str, name: str = "h") -> str:
    """A schedule-set digest as a query parameter or state field: 32 lower-case hex.

    Raises:
        MalformedError: anything else, naming ``name``.
    """
    if not _DIGEST.fullmatch(text):
        raise MalformedError(f"{name} must be a schedule-set digest: 32 lower-case hex characters")
    return text


def encode_schedule_bundle(schedules: list[bytes]) -> bytes:
    """The bundle of ``schedules`` (signed objects, not checked here).

    Raises:
        ValueError: too many schedules, an empty one or one over its bound.
    """
    if len(schedules) > MAX_SCHEDULES:
        raise ValueError(f"a bundle holds at most {MAX_SCHEDULES} schedules")
    if not all(0 < len(raw) <= MAX_SCHEDULE_BYTES for raw in schedules):
        raise ValueError(f"a schedule in a bundle has 1..{MAX_SCHEDULE_BYTES} bytes")
    return MAGIC + u16(len(schedules)) + b"".join(blob32(raw) for raw in schedules)


def decode_schedule_bundle(data: bytes) -> list[bytes]:
    """The signed schedules of a bundle, in its order (each still to be verified).

    Raises:
        TooLargeError: over MAX_BUNDLE bytes, over MAX_SCHEDULES objects, or an object
            over MAX_SCHEDULE_BYTES.
        UnsupportedError: another version of the magic.
        MalformedError: a bad magic, an empty object, short input or trailing bytes.
    """
    if len(data) > MAX_BUNDLE:
        raise TooLargeError(f"schedule bundle of {len(data)} bytes exceeds {MAX_BUNDLE}")
    reader = Reader(data, "schedule bundle")
    reader.expect(MAGIC)
    count = reader.u16()
    if count > MAX_SCHEDULES:
        raise TooLargeError(f"schedule bundle of {count} schedules exceeds {MAX_SCHEDULES}")
    out = []
    for i in range(count):
        raw = reader.blob32(MAX_SCHEDULE_BYTES, f"schedule {i}")
        if not raw:
            raise MalformedError(f"schedule bundle: schedule {i} is empty")
        out.append(raw)
    reader.end()
    return out


__all__ = [
    "MAX_SCHEDULES",
    "MAX_SCHEDULE_BYTES",
    "check_schedule_digest",
    "decode_schedule_bundle",
    "encode_schedule_bundle",
    "schedule_set_digest",
]
