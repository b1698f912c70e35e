# SPDX-License-Identifier: Apache-2.0
"""Hukou moves between two villages of the network, and erasure at the end of retention,
end to end on loopback: village -> township -> county, real stores and HTTP servers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from county_aggregator.conflicts import list_conflicts
from county_aggregator.merge import merge_new
from county_aggregator.store import init_merged
from node.recording import add_record
from node.retention import delete_expired
from tests.node.domain.examples import example, woman_card
from tests.node.sync.network import County, loopback_county

OLD, NEW = "440104001002", "440104002001"
TODAY = date(2026, 11, 28)


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {OLD[:9]: [OLD], NEW[:9]: [NEW]}) as c:
        yield c


def sync_all(county: County) -> None:
    for code in (OLD, NEW, OLD[:9], NEW[:9]):
        county.client(code).sync_round()


def merged_rows(merged: Database, kind: str) -> list[dict[str, Any]]:
    rows = merged.execute(
        "SELECT key, data, origins, village, retired FROM merged_records WHERE kind = ?", [kind]
    ).fetchall()
    return [
        dict(zip(("key", "data", "origins", "village", "retired"), r, strict=True)) for r in rows
    ]


def hukou_card(village: str, **changes: Any) -> dict[str, Any]:
    return woman_card(
        hukou_code=village, residence_code=village, floating_status="resident",
        floating_since=None, floating_place=None, spouse_ref=None, **changes,
    )  # fmt: skip


def test_a_hukou_move_closes_the_old_card_and_the_county_links_the_new_one(
    county: County,
) -> None:
    """Issue 16 item 1, domain.md 2: a hukou move (迁出/迁入) closes the card at the old
    village (reason: moved away) and opens it at the new one; the new village records
    the move-in as its own card, the county links the two by ID number, and nobody
    writes into another node's store. Closing one card is no conflict with the other."""
    old, new = county.villages[OLD], county.villages[NEW]
    left = add_record(old, "person", hukou_card(OLD, name="周迁移"), today=TODAY)
    add_record(old, "move", example("move", person_ref=left, direction="out",
                                    move_date="2026-11-10", from_code=OLD, to_code=NEW),
               today=TODAY)  # fmt: skip
    assert old.record("person", left)["_retired"] == "moved_away"
    arrived = add_record(new, "person", hukou_card(NEW, name="周迁移"), today=TODAY)
    add_record(new, "move", example("move", person_ref=arrived, direction="in",
                                    move_date="2026-11-12", from_code=OLD, to_code=NEW),
               today=TODAY)  # fmt: skip
    add_record(new, "health_check", example("health_check", person_ref=arrived,
                                            scheduled_date="2026-11-20"), today=TODAY)  # fmt: skip
    sync_all(county)
    merged = init_merged(Database(memory=True))
    merge_new(county.county.store.db, merged)
    (person,) = merged_rows(merged, "person")
    assert person["key"].startswith("idn:") and person["retired"] is None
    assert person["village"] == NEW and sorted(eval(person["origins"])) == [OLD, NEW]
    assert [c for c in list_conflicts(merged) if c["kind"] == "person"] == []
    moves = sorted((m["village"], '"out"' in m["data"]) for m in merged_rows(merged, "move"))
    assert moves == [(OLD, True), (NEW, False)]


def test_retention_erases_the_payloads_at_the_county_too(county: County) -> None:
    """Issue 16 item 5, SPEC §5.4: the deletion is an entry that travels like any
    change; the county erases the earlier payloads it received of the deleted card and
    its records, and the merged record keeps none of her data; every log still verifies."""
    village = county.villages[OLD]
    entered = date(2023, 6, 1)  # she was 49 then; 50 on 2024-01-05, due on 2026-01-05
    old = add_record(village, "person",
                     hukou_card(OLD, name="刘老妇", birth=date(1974, 1, 5), phone="13911112222"),
                     today=entered)  # fmt: skip
    add_record(village, "marriage", example("marriage", woman_ref=old, husband_name="赵老汉"),
               today=entered)  # fmt: skip
    other = add_record(village, "person", hukou_card(OLD, name="陈青年"), today=TODAY)
    sync_all(county)
    county_db = county.county.store.db
    merged = init_merged(Database(memory=True))
    merge_new(county_db, merged)
    assert any("刘老妇" in p["data"] for p in merged_rows(merged, "person"))

    assert delete_expired(village, [old], date(2026, 1, 4)) == 0  # not yet
    assert delete_expired(village, [old], date(2026, 1, 5)) == 1
    sync_all(county)
    held = b"".join(
        bytes(p)
        for (p,) in county_db.execute(
            "SELECT payload FROM received_entries WHERE payload IS NOT NULL"
        )
    )
    for secret in ("刘老妇", "赵老汉", "13911112222"):
        assert secret.encode() not in held
    assert "陈青年".encode() in held
    merge_new(county_db, merged)
    people = merged_rows(merged, "person")
    her_id = woman_card(birth=date(1974, 1, 5))["id_number"]
    assert not [p for p in people if "刘老妇" in p["data"] or her_id in p["key"]]
    assert [p["retired"] for p in people if "陈青年" in p["data"]] == [None]
    (marriage,) = merged_rows(merged, "marriage")
    assert "赵老汉" not in marriage["data"] and marriage["retired"] == "retention"
    # The chains still verify: at the village, and the county took every entry.
    assert village.verify_log() == village.changelog.head_seq
    head = county_db.execute(
        "SELECT MAX(seq) FROM received_entries WHERE log = ?", [str(village.changelog.log)]
    ).fetchone()[0]
    assert head == village.changelog.head_seq
    assert village.record("person", other) is not None
