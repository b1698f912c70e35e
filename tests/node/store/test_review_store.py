# SPDX-License-Identifier: Apache-2.0
"""The township's review store (node/store/review.py): kept once, named, purged by month."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from node.store.backup import backup, restore
from node.store.database import DB_NAME, open_database
from node.store.review import ADDED, ReviewChange, ReviewStore, month_of
from node.store.schema import migrations
from node.store.store import NodeStore

V = "440104001002"


@pytest.fixture
def db() -> Database:
    fresh = Database(sqlite3.connect(":memory:", isolation_level=None))  # as a node's
    migrations.apply(fresh)
    return fresh


def change(seq: int, month: str, **fields: object) -> ReviewChange:
    return ReviewChange(
        V, f"village:{V}#1", seq, 0, month, seq, "person", "P1", ADDED, "P1", fields
    )


def test_a_change_is_kept_once_and_the_card_names_its_person(db: Database) -> None:
    """A batch opened twice (by the review, then before the wrap goes) is one row; the
    name a card last carried names the person in the other changes."""
    reviews = ReviewStore(db)
    assert reviews.keep([change(1, "2026-03", name="张秀英")], 1) == 1
    assert reviews.keep([change(1, "2026-03", name="张秀英")], 2) == 0
    reviews.keep([change(2, "2026-03", name="张秀英英"), change(3, "2026-03", sex="F")], 3)
    assert reviews.names(V) == {"P1": "张秀英英"}
    assert [c.seq for c in reviews.changes(V, "2026-03")] == [1, 2, 3]
    assert reviews.villages("2026-03") == [V] and reviews.villages("2026-04") == []


def test_purging_deletes_the_months_before_the_window_only(db: Database) -> None:
    reviews = ReviewStore(db)
    reviews.keep([change(1, "2026-01"), change(2, "2026-02"), change(3, "2026-03")], 1)
    assert reviews.purge_before("2026-02") == 1
    assert reviews.purge_before("2026-02") == 0  # nothing due: nothing written
    assert [c.month for c in reviews.changes(V, "2026-02")] == ["2026-02"]
    assert reviews.count() == 2


def test_purged_changes_are_gone_from_the_file_and_its_wal(tmp_path: Path) -> None:
    """Byte for byte: a plain node database (an encrypted one reads as noise anyway)
    holds a kept name in its file or WAL; once purged, neither holds it (secure_delete
    zeroes the freed cell, the WAL is written into the file and truncated)."""
    db = open_database(tmp_path / DB_NAME, create=True)
    reviews = ReviewStore(db)
    name = "欧阳秀英"
    with db.atomic():
        reviews.keep([change(1, "2026-01", name=name)], 1)

    def files() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())

    try:
        assert name.encode() in files()  # kept: there it is
        assert reviews.purge_before("2026-02") == 1
        assert name.encode() not in files()
    finally:
        db.close()


def test_a_backup_carries_no_review_data(store: NodeStore, tmp_path: Path) -> None:
    """A backup lives far longer than the review window: what the township kept for its
    review is left out of it (a change of this month, which the window still keeps, is
    not in the restored store)."""
    now = store.clock()
    kept = change(1, month_of(now), name="欧阳秀英")
    with store.db.atomic():
        ReviewStore(store.db).keep([kept], now)
    backup(store, tmp_path / "b.db")
    assert ReviewStore(store.db).count() == 1  # the node itself keeps it
    data_dir = store.data_dir
    store.close()
    restore(data_dir, tmp_path / "b.db")
    again = NodeStore.open(data_dir)
    try:
        assert ReviewStore(again.db).count() == 0
    finally:
        again.close()
