# SPDX-License-Identifier: Apache-2.0
"""SPEC.md §6.3.1: a node seals each batch of its own log for exactly the county node,
its parent and its own escrow key; the sentences are held to what a real sync sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.sync.acks import AckBook
from node.sync.push import OwnLogPush
from node.sync.trust import load_certificate
from protocol import decode_envelope
from tests.node.sync.network import County, loopback_county

V, T = "440104001002", "440104001"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V]}) as c:
        yield c


def _kem_key_id(data_dir: Path, name: str) -> bytes:
    cert = load_certificate(data_dir, name)
    assert cert is not None
    return cert.kem_key.key_id


def test_a_village_seals_for_its_township_the_county_and_itself(county: County) -> None:
    """§6.3.1: three keys for a village (the county node's, not the root's)."""
    village = county.villages[V]
    county.client(V).sync_round()
    [(raw,)] = county.towns[T].store.db.execute("SELECT raw FROM inbound").fetchall()
    env = decode_envelope(bytes(raw))
    expected = {
        _kem_key_id(village.data_dir, "parent.cert"),
        _kem_key_id(village.data_dir, "county.cert"),
        village.identity.kem.public_key.key_id,
    }
    assert 3 == len(expected)
    assert sorted(expected) == env.recipient_key_ids
    assert _kem_key_id(village.data_dir, "root.cert") not in env.recipient_key_ids


def test_a_township_seals_for_the_county_and_itself(county: County) -> None:
    """§6.3.1: for a township the parent is the county node, named once: two keys."""
    town = county.towns[T].store
    client = county.client(T)
    keys = {k.key_id for k in OwnLogPush(client.round, AckBook(client.round), 1).recipients()}
    assert {_kem_key_id(town.data_dir, "county.cert"), town.identity.kem.public_key.key_id} == keys
