# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the report tests: the hand-written county, a seeded node key."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator

import pytest

from protocol import SigningKey, Suite
from tests.county_aggregator.reports.fixtures import create_merged

SIGNING_KEY_SEED = b"renkou-net report snapshot tests"


@pytest.fixture
def merged() -> Iterator[sqlite3.Connection]:
    """A fresh in-memory ``merged_records`` holding the hand-written county."""
    conn = create_merged(sqlite3.connect(":memory:"))
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def node_key() -> SigningKey:
    """The county node's key, from a fixed seed (exact signatures are reproducible)."""
    suite = Suite.HYBRID
    seed = hashlib.shake_256(SIGNING_KEY_SEED).digest(suite.sign_seed_size)
    return SigningKey(suite, seed)
