# SPDX-License-Identifier: Apache-2.0
"""Issue 4: a village offline for 60 days catches up in one round, in few requests."""

from __future__ import annotations

import math
from pathlib import Path

from node.sync.client import MAX_BATCH_ENTRIES
from tests.node.sync.faults import count, no_sleep
from tests.node.sync.network import SimClock, loopback_county

V, T, C = "440104001002", "440104001", "440104"
DAY = 86_400_000
CHANGES = 3000


def test_village_offline_60_days_catches_up_in_one_round(tmp_path: Path) -> None:
    clock = SimClock()
    with loopback_county(tmp_path, {T: [V]}, clock=clock) as county:
        village = county.villages[V]
        county.client(V, sleep=no_sleep).sync_round()  # in touch on day 0
        county.client(T, sleep=no_sleep).sync_round()
        assert county.client(V, sleep=no_sleep).sync_round().pulled == 1
        with village.bulk():  # then 60 days offline, a few dozen changes a day
            for i in range(CHANGES):
                clock.advance(60 * DAY // CHANGES)
                rid = village.new_id("person")
                village.write([village.upsert_op("person", rid, {"name": f"人{i}", "n": i})])
        head = village.changelog.head_seq
        assert head == CHANGES + 1

        up = county.client(V, sleep=no_sleep).sync_round()
        batches = math.ceil(CHANGES / MAX_BATCH_ENTRIES)
        assert up.pushed_entries == CHANGES
        assert up.requests <= 2 + batches  # session, state, one request per batch
        town = county.towns[T].store
        assert count(town, "inbound", "log LIKE ?", [f"%:{V}#%"]) == 1 + batches

        relay = county.client(T, sleep=no_sleep).sync_round()
        assert relay.forwarded_envelopes == batches
        assert relay.requests <= 2 + batches + 1  # and one introduction of the village
        db = county.county.store.db
        held = db.execute(
            "SELECT COUNT(*), MIN(seq), MAX(seq) FROM received_entries WHERE log = ?",
            [str(village.changelog.log)],
        ).fetchone()
        assert tuple(held) == (head, 1, head)
        (seq, hash_) = db.execute(
            "SELECT seq, head FROM frontier WHERE log = ?", [str(village.changelog.log)]
        ).fetchone()
        assert (seq, bytes(hash_)) == (head, village.changelog.head_hash)

        back = county.client(V, sleep=no_sleep).sync_round()  # the acknowledgements come down
        assert back.pulled == batches and back.requests <= 3
        acks = dict(village.db.execute("SELECT peer, seq FROM peer_acks").fetchall())
        assert acks == {f"township:{T}": head, f"county:{C}": head}
        assert county.client(V, sleep=no_sleep).sync_round().idle
