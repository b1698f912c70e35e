# SPDX-License-Identifier: Apache-2.0
"""Village -> township relay -> county over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.store.store import NodeStore
from tests.node.sync.network import County, loopback_county

V1, V2, T = "440104001002", "440104001003", "440104001"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V1, V2]}) as c:
        yield c


def write(store: NodeStore, n: int) -> None:
    with store.bulk():
        for i in range(n):
            rid = store.new_id("person")
            store.write([store.upsert_op("person", rid, {"name": f"人{i}", "n": i})])


def county_entries(county: County, code: str) -> int:
    db = county.county.store.db
    return int(
        db.execute(
            "SELECT COUNT(*) FROM received_entries WHERE log LIKE ?", [f"%:{code}#%"]
        ).fetchone()[0]
    )


def test_changes_reach_the_county_exactly_once(county: County) -> None:
    """Issue 4: a village's changes reach the county through its township, once each."""
    village = county.villages[V1]
    write(village, 30)
    report = county.client(V1).sync_round()
    assert report.pushed_entries == 31
    town = county.client(T).sync_round()
    assert town.forwarded_envelopes == 1
    assert county_entries(county, V1) == 31
    again = county.client(V1).sync_round()  # pulls the county's acknowledgement
    assert again.pulled == 1
    acks = dict(village.db.execute("SELECT peer, seq FROM peer_acks").fetchall())
    assert acks == {f"township:{T}": 31, "county:440104": 31}
    assert county.client(T).sync_round().forwarded_envelopes == 0
    assert county_entries(county, V1) == 31
    # Once each, and what the village wrote: entry hash, payload hash, payload bytes.
    held = county.county.store.db.execute(
        "SELECT seq, entry_hash, payload_hash, payload FROM received_entries WHERE log = ?"
        " ORDER BY seq",
        [str(village.changelog.log)],
    ).fetchall()
    written = [(e.seq, e.hash, e.payload_hash, e.payload) for e in village.entries()]
    assert [tuple(row) for row in held] == written


def test_idle_sync_is_one_small_round_trip(county: County) -> None:
    """Issue 4: nothing changed on either side: one request, small both ways."""
    client = county.client(V2)
    client.sync_round()
    county.client(T).sync_round()
    client.sync_round()
    idle = client.sync_round()
    assert idle.idle and idle.requests == 1


def test_redelivery_is_idempotent(county: County) -> None:
    """Issue 4: a duplicated delivery is acknowledged again and stored once."""
    village = county.villages[V1]
    write(village, 5)
    client = county.client(V1)
    client.sync_round()
    from node.sync.client import SyncClient
    from tests.node.sync.faults import envelope

    client2 = SyncClient(village, county.towns[T].url)
    again = envelope(client2, 1, village.changelog.head_seq)  # as after a lost ack
    assert client2.link.call("POST", "/sync/v1/envelopes", again).status_code == 200
    rows = county.towns[T].store.db.execute("SELECT COUNT(*) FROM inbound").fetchone()[0]
    assert rows == 1
