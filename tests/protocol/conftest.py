# SPDX-License-Identifier: Apache-2.0
"""Seeded nodes of two counties and one signed, sealed envelope, built once per session.

Key generation and ML-DSA signing cost about a millisecond each, so everything here is
session-scoped and treated as read-only by the tests.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from protocol.batches import sign_batch
from protocol.certs import Certificate
from protocol.crypto import KemPrivateKey
from protocol.entries import Entry
from protocol.envelope import Envelope, address, decode_envelope, open_envelope, seal_batch
from protocol.ids import LogId
from protocol.testing import (
    NOW,
    ORIGIN_EXPIRES,
    ORIGIN_SENT,
    TestNode,
    chain_entries,
    make_node,
    person_payload,
)
from tests.protocol.helpers import DAY_MS, Receive, SealedBatch, certify, keyring


@pytest.fixture(scope="session")
def root() -> TestNode:
    return make_node("440104")


@pytest.fixture(scope="session")
def township(root: TestNode) -> TestNode:
    return make_node("440104001", root)


@pytest.fixture(scope="session")
def village(root: TestNode) -> TestNode:
    return make_node("440104001002", root)


@pytest.fixture(scope="session")
def village2(root: TestNode) -> TestNode:
    return make_node("440104001003", root)


@pytest.fixture(scope="session")
def other_root() -> TestNode:
    return make_node("440105")


@pytest.fixture(scope="session")
def other_village(other_root: TestNode) -> TestNode:
    return make_node("440105001001", other_root)


@pytest.fixture(scope="session")
def cross(root: TestNode, other_root: TestNode) -> Certificate:
    """Our county root cross-certifies the other county's root."""
    return certify(root, other_root, serial=9001)


@pytest.fixture(scope="session")
def village_log(village: TestNode) -> LogId:
    return LogId(village.node, 1)


@pytest.fixture(scope="session")
def entries(village_log: LogId) -> list[Entry]:
    return chain_entries(village_log, [person_payload(i) for i in range(1, 6)])


@pytest.fixture(scope="session")
def sealed_batch(
    village: TestNode, township: TestNode, root: TestNode, entries: list[Entry]
) -> SealedBatch:
    """Five entries of the village's log, sealed for township and county, sent to the
    township by the village as its own first hop."""
    header, sig = sign_batch(
        entries,
        village.signing,
        village.cert.serial,
        sent_ms=ORIGIN_SENT,
        expires_ms=ORIGIN_EXPIRES,
    )
    sealed = seal_batch(entries, header, sig, [township.kem.public_key, root.kem.public_key])
    raw = address(sealed, village.signing, village.node, township.node, NOW, NOW + DAY_MS)
    return SealedBatch(entries, header, sig, sealed, raw)


@pytest.fixture(scope="session")
def receive(village: TestNode, township: TestNode) -> Receive:
    """The full receive pipeline: decode -> verify_hop -> verify_batch -> open.

    Defaults: the village is hop and origin, the township reads, at ``NOW``.
    """

    def _receive(
        raw: bytes,
        *,
        hop: TestNode = village,
        origin: TestNode = village,
        keys: Mapping[bytes, KemPrivateKey] | None = None,
        now: int = NOW,
    ) -> list[Entry]:
        env: Envelope = decode_envelope(raw)
        env.verify_hop(hop.cert.verify_key, now)
        env.verify_batch(origin.cert.verify_key)
        return open_envelope(env, keyring(township) if keys is None else keys)

    return _receive
