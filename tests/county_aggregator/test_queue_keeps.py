# SPDX-License-Identifier: Apache-2.0
"""Issue 12 item 5: the conflict queue keeps every concurrent edit, whatever the order of
merges, and every item a village is told of can be shown at the county.

Two villages hold one woman's card (her hukou village and the village she lives in) and
edit the same field without seeing each other's change; the county merges after some of
the edits, in any interleaving. What a village is told after a merge (its outcome
notice: ``superseded ... queue item <id>``) must stay true after every later merge, and
at the end each place whose value does not stand has an item in the queue.

Each edit here is merged no earlier than the ones written before it (the clock moves
between edits): a log that lags, delivering a version older than one already merged,
is the known limit of the authority's review item (county_aggregator/resolve.py).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from county_aggregator.conflicts import list_conflicts, show
from county_aggregator.merge import apply_entries
from county_aggregator.outcomes import outcomes
from county_aggregator.store import init_merged
from protocol import Entry
from tests.county_aggregator.scenario import COUNTY, Villages, card, id_number

H, R = "440104001002", "440104002001"
IDN = id_number("1990-01-02", 1)
RID = {H: "P1", R: "P9"}
FIELDS = ("phone", "residence_address", "name", "marital_status")
"""Residence fields (the residence village's authority) and hukou ones (the hukou's)."""


def _villages() -> Villages:
    v = Villages(Path(tempfile.mkdtemp(prefix="renkou-queue-")), (H, R))
    v.write(H, "person", RID[H], card(IDN, "王", "1990-01-02", H, R))
    v.write(R, "person", RID[R], card(IDN, "王", "1990-01-02", H, R, floating_status="flowed_in"))
    return v


def _told(db: Database, entries: list[Entry]) -> set[str]:
    """The queue items the villages' outcome notices name for ``entries``."""
    out = set()
    for e in entries:
        for item in outcomes(db, str(e.log), e.seq, e.seq):
            if item.conflict:
                out.add(item.conflict)
    return out


steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("edit"),
            st.sampled_from((H, R)),
            st.sampled_from(FIELDS),
            st.sampled_from(("甲", "乙", "丙")),
            st.sampled_from((1, 2, 900)),
        ),
        st.tuples(st.just("merge")),
    ),
    min_size=2,
    max_size=14,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_every_told_item_stays_and_every_lost_edit_is_queued(plan: list[tuple]) -> None:
    v = _villages()
    try:
        db = init_merged(Database(memory=True))
        merged: set[tuple[str, int]] = set()
        told: set[str] = set()

        def merge() -> None:
            new = [e for e in v.entries() if (str(e.log), e.seq) not in merged]
            apply_entries(db, new, county=COUNTY)
            merged.update((str(e.log), e.seq) for e in new)
            told.update(_told(db, new))
            queue = {i["id"] for i in list_conflicts(db)}
            assert told <= queue  # nothing a village was told has gone
            for cid in told:
                assert show(db, cid)["id"] == cid

        for step in plan:
            if step[0] == "merge":
                merge()
            else:
                _, place, name, value, tick = step
                v.write(place, "person", RID[place], {name: f"{value}{name[:2]}"}, tick=tick)
        merge()
        edits = [(s[1], s[2]) for s in plan if s[0] == "edit"]
        once_each = {n for n in FIELDS if edits.count((H, n)) == 1 == edits.count((R, n))}
        _every_concurrent_edit_is_queued(db, v, once_each)
        once = init_merged(Database(memory=True))
        apply_entries(once, v.entries(), county=COUNTY)
        assert _queue(once) == _queue(db)  # the same queue whatever the merges were
    finally:
        v.close()


def _queue(db: Database) -> list[tuple]:
    return sorted(
        (i["id"], i["rule"], tuple(i["fields"]), i["a_origin"], i["b_origin"])
        for i in list_conflicts(db)
    )


def _every_concurrent_edit_is_queued(db: Database, v: Villages, fields: set[str]) -> None:
    """For each field that each place edited once (both changed the value the two cards
    were written with, neither seeing the other's change), if the two new values differ,
    the place whose value does not stand has an item on that field naming its log."""
    ((data,),) = db.execute("SELECT data FROM merged_records WHERE kind = 'person'").fetchall()
    standing = json.loads(data)
    items = [show(db, i["id"]) for i in list_conflicts(db)]
    for name in sorted(fields):
        values = {place: v.stores[place].record("person", RID[place])[name] for place in RID}
        if values[H] == values[R]:
            continue
        for place, value in values.items():
            if value == standing[name]:
                continue
            log = str(v.stores[place].changelog.log)
            named = [
                i
                for i in items
                for f in i["fields"]
                if f["field"] == name
                and (i["a"]["entry"].startswith(log) or i["b"]["entry"].startswith(log))
            ]
            assert named, (place, name, values, standing.get(name))


def _merged(entries: list[Entry], db: Database | None = None) -> Database:
    db = db if db is not None else init_merged(Database(memory=True))
    apply_entries(db, entries, county=COUNTY)
    return db


@pytest.mark.parametrize("order", ["hukou first", "residence first"])
def test_edits_at_both_places_are_queued_whichever_merged_first(order: str) -> None:
    """Why, bullet 5: the hukou and the residence village both edit the address (the
    residence village's authority), merged one after the other: an item, the same one
    whichever came first, and the item the first merge told of is still there."""
    v = _villages()
    try:
        db = _merged(v.entries())
        a = v.write(H, "person", RID[H], {"residence_address": "上村3号"})
        b = v.write(R, "person", RID[R], {"residence_address": "下村8号"})
        first, second = (a, b) if order == "hukou first" else (b, a)
        _merged([first], db)
        told = _told(db, [first])
        _merged([second], db)
        told |= _told(db, [a, b])
        items = [i for i in list_conflicts(db) if "residence_address" in i["fields"]]
        assert told and told <= {i["id"] for i in items}
        # the two edits, and the hukou village's edit for the residence village to review
        assert [i["rule"] for i in items] == ["authority", "authority"]
        pairs = {(show(db, i["id"])["a"]["entry"], show(db, i["id"])["b"]["entry"]) for i in items}
        assert tuple(sorted((f"{a.log}/{a.seq}", f"{b.log}/{b.seq}"))) in pairs
    finally:
        v.close()


def test_one_place_changing_a_value_both_held_is_no_conflict() -> None:
    """The hukou village changes the address both cards held; the residence village
    never touched it: the change stands or gives way, but nobody disagreed."""
    v = _villages()
    try:
        v.write(H, "person", RID[H], {"marital_status": "divorced"})
        v.write(R, "person", RID[R], {"phone": "13600000000"})
        assert list_conflicts(_merged(v.entries())) == []
    finally:
        v.close()
    v = Villages(Path(tempfile.mkdtemp(prefix="renkou-queue-")), (H, R))
    try:
        # the hukou village has not heard of the move: both cards claim the residence
        v.write(H, "person", "P1", card(IDN, "王", "1990-01-02", H, H))
        v.write(R, "person", "P9", card(IDN, "王", "1990-01-02", H, R))
        v.write(H, "person", "P1", {"residence_address": "3号"})
        queued = [
            i for i in list_conflicts(_merged(v.entries())) if "residence_address" in i["fields"]
        ]
        assert queued == []
    finally:
        v.close()
