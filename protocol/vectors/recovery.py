# SPDX-License-Identifier: Apache-2.0
"""Vectors of recovery from upstream (SPEC.md §8.10): a CLASSIC village's request, the
county's snapshot answering it, and one-fault requests and snapshots with their codes.
``python -m protocol.vectors.generate recovery.json`` writes the file.

Requests are deterministic (Ed25519). A snapshot holds an HPKE wrap, random by design:
its header and cards are pinned, the snapshot itself is checked by verifying and
opening it.
"""

from __future__ import annotations

from typing import Any

from protocol import canonical
from protocol.crypto import Suite
from protocol.frontier import Head
from protocol.ids import LogId
from protocol.recovery import (
    Card,
    SnapshotHeader,
    decode_recovery_request,
    make_recovery_request,
    seal_snapshot,
)
from protocol.testing import NOW, make_node, seed


def _cards(log: str) -> list[Card]:
    return [
        Card("household", "H1", {"address": "上南村 1 号", "head_ref": "P1"},
             {"address": f"{log}/2", "head_ref": f"{log}/3"}, None, 2, 3, (NOW << 16) + 2),
        Card("person", "P1", {"name": "张秀英", "sex": "F"},
             {"name": f"{log}/3", "sex": f"{log}/3"}, None, 3, 3, (NOW << 16) + 3),
        Card("person", "P2", {"name": "李红", "sex": "F"},
             {"name": f"{log}/4", "sex": f"{log}/4"}, "moved_out", 4, 5, (NOW << 16) + 5),
    ]  # fmt: skip


def recovery_vectors() -> dict[str, Any]:
    suite = Suite.CLASSIC
    root = make_node("440104", suite=suite)
    village = make_node("440104001002", root, suite)
    other = make_node("440104001003", root, suite)
    nonce = seed("recovery nonce", 16)
    good = make_recovery_request(
        village.signing, village.node, village.cert.serial, village.cert.raw, NOW, nonce
    )
    requests = [
        ("signed by the village's certified key", good, "ok"),
        ("signed by another key", make_recovery_request(
            other.signing, village.node, village.cert.serial, village.cert.raw, NOW, nonce),
         "bad_signature"),
        ("naming another village than its certificate", make_recovery_request(
            village.signing, other.node, village.cert.serial, village.cert.raw, NOW, nonce),
         "bad_certificate"),
        ("certificate part empty", good[: -len(village.cert.raw) - 4] + bytes(4), "malformed"),
        ("trailing byte", good + b"\x00", "malformed"),
    ]  # fmt: skip
    log = LogId(village.node, 1)
    cards = _cards(str(log))
    header = SnapshotHeader(
        root.node, village.node, village.kem.public_key.key_id,
        decode_recovery_request(good).id, {log: Head(5, seed("recovery head", 32))},
        len(cards), NOW,
    )  # fmt: skip
    key = seed("recovery content key", 32)
    snap = seal_snapshot(header, cards, root.signing, village.kem.public_key, key)
    flipped = bytearray(snap)
    flipped[-100] ^= 1  # inside the ciphertext
    for_other = seal_snapshot(
        SnapshotHeader(root.node, village.node, other.kem.public_key.key_id, header.request,
                       header.heads, len(cards), NOW),
        cards, root.signing, other.kem.public_key,
    )  # fmt: skip
    by_village = seal_snapshot(header, cards, village.signing, village.kem.public_key)
    snapshots = [
        ("sealed for the village, signed by the county", snap, "ok"),
        ("a ciphertext byte flipped", bytes(flipped), "bad_signature"),
        ("signed by the village itself", by_village, "bad_signature"),
        ("sealed for another key", for_other, "no_recipient"),
        ("version 2 of the magic", b"RKR2" + snap[4:], "unsupported"),
        ("trailing byte", snap + b"\x00", "malformed"),
    ]
    return {
        "root_certificate": root.cert.raw.hex(),
        "county_certificate": root.cert.raw.hex(),
        "village_certificate": village.cert.raw.hex(),
        "village_kem_seed": village.kem.seed.hex(),
        "requests": [{"name": n, "request": r.hex(), "expect": e} for n, r, e in requests],
        "request_id": header.request,
        "header": canonical.encode(header.body()).hex(),
        "cards": [c.row() for c in cards],
        "snapshots": [{"name": n, "snapshot": s.hex(), "expect": e} for n, s, e in snapshots],
    }
