# SPDX-License-Identifier: Apache-2.0
"""Issue 12 item 1, the county's side: merge identity never joins two records because
their local ids collide, on real stores and servers on loopback.

This release never issues an id twice (ids of epoch 2 on end in ``.2``, a stale copy's
cards are carried over under new ids: test_lost_ids.py). But a PC restored by an
earlier release counted ids from where its backup stood, and so did a copy put back by
hand and moved to a new epoch by it: the lost period's ``P2`` and the new epoch's
``P2`` are two women, and both logs reach the county. The county used to key a card by
``(village, kind, local id)`` and joined them: one card with entries about two people,
the later birth credited to whichever woman won the merge. It now reads a local id as
naming the record the writing log sees (county_aggregator/lines.py): each woman keeps
her own record, and each birth stays with the mother its village meant.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from county_aggregator.merge import merge_new, rebuild
from county_aggregator.store import content_hash, init_merged
from node.recording import add_record
from node.store.store import NodeStore
from node.sync.client import SyncClient, SyncFailed
from node.sync.epochs import known_epoch
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


def _woman(store: NodeStore, born: date, name: str, rid: str | None = None) -> str:
    """A woman's card; ``rid``: the id an earlier release would have given her."""
    card = woman_card(born, name=name, spouse_ref=None)
    if rid is None:
        return add_record(store, "person", card, today=TODAY)
    store.write([store.upsert_op("person", rid, card)])
    return rid


def _birth(store: NodeStore, mother: str, born: str) -> None:
    birth = example("birth", mother_ref=mother, birth_date=born)
    store.write([store.upsert_op("birth", store.new_id("birth"), birth)])


def _merged(county: County) -> Database:
    merged = init_merged(Database(memory=True))
    merge_new(county.county.store.db, merged)
    again = init_merged(Database(memory=True))
    rebuild(county.county.store.db, again)
    assert content_hash(again) == content_hash(merged)
    return merged


def _rows(merged: Database, kind: str) -> list[dict[str, Any]]:
    return [
        {"key": key, **json.loads(data)}
        for key, data in merged.execute(
            "SELECT key, data FROM merged_records WHERE kind = ? ORDER BY key", [kind]
        )
    ]


def _names_per_card(merged: Database) -> dict[str, set[str]]:
    """Every name each person card at the county was ever given, by its line name."""
    out: dict[str, set[str]] = {}
    for record, value in merged.execute(
        "SELECT record, value FROM versions WHERE kind = 'person' AND field = 'name'"
    ):
        out.setdefault(record, set()).add(value)
    return out


def _restore_by_an_earlier_release(county: County, copy: Path) -> NodeStore:
    """`renkou node restore` as an earlier release did it: a new epoch, but the ids it
    issues next are the backup's next numbers, without the epoch."""
    restored = NodeStore.open(copy, clock=county.clock)
    restored.start_epoch("restore", known_epoch(restored))
    return restored


def test_two_women_given_one_id_in_two_epochs_stay_two_records(
    county: County, tmp_path: Path
) -> None:
    village = county.villages[V1]
    _woman(village, date(1985, 2, 3), "甲")
    _sync(county, village)
    copy = copy_node(village, tmp_path / "monday")
    lost = _woman(village, date(1990, 5, 17), "乙")  # P2, the lost period's card
    _birth(village, lost, "2026-10-01")
    _sync(county, village)
    village.close()

    restored = _restore_by_an_earlier_release(county, copy)
    try:
        county.villages[V1] = restored
        again = _woman(restored, date(1992, 7, 9), "丙", rid=lost)  # P2 again
        _birth(restored, again, "2026-11-20")
        restored.write([restored.upsert_op("person", again, {"phone": "13900000000"})])
        _sync(county, restored)

        merged = _merged(county)
        assert _names_per_card(merged) == {"P1": {"甲"}, lost: {"乙"}, f"{lost}@2": {"丙"}}
        people = {p["name"]: p for p in _rows(merged, "person")}
        assert set(people) == {"甲", "乙", "丙"}
        assert "phone" not in people["乙"] or people["乙"]["phone"] != "13900000000"
        assert people["丙"]["phone"] == "13900000000"
        births = {b["birth_date"]: b["mother_ref"] for b in _rows(merged, "birth")}
        assert births == {"2026-10-01": people["乙"]["key"], "2026-11-20": people["丙"]["key"]}
    finally:
        restored.close()


def test_an_edit_in_the_new_epoch_of_a_card_the_backup_held_joins_it(
    county: County, tmp_path: Path
) -> None:
    """The same id in two epochs is one record when the new epoch sees the old write:
    editing a card the backup held is the same woman, whatever the id's spelling."""
    village = county.villages[V1]
    kept = _woman(village, date(1985, 2, 3), "甲")
    _sync(county, village)
    copy = copy_node(village, tmp_path / "monday")
    village.close()
    restored = _restore_by_an_earlier_release(county, copy)
    try:
        county.villages[V1] = restored
        restored.write([restored.upsert_op("person", kept, {"phone": "13900000000"})])
        _birth(restored, kept, "2026-11-20")
        _sync(county, restored)
        merged = _merged(county)
        assert _names_per_card(merged) == {kept: {"甲"}}
        (woman,) = _rows(merged, "person")
        assert woman["phone"] == "13900000000"
        (birth,) = _rows(merged, "birth")
        assert birth["mother_ref"] == woman["key"]
    finally:
        restored.close()


def test_a_birth_for_a_card_only_the_abandoned_stretch_held_is_no_other_womans(
    county: County, tmp_path: Path
) -> None:
    """Why, bullet 1, as an earlier release left it: a copy put back by hand writes a
    new card (P2 again), sync refuses the fork, the new epoch starts from the last
    acknowledged entry and drops the stretch without carrying it over, and a birth is
    recorded for "P2". The county holds only the lost period's P2 (乙), which the new
    epoch never saw: the birth names a mother the county does not hold, never 乙."""
    village = county.villages[V1]
    _woman(village, date(1985, 2, 3), "甲")
    _sync(county, village)
    copy = copy_node(village, tmp_path / "stale")
    lost = _woman(village, date(1990, 5, 17), "乙")
    _sync(county, village)
    village.close()

    stale = NodeStore.open(copy, clock=county.clock)
    try:
        county.villages[V1] = stale
        written = _woman(stale, date(1992, 7, 9), "丙")
        assert written == lost
        with pytest.raises(SyncFailed):
            _sync(county, stale)
        kept = stale.changelog.head_seq - 1
        stale.start_epoch("fork", known_epoch(stale), kept=kept)  # nothing carried over
        _birth(stale, written, "2026-11-20")
        _sync(county, stale)
        merged = _merged(county)
        people = {p["name"]: p["key"] for p in _rows(merged, "person")}
        assert set(people) == {"甲", "乙"}
        (birth,) = _rows(merged, "birth")
        assert birth["mother_ref"] not in people.values()
        assert birth["mother_ref"] == f"{V1}/{lost}@2"
    finally:
        stale.close()
