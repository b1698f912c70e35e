# SPDX-License-Identifier: Apache-2.0
"""Issue 12: after ``renkou node new-epoch`` an edit of a card recorded in the old epoch
names the version it was written on top of as ``"<old log>/<seq>"`` (SPEC §10.3), on
real stores and servers on loopback.

The records table used to keep a bare seq per field, and a bare seq in a base names an
entry of the log being written: the first edit in epoch 2 of a card from epoch 1 told
the county it was written on top of entry 2 of epoch 2 (the epoch's own first entries,
or nothing), so the county's picture of who saw what was wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from county_aggregator.merge import merge_new
from county_aggregator.store import init_merged
from deploy.cli import cli
from node.editing import close_record, correct_record
from node.recording import add_record
from node.store.schema import m014_versions_name_their_epoch
from node.store.store import NodeStore
from node.sync.client import SyncClient
from protocol import Retire, Upsert, decode_payload
from tests.node.domain.examples import woman_card
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


def _woman(store: NodeStore) -> str:
    card = woman_card(date(1990, 5, 17), name="甲", spouse_ref=None)
    return add_record(store, "person", card, today=TODAY)


def _new_epoch(county: County) -> NodeStore:
    village = county.villages[V1]
    village.close()
    done = CliRunner().invoke(
        cli, ["node", "new-epoch", "--reason", "restore", "--yes", "--data-dir",
              str(village.data_dir)]
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    store = county.villages[V1] = NodeStore.open(village.data_dir, clock=county.clock)
    assert store.changelog.log.epoch == 2
    return store


def _ops(store: NodeStore) -> list[Upsert | Retire]:
    entry = next(store.entries(store.changelog.head_seq, store.changelog.head_seq))
    assert entry.payload is not None
    return [op for op in decode_payload(entry.payload) if isinstance(op, Upsert | Retire)]


def test_an_edit_after_new_epoch_names_the_old_epochs_entry(county: County) -> None:
    village = county.villages[V1]
    rid = _woman(village)
    recorded = village.changelog.head_seq
    correct_record(village, "person", rid, {"phone": "13600000000"}, today=TODAY)
    phoned = village.changelog.head_seq
    assert phoned == recorded + 1
    _sync(county, village)
    old = f"village:{V1}#1"

    store = _new_epoch(county)
    correct_record(store, "person", rid, {"name": "乙", "phone": "13900000000"}, today=TODAY)
    (edit,) = _ops(store)
    assert isinstance(edit, Upsert)
    assert edit.fields["name"] == ("乙", f"{old}/{recorded}")
    assert edit.fields["phone"] == ("13900000000", f"{old}/{phoned}")
    edited = store.changelog.head_seq
    correct_record(store, "person", rid, {"phone": "13700000000"}, today=TODAY)
    (again,) = _ops(store)
    assert isinstance(again, Upsert)
    assert again.fields["phone"] == ("13700000000", edited)  # within the new log: its seq
    close_record(store, "person", rid, "died")
    (closed,) = _ops(store)
    assert isinstance(closed, Retire) and closed.base == store.changelog.head_seq - 1
    assert store.records_hash() == store.rebuild_hash()
    _sync(county, store)

    # The county reads the bases as the entries they name, and each is one it holds.
    merged = init_merged(Database(memory=True))
    merge_new(county.county.store.db, merged)
    bases = {
        (field, log.rpartition("#")[2], seq): base
        for field, log, seq, base in merged.execute(
            "SELECT field, log, seq, base FROM versions WHERE record = ?", [rid]
        )
    }
    assert bases[("name", "2", edited)] == f"{old}/{recorded}"
    assert bases[("phone", "2", edited)] == f"{old}/{phoned}"
    assert bases[("phone", "2", edited + 1)] == f"village:{V1}#2/{edited}"
    held = county.county.store.db.execute(
        "SELECT COUNT(*) FROM received_entries WHERE log = ? AND seq IN (?, ?)",
        [old, recorded, phoned],
    )
    assert held.fetchone()[0] == 2
    assert merged.execute("SELECT COUNT(*) FROM conflicts").fetchone()[0] == 0
    (data,) = [json.loads(d) for (d,) in merged.execute("SELECT data FROM merged_records")]
    assert data["name"] == "乙" and data["phone"] == "13700000000"


def test_a_store_past_epoch_1_is_replayed_when_it_upgrades(county: County) -> None:
    """A store that left epoch 1 under the earlier release holds bare seqs of two logs
    side by side; the migration replays its records from the log, so the next edit
    names the right entries."""
    village = county.villages[V1]
    rid = _woman(village)
    recorded = village.changelog.head_seq
    _sync(county, village)
    store = _new_epoch(county)
    correct_record(store, "person", rid, {"name": "乙"}, today=TODAY)
    edited = store.changelog.head_seq
    # As the earlier release left it: bare seqs of both logs, no epoch of the last change.
    db = store.db
    (held,) = db.execute("SELECT versions FROM records WHERE id = ?", [rid]).fetchone()
    bare = {k: int(str(v).rpartition(":")[2]) for k, v in json.loads(held).items()}
    assert bare["name"] == edited and bare["birth_date"] == recorded
    db.execute("UPDATE records SET versions = ? WHERE id = ?", [json.dumps(bare), rid])
    db.execute("ALTER TABLE records DROP COLUMN updated_epoch")
    with db.atomic():
        m014_versions_name_their_epoch(db)
    assert store.records_hash() == store.rebuild_hash()
    op = store.upsert_op("person", rid, {"name": "丙", "birth_date": "1990-05-18"})
    assert op.fields["name"] == ("丙", edited)
    assert op.fields["birth_date"] == ("1990-05-18", f"village:{V1}#1/{recorded}")
    assert store.retire_op("person", rid, "died").base == edited


def test_a_store_that_never_left_epoch_1_keeps_its_rows(county: County) -> None:
    village = county.villages[V1]
    rid = _woman(village)
    before = village.db.execute("SELECT versions FROM records WHERE id = ?", [rid]).fetchone()
    assert set(json.loads(before[0]).values()) == {village.changelog.head_seq}
    assert village.upsert_op("person", rid, {"name": "乙"}).fields["name"][1] == 2
