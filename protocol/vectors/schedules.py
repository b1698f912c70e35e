# SPDX-License-Identifier: Apache-2.0
"""Vectors of holiday schedules over sync (SPEC.md §8.6, §8.7): the set digest, the
bundle, the state answer that offers a set, and bundles a decoder must refuse.

Everything is CLASSIC (Ed25519), so every byte is deterministic. ``python -m
protocol.vectors.generate schedules.json`` writes the file.
"""

from __future__ import annotations

from typing import Any

from protocol.binary import blob32, u16
from protocol.crypto import Suite
from protocol.frontier import Frontier
from protocol.schedules import (
    MAGIC,
    MAX_SCHEDULE_BYTES,
    MAX_SCHEDULES,
    encode_schedule_bundle,
    schedule_set_digest,
)
from protocol.signed import sign_object
from protocol.sync_state import StateAnswer, encode_state
from protocol.testing import make_node


def _body(year: int, published: str, holidays: list[str], workdays: list[str]) -> Any:
    return {
        "v": 1,
        "type": "holiday_schedule",
        "year": year,
        "holidays": holidays,
        "workdays": workdays,
        "published": published,
        "source": f"国务院办公厅关于{year}年部分节假日安排的通知（测试向量）",
    }


def schedule_vectors() -> dict[str, Any]:
    """Two schedules signed by a CLASSIC root, their digest (in either order), their
    bundle, a state answer offering them; invalid bundles with their code."""
    root = make_node("440104", suite=Suite.CLASSIC)
    first = sign_object(
        _body(2026, "2025-11-04", ["2026-01-01", "2026-01-02", "2026-01-03"], ["2026-01-04"]),
        root.signing,
    )
    second = sign_object(_body(2027, "2026-11-20", ["2027-01-01"], []), root.signing)
    digest = schedule_set_digest([first, second])
    bundle = encode_schedule_bundle([first, second])
    header = MAGIC + u16(1)
    invalid = [
        ("another version of the magic", b"RKH2" + u16(0), "unsupported"),
        ("a bad magic", b"RKX1" + u16(0), "malformed"),
        ("short", header + b"\x00\x00", "malformed"),
        ("trailing bytes", MAGIC + u16(0) + b"\x00", "malformed"),
        ("an empty schedule", header + blob32(b""), "malformed"),
        ("too many schedules", MAGIC + u16(MAX_SCHEDULES + 1), "too_large"),
        ("a schedule over its bound", header + u16(0) + u16(MAX_SCHEDULE_BYTES + 1), "too_large"),
    ]
    return {
        "root_certificate": root.cert.raw.hex(),
        "schedules": [first.hex(), second.hex()],
        "set_digest": digest,
        "empty_set_digest": schedule_set_digest([]),
        "bundle": bundle.hex(),
        "empty_bundle": encode_schedule_bundle([]).hex(),
        "state_offering": encode_state(StateAnswer(Frontier(), 0, None, 0, digest)).decode(),
        "invalid_bundles": [{"name": n, "bytes": b.hex(), "expect": e} for n, b, e in invalid],
    }
