# SPDX-License-Identifier: Apache-2.0
"""A township whose parent holds a child's log it can never hold again goes idle
(simulation seed 4021), on real servers on loopback.

The village PC was restored from a backup (epoch 2, sent and handed up to the county),
then restored again from the same backup (epoch 3: the store lacks epoch 2); the
township PC was put back from a backup older than epoch 2. Only the county holds epoch 2
now, and logs flow only up: the township's head of it differed from the county's for
ever, so every round of the township compared the full state and was never idle. It
counts the log at the county's head in its state digest (node/sync/parent_ahead.py),
as long as what it holds of it is known to be a prefix of the county's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.store.backup import backup, restore
from node.store.store import NodeStore
from tests.node.sync.faults import copy_node, no_sleep, write
from tests.node.sync.network import County, SimClock, loopback_county, serve

V1, T = "440104001002", "440104001"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {T: [V1]}, clock=SimClock()) as c:
        yield c


def _round(county: County, code: str) -> bool:
    """One round of ``code``; was it idle?"""
    return county.client(code, sleep=no_sleep).sync_round().idle


def _restore(county: County, monday: Path) -> NodeStore:
    village = county.villages[V1]
    data_dir = village.data_dir
    village.close()
    restore(data_dir, monday)
    county.villages[V1] = NodeStore.open(data_dir, clock=county.clock)
    return county.villages[V1]


def _heads(store: NodeStore) -> dict[str, int]:
    rows = store.db.execute("SELECT log, seq FROM frontier WHERE log LIKE ?", [f"%{V1}%"])
    return {str(log): int(seq) for log, seq in rows}


def test_a_restored_township_goes_idle_when_only_the_county_holds_a_childs_epoch(
    county: County, tmp_path: Path
) -> None:
    write(county.villages[V1], 2)
    _round(county, V1)
    _round(county, T)
    backup(county.villages[V1], tmp_path / "monday.rkb", county.clock())  # type: ignore[misc]
    town_backup = copy_node(county.towns[T].store, tmp_path / "town-backup")
    assert _restore(county, tmp_path / "monday.rkb").changelog.log.epoch == 2
    _round(county, V1)
    _round(county, T)  # the county holds epoch 2
    assert _restore(county, tmp_path / "monday.rkb").changelog.log.epoch == 3
    port = int(county.towns[T].url.rsplit(":", 1)[1])
    county.towns[T].stop()
    county.towns[T].store.close()
    county.towns[T] = serve(NodeStore.open(town_backup, clock=county.clock), port=port,
                            clock=county.clock)  # fmt: skip
    for _ in range(2):
        _round(county, V1)
        _round(county, T)
    held, town = _heads(county.county.store), _heads(county.towns[T].store)
    two = f"village:{V1}#2"
    assert two in held and two not in town  # nobody can give it back to the township
    assert {log: seq for log, seq in held.items() if log != two} == town
    assert _round(county, T) and _round(county, V1)
