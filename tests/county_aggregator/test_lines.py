# SPDX-License-Identifier: Apache-2.0
"""A local id names the record the writing log sees (county_aggregator/lines.py), and
the merge stays a function of the entries held: whatever order the two epochs' entries
arrive in (an epoch's entries before the older epoch's it continues, a reference before
its record), the lines, keys and bytes come out the same.

The village: epoch 1 writes 甲 (P1), then, after the backup was taken, 乙 (P2) and her
birth; an earlier release restores the backup as epoch 2 (from seq 2), which gives P2
again, to 丙, with her birth, and edits 甲 (whom the backup held).
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from county_aggregator import lines, store
from county_aggregator.merge import apply_entries, content_hash, merge_new, rebuild
from county_aggregator.migrations import migrations
from county_aggregator.store import init_merged
from node.identity import key_dir
from node.store.database import DB_NAME, connect
from node.store.store import NodeStore
from protocol import Entry, NodeId, Suite
from tests.county_aggregator.scenario import COUNTY, Clock, card, county_db, id_number

V = "440104001001"
A, B, C = (id_number("1990-01-01", n) for n in (1, 2, 3))
P1, P2 = "P1", "P2"


@functools.cache
def _entries() -> tuple[Entry, ...]:
    root = Path(tempfile.mkdtemp(prefix="renkou-lines-"))
    try:
        return tuple(_write(root))
    finally:
        shutil.rmtree(root)


def _write(root: Path) -> list[Entry]:
    clock = Clock()
    village = NodeStore.init(root / "pc", NodeId.for_code(V), "村", Suite.CLASSIC, clock=clock)
    try:
        village.write([village.upsert_op("person", P1, card(A, "甲", "1990-01-01", V, V))])
        backup = root / "backup"
        backup.mkdir()
        shutil.copytree(key_dir(village.data_dir), key_dir(backup))
        target = connect(backup / DB_NAME, village.identity.db_key)
        village.db.conn.backup(target)
        target.close()
        for _ in range(2):
            clock.tick()
        village.write([village.upsert_op("person", P2, card(B, "乙", "1990-01-01", V, V))])
        clock.tick()
        birth = {"mother_ref": P2, "birth_date": "2026-10-01"}
        village.write([village.upsert_op("birth", "B1", birth)])
        first = list(village.entries())
    finally:
        village.close()
    restored = NodeStore.open(backup, clock=clock)
    try:
        restored.start_epoch("restore", 1)
        clock.tick()
        restored.write([restored.upsert_op("person", P2, card(C, "丙", "1990-01-01", V, V))])
        clock.tick()
        birth = {"mother_ref": P2, "birth_date": "2026-11-20"}
        restored.write([restored.upsert_op("birth", "B1.2", birth)])
        clock.tick()
        restored.write([restored.upsert_op("person", P1, {"phone": "13900000000"})])
        second = list(restored.entries())
    finally:
        restored.close()
    return first + second


def _merged(batches: list[list[Entry]]) -> Database:
    db = init_merged(Database(memory=True))
    for batch in batches:
        apply_entries(db, batch, county=COUNTY)
    return db


@functools.cache
def _in_order() -> str:
    return content_hash(_merged([list(_entries())]))


def test_two_people_under_one_id_are_two_records_one_person_seen_from_both_is_one() -> None:
    db = _merged([list(_entries())])
    names = dict(db.execute("SELECT rid, key FROM local_records WHERE kind = 'person'"))
    assert names == {P1: f"idn:{A}", P2: f"idn:{B}", f"{P2}@2": f"idn:{C}"}
    people = {
        json.loads(d)["name"]: (k, json.loads(d))
        for k, d in db.execute("SELECT key, data FROM merged_records WHERE kind = 'person'")
    }
    assert set(people) == {"甲", "乙", "丙"}
    assert people["甲"][1]["phone"] == "13900000000"  # epoch 2's edit of the card it saw
    births = dict(
        (json.loads(d)["birth_date"], json.loads(d)["mother_ref"])
        for (d,) in db.execute("SELECT data FROM merged_records WHERE kind = 'birth'")
    )
    assert births == {"2026-10-01": f"idn:{B}", "2026-11-20": f"idn:{C}"}
    links = db.execute("SELECT log, prev_log, prev_seq FROM epoch_links").fetchall()
    assert links == [(f"village:{V}#2", f"village:{V}#1", 2)]


def test_the_newer_epoch_first_then_the_older_gives_the_same_bytes() -> None:
    """The restored PC's epoch reaches the county before the lost period's entries (and
    the older epoch's head before its first entries): the lines are made again as each
    root moves, and end as if everything came in order."""
    entries = list(_entries())
    old = [e for e in entries if e.log.epoch == 1]
    new = [e for e in entries if e.log.epoch == 2]
    for batches in (
        [new, old],
        [new[1:], old[1:], new[:1], old[:1]],
        [[e] for e in reversed(entries)],
    ):
        assert content_hash(_merged(batches)) == _in_order()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(len(_entries()))), st.lists(st.integers(1, 4), min_size=1))
def test_any_order_and_batching_give_one_hash(order: list[int], sizes: list[int]) -> None:
    stream = [_entries()[i] for i in order]
    batches, at, n = [], 0, 0
    while at < len(stream):
        size = sizes[n % len(sizes)]
        batches.append(stream[at : at + size])
        at, n = at + size, n + 1
    assert content_hash(_merged(batches)) == _in_order()


def test_rebuild_from_the_county_node_equals_apply(tmp_path: Path) -> None:
    county = county_db(tmp_path, _entries())
    try:
        direct = _merged([list(_entries()), list(county.entries())])
        rebuilt = init_merged(Database(memory=True))
        rebuild(county.db, rebuilt, chunk=2)
        assert content_hash(rebuilt) == content_hash(direct)
    finally:
        county.close()


def test_line_names() -> None:
    one, two = f"village:{V}#1", f"village:{V}#2"
    assert lines.line_name("P2", one) == "P2"
    assert lines.line_name("P2", two) == "P2@2"
    assert lines.line_name("P2.2", two) == "P2.2"
    assert lines.line_name("P2.2", one) == "P2.2@1"
    links = {two: (one, 2)}
    assert lines.root(two, {one: 3, two: 5}, links) == two  # written past the cut: unseen
    assert lines.root(two, {one: 2, two: 5}, links) == one
    assert lines.root(two, {one: 2}, links) == one  # a reference from epoch 2
    assert lines.root(two, {one: 3}, links) is None
    assert lines.chain(one, {one: (two, 1), two: (one, 1)}) == [(one, None), (two, 1)]


def test_a_merged_database_from_before_the_lines_is_rebuilt_by_the_next_merge(
    tmp_path: Path,
) -> None:
    """A county that merged epochs under the earlier rule joined what it now splits:
    the migration marks a merged database that holds records, and the next merge_new
    starts over from the county node's entries."""
    county = county_db(tmp_path, _entries())
    try:
        old = Database(memory=True)
        migrations.apply(old, stop_before="m002_epoch_links")
        store.set_meta(old, "county", COUNTY)
        old.execute(
            "INSERT INTO local_records (origin, kind, rid, key, sig, hukou, residence, versions)"
            " VALUES (?, 'person', 'P2', 'idn:x', NULL, 1, 1, '{}')",
            [V],
        )
        init_merged(old)
        assert store.get_meta(old, "rebuild") == "epoch links"
        stats = merge_new(county.db, old)
        assert stats.rebuilt
        again = init_merged(Database(memory=True))
        rebuild(county.db, again)
        assert content_hash(old) == content_hash(again)
        fresh = init_merged(Database(memory=True))
        assert store.get_meta(fresh, "rebuild") is None  # nothing merged: nothing to redo
    finally:
        county.close()
