# SPDX-License-Identifier: Apache-2.0
"""Issue 13, facts 5 and 13: the session table cannot be filled by one child, a revoked
child's sessions end at once, and a recorded hello never opens a second session.

Real servers on loopback, real SQLite, the county on simulated time (the hello's
freshness and the nonces' lifetime are read from the app's clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from node.server import sessions
from node.server.sync_api import EXTENSION as SESSIONS
from node.server.sync_api import SessionTable
from node.sync.client import SyncFailed
from node.sync.trust import install_revocations
from protocol import NodeId
from protocol.session import MAX_SKEW_MS
from tests.node.sync.faults import hello_request, no_sleep
from tests.node.sync.network import County, SimClock, loopback_county

V1, V2, T = "440104001002", "440104001003", "440104001"
SESSION_PATH = "/sync/v1/session"


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def county(tmp_path: Path, clock: SimClock) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V1, V2]}, clock=clock) as c:
        yield c


def handshake(county: County, body: bytes) -> requests.Response:
    return requests.post(county.towns[T].url + SESSION_PATH, data=body, timeout=30)


def table(county: County) -> SessionTable:
    app = county.towns[T].app
    assert app is not None
    held: SessionTable = app.extensions[SESSIONS]
    return held


def peers(county: County) -> list[str]:
    return [str(s.peer) for s in table(county).sessions.values()]


# -- fact 13: a recorded hello ------------------------------------------------------------


def test_a_recorded_hello_is_refused_at_exactly_ten_minutes(
    county: County, clock: SimClock
) -> None:
    """A hello whose clock runs the whole allowed skew ahead of ours is fresh for twice
    the skew after it arrives. Replayed at exactly that instant (10 minutes), it is
    still fresh; its nonce must still be held. Before, the nonce was pruned at 10
    minutes (kept while ``t > now - 600000``) and the recorded hello opened a session."""
    village = county.villages[V1]
    body = hello_request(village, NodeId.parse(f"township:{T}"), clock.now + MAX_SKEW_MS)
    assert handshake(county, body).status_code == 200
    clock.advance(2 * MAX_SKEW_MS)
    replayed = handshake(county, body)
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "replay"
    assert peers(county) == [f"village:{V1}"]  # one session: the first
    clock.advance(1)  # one millisecond later the hello itself is stale
    assert handshake(county, body).json()["code"] == "expired"


def test_a_recorded_hello_is_refused_after_a_server_restart(
    county: County, clock: SimClock
) -> None:
    """The nonces live in the node's database, not in the server's memory: a township
    PC rebooted within the hello's freshness still refuses it (before, a restart
    forgot every nonce and the recorded hello opened a session)."""
    village = county.villages[V1]
    body = hello_request(village, NodeId.parse(f"township:{T}"), clock.now)
    assert handshake(county, body).status_code == 200
    county.restart(T)
    clock.advance(60_000)
    replayed = handshake(county, body)
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "replay"
    assert peers(county) == []  # the restarted server opened nothing for it


# -- fact 5: one child cannot fill the table; a revocation frees its places -------------


def test_a_handshake_flood_of_one_village_leaves_room_for_the_others(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One village PC opening sessions as fast as it can holds at most
    MAX_SESSIONS_PER_PEER places: each handshake ends its oldest. The table (cut to
    12 places here, 10,000 in production) keeps room, and the other village syncs.
    Before, 12 handshakes filled it and every other village got 503 ``busy``."""
    monkeypatch.setattr(sessions, "MAX_SESSIONS", 12)
    flooder = county.client(V1, sleep=no_sleep)
    for _ in range(30):
        flooder.link.open_session()
    assert peers(county).count(f"village:{V1}") == sessions.MAX_SESSIONS_PER_PEER
    county.client(V2, sleep=no_sleep).sync_round()  # raises SyncFailed (503) if it is full
    assert f"village:{V2}" in peers(county)
    flooder.sync_round()  # the flooder's newest session still works


def test_revoking_a_village_ends_its_sessions_at_once(county: County) -> None:
    """The administrator revokes a flooding (stolen) PC; once the township holds the
    list, the first request it serves ends that PC's sessions, freeing their places.
    Before, they stayed in the table until their expiry, 12 hours later."""
    flooder = county.client(V1, sleep=no_sleep)
    for _ in range(3):
        flooder.link.open_session()
    assert peers(county).count(f"village:{V1}") == 3
    village = county.villages[V1]
    valid = {village.changelog.log: village.changelog.head_seq}
    assert county.clock is not None
    raw = county.admin.revoke_node(V1, "stolen", valid, county.clock())
    install_revocations(county.towns[T].store.data_dir, raw)
    county.client(V2, sleep=no_sleep).sync_round()
    assert f"village:{V1}" not in peers(county)
    with pytest.raises(SyncFailed) as refused:
        flooder.sync_round()
    assert refused.value.code == "revoked"
