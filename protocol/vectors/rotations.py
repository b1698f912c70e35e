# SPDX-License-Identifier: Apache-2.0
"""Vectors of key rotation (SPEC.md §8.9): a village's request signed by its certified
key, and requests a county must refuse, each with its code. CLASSIC: deterministic.
``python -m protocol.vectors.generate rotations.json`` writes the file.
"""

from __future__ import annotations

from typing import Any

from protocol.crypto import Suite
from protocol.rotation import make_rotation
from protocol.signed import b64, sign_object
from protocol.testing import NOW, make_node


def rotation_vectors() -> dict[str, Any]:
    suite = Suite.CLASSIC
    root = make_node("440104", suite=suite)
    village = make_node("440104001002", root, suite)
    new = make_node("440104001099", root, suite)  # only its keys are used
    args = (village.node, village.cert.serial, new.signing.verify_key, new.kem.public_key, NOW)
    good = make_rotation(village.signing, *args)
    by_new_key = make_rotation(new.signing, *args)
    other_serial = make_rotation(
        village.signing, village.node, village.cert.serial + 1, new.signing.verify_key,
        new.kem.public_key, NOW,
    )  # fmt: skip
    body = {
        "v": 1, "type": "key_rotation", "node": str(village.node), "serial": 0, "suite": 2,
        "verify_key": b64(new.signing.verify_key.raw), "kem_key": b64(new.kem.public_key.raw),
        "at": NOW,
    }  # fmt: skip
    serial_zero = sign_object(body, village.signing)
    cases = [
        ("signed by the certified key", good, "ok"),
        ("signed by the new key instead", by_new_key, "bad_signature"),
        ("naming another serial", other_serial, "bad_certificate"),
        ("serial 0", serial_zero, "malformed"),
    ]
    return {
        "root_certificate": root.cert.raw.hex(),
        "old_certificate": village.cert.raw.hex(),
        "new_verify_key": new.signing.verify_key.raw.hex(),
        "new_kem_key": new.kem.public_key.raw.hex(),
        "cases": [{"name": n, "rotation": r.hex(), "expect": e} for n, r, e in cases],
    }
