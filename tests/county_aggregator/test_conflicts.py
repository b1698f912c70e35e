# SPDX-License-Identifier: Apache-2.0
"""The conflict queue: list, show, resolve -> an advisory in the county's own log."""

from __future__ import annotations

from pathlib import Path

import pytest

from county_aggregator.advised import pending_advisories
from county_aggregator.conflicts import list_conflicts, resolve, show
from county_aggregator.merge import content_hash, merge_new, rebuild
from county_aggregator.store import init_merged
from node.errors import NotFoundError
from protocol import Note, decode_payload
from tests.county_aggregator.scenario import Villages, card, county_db, id_number, receive
from tests.county_aggregator.test_rules import BIRTH, IDN, KEY, H, R, two_cards


@pytest.fixture
def queue(villages: Villages, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two cards that disagree about the phone, merged at a county node."""
    from sqlite_utils import Database

    two_cards(villages, hukou_knows=False)
    villages.write(H, "person", "P1", {"phone": "13700000000"})
    villages.write(R, "person", "P7", {"phone": "13600000000"})
    county = county_db(tmp_path, villages.entries(), villages.clock)
    db = init_merged(Database(memory=True))
    merge_new(county.db, db)
    yield villages, county, db
    county.close()


def test_list_and_show_give_both_values_origins_and_times(queue) -> None:  # type: ignore[no-untyped-def]
    _villages, _county, db = queue
    items = list_conflicts(db)
    assert items and all(i["status"] == "open" for i in items)
    item = show(db, items[0]["id"][:10])  # an unambiguous prefix is enough
    assert {item["a"]["origin"], item["b"]["origin"]} == {H, R}
    assert item["a"]["hlc"] and item["b"]["hlc"] and item["a"]["entry"] < item["b"]["entry"]
    assert all({"field", "a", "b", "provisional"} <= set(f) for f in item["fields"])


def test_unknown_conflict_is_not_found(queue) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError):
        show(queue[2], "ffff")
    with pytest.raises(NotFoundError):
        show(queue[2], "")


def test_resolve_writes_an_advisory_to_the_county_log_only(queue) -> None:  # type: ignore[no-untyped-def]
    """design.md: resolution produces an advisory to the owning node, never a write."""
    villages, county, db = queue
    item = next(i for i in list_conflicts(db) if "phone" in i["fields"])
    detail = show(db, item["id"])
    records_before = db.execute("SELECT * FROM merged_records").fetchall()
    entry = resolve(db, county, item["id"], "a")
    assert county.node == entry.log.node  # the county's own log
    (op,) = [op for op in decode_payload(entry.payload or b"") if isinstance(op, Note)]
    a_value = next(f["a"] for f in detail["fields"] if f["field"] == "phone")
    loser = detail["b"]
    assert "advisory" == op.topic
    assert {
        "conflict": item["id"],
        "kind": "person",
        "key": KEY,
        "field": "phone",
        "value": a_value,
        "for_node": f"village:{loser['origin']}",
        "record": loser["record"],
    } == op.body
    assert records_before == db.execute("SELECT * FROM merged_records").fetchall()
    assert "advised" == show(db, item["id"])["status"]
    pending = pending_advisories(db, f"village:{loser['origin']}")
    assert [("phone", a_value)] == [(p["field"], p["value"]) for p in pending]

    # The node records the fix as its own change; the item is then settled.
    villages.write(loser["origin"], "person", loser["record"], {"phone": a_value})
    receive(county.db, villages.entries())
    merge_new(county.db, db)
    assert "settled" == show(db, item["id"])["status"]
    assert not pending_advisories(db)

    # Advisories live in the county's log, so a rebuild derives the same queue.
    from sqlite_utils import Database

    again = init_merged(Database(memory=True))
    rebuild(county.db, again)
    assert content_hash(again) == content_hash(db)


def test_resolve_rejects_a_bad_choice(queue) -> None:  # type: ignore[no-untyped-def]
    _villages, county, db = queue
    with pytest.raises(ValueError):
        resolve(db, county, list_conflicts(db)[0]["id"], "c")


def test_same_logs_give_every_reader_the_same_queue(villages: Villages, tmp_path: Path) -> None:
    """Conflict ids come from the entries, so two counties reading the same logs agree."""
    from sqlite_utils import Database

    two_cards(villages, hukou_knows=False)
    villages.write(H, "person", "P1", {"phone": "13700000000"})
    villages.write(R, "person", "P7", {"phone": "13600000000"})
    villages.write(H, "person", "P2", card(id_number(BIRTH, 1), "李", BIRTH, H, H))
    queues = []
    for name in ("one", "two"):
        county = county_db(tmp_path / name, list(reversed(villages.entries())))
        db = init_merged(Database(memory=True))
        rebuild(county.db, db, chunk=3)
        queues.append([(i["id"], i["fields"]) for i in list_conflicts(db)])
        county.close()
    assert queues[0] == queues[1] and queues[0]
    assert IDN in KEY
