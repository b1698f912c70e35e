# SPDX-License-Identifier: Apache-2.0
"""A small county of seeded keys and certificates, for tests, vectors and benchmarks.

Seeds come from SHAKE-256 of a label, so every run, test and vector names the same keys
(synapse's SIGNING_KEY_SEED habit) and a second implementation can rebuild them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from protocol.certs import Certificate, decode_certificate, issue_certificate
from protocol.crypto import KemPrivateKey, SigningKey, Suite
from protocol.entries import ZERO_HASH, Entry, make_entry
from protocol.ids import LogId, NodeId
from protocol.ops import Upsert, encode_payload

NOT_BEFORE = 1_767_225_600_000  # 2026-01-01T00:00:00Z
NOT_AFTER = 1_830_297_600_000  # 2028-01-01T00:00:00Z
NOW = 1_795_000_000_000  # 2026-11-18, inside the window
ORIGIN_SENT = NOW
ORIGIN_EXPIRES = NOW + 30 * 86_400_000
"""The origin's times in every test batch header (SPEC.md §5.2): sent at NOW, good for
the longest lifetime allowed, so any hop expiry a test signs within 30 days is allowed."""


def seed(label: str, size: int) -> bytes:
    return hashlib.shake_256(b"renkou-net test seed " + label.encode()).digest(size)


@dataclass(frozen=True)
class TestNode:
    node: NodeId
    signing: SigningKey
    kem: KemPrivateKey
    cert: Certificate


def make_node(
    code: str, root: TestNode | None = None, suite: Suite = Suite.HYBRID, serial: int = 0
) -> TestNode:
    """A node with seeded keys; ``root=None`` makes a self-signed county root."""
    node = NodeId.for_code(code)
    signing = SigningKey(suite, seed(f"{code} sign {suite.name}", suite.sign_seed_size))
    kem = KemPrivateKey(suite, seed(f"{code} kem {suite.name}", suite.kem_seed_size))
    issuer_key = signing if root is None else root.signing
    issuer = node if root is None else root.node
    raw = issue_certificate(
        issuer_key,
        issuer,
        serial=serial or int(code),
        node=node,
        verify_key=signing.verify_key,
        kem_key=kem.public_key,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    return TestNode(node, signing, kem, decode_certificate(raw))


def chain_entries(
    log: LogId,
    payloads: Sequence[bytes],
    *,
    suite: Suite = Suite.HYBRID,
    first_seq: int = 1,
    prev_hash: bytes = ZERO_HASH,
    hlc0: int = NOW << 16,
) -> list[Entry]:
    """Consecutive entries of ``log`` holding ``payloads``."""
    out: list[Entry] = []
    for i, payload in enumerate(payloads):
        entry = make_entry(suite, log, first_seq + i, prev_hash, hlc0 + i, 1, payload)
        out.append(entry)
        prev_hash = entry.hash
    return out


def person_payload(i: int) -> bytes:
    return encode_payload([Upsert("person", f"p{i}", {"name": ("张三", 0), "sex": ("F", 0)})])
