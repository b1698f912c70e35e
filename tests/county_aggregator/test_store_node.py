# SPDX-License-Identifier: Apache-2.0
"""The county's table in the county node's database: created by the county's migration
set only, and a county node's store from before the move keeps its rows."""

from __future__ import annotations

from pathlib import Path

from county_aggregator.store_node import IssuedAdvisories
from node.store.store import NodeStore
from protocol import NodeId

COUNTY = NodeId.for_code("440104")


def _tables(store: NodeStore) -> set[str]:
    return set(store.db.table_names())


def test_the_node_schema_holds_no_county_table(tmp_path: Path) -> None:
    """A new node's store has no advisories_issued until the county opens it."""
    store = NodeStore.init(tmp_path / "c", COUNTY, "县")
    try:
        assert "advisories_issued" not in _tables(store)
        issued = IssuedAdvisories(store.db)
        assert "advisories_issued" in _tables(store)
        issued.record("county:440104#1", 3, "village:440104001002", "township:440104001", 7)
        assert issued.issued("county:440104#1", 3, "village:440104001002")
        assert not issued.issued("county:440104#1", 3, "village:440104001003")
        assert ["township:440104001"] == issued.outboxes("county:440104#1", 3)
    finally:
        store.close()


def test_a_county_store_from_before_the_move_keeps_its_rows(tmp_path: Path) -> None:
    """The node's own migration created the table until the county took it over; the
    county's migration (IF NOT EXISTS) leaves that table and what it records alone, so
    nothing is sent twice after the upgrade."""
    store = NodeStore.init(tmp_path / "c", COUNTY, "县")
    try:
        store.db.execute(  # what the node's m004 used to create, and a row it held
            "CREATE TABLE advisories_issued (log TEXT NOT NULL, seq INTEGER NOT NULL,"
            " for_node TEXT NOT NULL, child TEXT NOT NULL, at INTEGER NOT NULL,"
            " PRIMARY KEY (log, seq, for_node)) WITHOUT ROWID"
        )
        store.db.execute(
            "INSERT INTO advisories_issued VALUES"
            " ('county:440104#1', 2, 'village:440104001002', 'township:440104001', 5)"
        )
        issued = IssuedAdvisories(store.db)
        assert issued.issued("county:440104#1", 2, "village:440104001002")
        IssuedAdvisories(store.db)  # applying the migrations again changes nothing
        assert ["township:440104001"] == issued.outboxes("county:440104#1", 2)
    finally:
        store.close()
