# SPDX-License-Identifier: Apache-2.0
"""Small helpers shared by the protocol tests (importable, unlike conftest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from protocol.batches import BatchHeader
from protocol.crypto import KemPrivateKey
from protocol.entries import Entry
from protocol.testing import TestNode

DAY_MS = 86_400_000

Receive = Callable[..., list[Entry]]


@dataclass(frozen=True)
class SealedBatch:
    """A signed batch, its sealed middle and the addressed envelope bytes."""

    entries: list[Entry]
    header: BatchHeader
    batch_sig: bytes
    sealed: bytes
    raw: bytes


def keyring(*nodes: TestNode) -> dict[bytes, KemPrivateKey]:
    """The ``key id -> private key`` map open_envelope wants."""
    return {n.kem.public_key.key_id: n.kem for n in nodes}
