# SPDX-License-Identifier: Apache-2.0
"""Issue 12 item 1: local ids never reused across epochs, nothing typed on a stale copy
lost, on real stores and servers on loopback.

A PC put back by hand from an older copy of node.db counts record ids from where the
copy stood: the card it writes next gets the id the lost period already gave another
woman. Sync refuses the forked log, the officer opens a new epoch as told, and what was
written on the stale copy must reach the county in the new epoch under an id that
cannot point at anyone else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from county_aggregator.merge import merge_new
from county_aggregator.store import init_merged
from deploy.cli import cli
from node.recording import add_record
from node.store.store import NodeStore
from node.sync.client import SyncClient, SyncFailed
from tests.node.domain.examples import example, woman_card
from tests.node.sync.faults import copy_node
from tests.node.sync.network import County, SimClock, loopback_county

V1, T = "440104001002", "440104001"
TODAY = date(2026, 11, 28)


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {T: [V1]}, clock=SimClock()) as c:
        yield c


def _sync(county: County, store: NodeStore) -> None:
    SyncClient(store, county.towns[T].url, now_ms=county.clock).sync_round()
    county.client(T).sync_round()


def _woman(store: NodeStore, born: date, name: str) -> str:
    card = woman_card(born, name=name, spouse_ref=None)
    return add_record(store, "person", card, today=TODAY)


def _id_of(store: NodeStore, name: str) -> str:
    (found,) = [rid for rid, data in store.records("person") if data.get("name") == name]
    return found


def _merged(county: County) -> Database:
    merged = init_merged(Database(memory=True))
    merge_new(county.county.store.db, merged)
    return merged


def _rows(merged: Database, kind: str) -> list[dict[str, Any]]:
    return [
        {"key": key, **json.loads(data)}
        for key, data in merged.execute(
            "SELECT key, data FROM merged_records WHERE kind = ?", [kind]
        )
    ]


def test_a_card_written_on_a_hand_copy_reaches_the_county_with_its_birth(
    county: County, tmp_path: Path
) -> None:
    """Why, bullet 1: hand copy of an older node.db -> a new card (it would get P2, which
    the lost period gave another woman) -> sync refuses the fork -> `renkou node new-epoch
    --reason fork --yes` -> a birth for the new card: the county holds the new card and
    the birth is on her, not on the other P2; so is what the stale copy wrote about her."""
    village = county.villages[V1]
    _woman(village, date(1985, 2, 3), "甲")
    _sync(county, village)
    copy = copy_node(village, tmp_path / "stale")
    lost = _woman(village, date(1990, 5, 17), "乙")  # the lost period's card
    _sync(county, village)
    village.close()

    stale = NodeStore.open(copy, clock=county.clock)
    written = _woman(stale, date(1992, 7, 9), "丙")
    assert written == lost  # the id the lost period already used
    check = example("health_check", person_ref=written, scheduled_date="2026-11-20")
    add_record(stale, "health_check", check, today=TODAY)
    with pytest.raises(SyncFailed) as refused:
        _sync(county, stale)
    assert refused.value.code in ("fork", "behind_parent")
    stale.close()

    shown = CliRunner().invoke(
        cli, ["node", "new-epoch", "--reason", "fork", "--yes", "--data-dir", str(copy)]
    )
    assert shown.exit_code == 0, shown.output
    stale = NodeStore.open(copy, clock=county.clock)
    try:
        mother = _id_of(stale, "丙")
        assert mother != lost and mother.endswith(".2")
        assert f"记录 {lost} 现编号为 {mother}" in shown.output
        assert stale.rebuild_hash() == stale.records_hash()
        told = CliRunner().invoke(cli, ["node", "status", "--data-dir", str(copy)]).output
        assert "发现日志分叉，已开始新的日志周期 2" in told  # issue 12 item 6
        assert "在旧副本上录入的 2 条变更已重新记录" in told
        add_record(stale, "birth", example("birth", mother_ref=mother), today=TODAY)
        _sync(county, stale)
        merged = _merged(county)
        people = {p["name"]: p["key"] for p in _rows(merged, "person")}
        assert set(people) == {"甲", "乙", "丙"}
        (birth,) = _rows(merged, "birth")
        assert birth["mother_ref"] == people["丙"]
        (carried,) = _rows(merged, "health_check")  # written on the stale copy, renamed too
        assert carried["person_ref"] == people["丙"]
        client = SyncClient(stale, county.towns[T].url, now_ms=county.clock)
        client.sync_round()  # the abandoned stretch is not part of what we hold for sync
        idle = client.sync_round()
        assert idle.idle and idle.requests == 1
    finally:
        stale.close()
        county.villages[V1] = NodeStore.open(village.data_dir, clock=county.clock)
