# SPDX-License-Identifier: Apache-2.0
"""A township that lost both the county's answer and its copies heals and goes idle
(simulation seeds 3239 and 3336), on real servers on loopback.

The township handed a village's batch up; the county committed it, but the answer never
came back (the township crashed), and later the township's disk lost its copy. It held
the log as far as the county did, without the county's acknowledgement and without a
copy to send again for a fresh one: every round asked the full state for ever, never
idle, and the village never heard that the county holds its entries. Now the township
sets its head back to the acknowledgement it keeps (node/sync/relay.py ``_show_child``):
the village sends the range again and the county's answer to the duplicate reaches it;
or, when the village no longer holds the range, the county alone holds it and the pair
is idle all the same (node/sync/parent_ahead.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from node.store.backup import backup, restore
from node.store.store import NodeStore
from node.sync.client import RoundReport
from node.sync.push import ENVELOPES_PATH
from tests.node.sync.faults import Hooked, no_sleep, write
from tests.node.sync.network import County, SimClock, loopback_county

V1, T, C = "440104001002", "440104001", "440104"
LOG = f"village:{V1}#1"


class Crashed(Exception):
    """The township's PC went down after the county answered, before it kept the answer."""


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {T: [V1]}, clock=SimClock()) as c:
        yield c


def _round(county: County, code: str) -> RoundReport:
    return county.client(code, sleep=no_sleep).sync_round()


def _crash_after_the_forward(county: County) -> None:
    """The township hands the village's batch up; the county commits it and answers,
    and the township crashes before it keeps the answer."""

    def crash(resp: requests.Response, _n: int) -> None:
        if resp.url.endswith(ENVELOPES_PATH) and resp.status_code == 200:
            raise Crashed

    with pytest.raises(Crashed):
        county.client(T, sleep=no_sleep, http=Hooked(after=crash)).sync_round()


def _lose_the_copies(county: County) -> None:
    """The township's disk loses its kept copies of the village's log (the frontier stays)."""
    town = county.towns[T].store
    with town.db.atomic():
        assert town.db.execute("DELETE FROM inbound WHERE log = ?", [LOG]).rowcount == 1


def _acks(store: NodeStore) -> dict[str, int]:
    rows = store.db.execute("SELECT peer, seq FROM peer_acks WHERE log = ?", [LOG])
    return {str(peer): int(seq) for peer, seq in rows}


def _stuck(county: County) -> None:
    """The county holds the village's 4 entries (its first and 3 changes), the township
    holds them as far as the county does, without the county's acknowledgement and
    without a copy."""
    _round(county, T)  # its own log is at the county: the next batch up is the village's
    write(county.villages[V1], 3)
    assert _round(county, V1).pushed_entries == 4
    _crash_after_the_forward(county)
    _lose_the_copies(county)
    town = county.towns[T].store
    assert [seq for seq, _ in county.county_log(LOG)] == [1, 2, 3, 4]
    assert town.db.execute("SELECT seq FROM frontier WHERE log = ?", [LOG]).fetchone()[0] == 4
    assert _acks(town) == {} and _acks(county.villages[V1]) == {f"township:{T}": 4}


def test_the_village_sends_again_and_gets_the_countys_acknowledgement(county: County) -> None:
    _stuck(county)
    town = _round(county, T)  # used to ask the full state at every round, for ever
    assert town.lost == [f"{LOG} 1..4"], town
    village = _round(county, V1)
    assert village.pushed_entries == 4  # sent again, from the township's state
    assert _round(county, T).forwarded_envelopes == 1  # a duplicate at the county
    _round(county, V1)
    assert _acks(county.villages[V1]) == {f"township:{T}": 4, f"county:{C}": 4}
    assert _acks(county.towns[T].store) == {f"county:{C}": 4}
    assert [seq for seq, _ in county.county_log(LOG)] == [1, 2, 3, 4]  # once each
    assert _round(county, T).idle
    assert _round(county, V1).idle


def test_the_township_goes_idle_when_only_the_county_holds_them(
    county: County, tmp_path: Path
) -> None:
    """The village PC was put back from a backup taken before its 3 changes: nobody can
    send entries 2..4 again, the county alone holds them, and nothing is dropped."""
    village = county.villages[V1]
    backup(village, tmp_path / "monday.rkb", county.clock())  # type: ignore[misc]
    _stuck(county)
    data_dir = village.data_dir
    village.close()
    restore(data_dir, tmp_path / "monday.rkb")
    county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    for _ in range(2):
        _round(county, V1)  # sends what its backup held of the log: entry 1
        _round(county, T)
    assert [seq for seq, _ in county.county_log(LOG)] == [1, 2, 3, 4]  # nothing dropped
    town = county.towns[T].store
    assert town.db.execute("SELECT seq FROM frontier WHERE log = ?", [LOG]).fetchone()[0] == 1
    assert _acks(town) == {f"county:{C}": 4}  # the county's answer to the duplicate
    assert _round(county, T).idle
    _round(county, V1)  # takes the county's acknowledgement from the township's outbox
    assert _acks(county.villages[V1]) == {f"township:{T}": 1, f"county:{C}": 4}
    assert _round(county, T).idle
    assert _round(county, V1).idle
