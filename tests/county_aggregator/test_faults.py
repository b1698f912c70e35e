# SPDX-License-Identifier: Apache-2.0
"""Bad input and faults: rejected entries, a crash mid-merge, revoked certificates."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from county_aggregator import engine as engine_module
from county_aggregator import store
from county_aggregator.merge import (
    apply_entries,
    content_hash,
    merge_new,
    rebuild,
    revocation_limits,
)
from county_aggregator.store import init_merged
from node.admin import CountyAdmin
from protocol import LogId, NodeId, Suite, decode_revocations, make_entry
from protocol.entries import ZERO_HASH
from tests.county_aggregator.conftest import merge
from tests.county_aggregator.scenario import (
    COUNTY,
    T0,
    Villages,
    bad_entries,
    card,
    county_db,
    id_number,
    scenario,
)

H = "440104001002"


def fresh() -> Database:
    return init_merged(Database(memory=True))


def test_bad_entries_are_rejected_with_a_reason_and_touch_nothing(villages: Villages) -> None:
    """Entries that fail to decode, name an unknown ruleset, kind or field are kept in
    ``rejected`` and never reach a merged row (design.md: quarantine, not apply)."""
    villages.write(H, "person", "P1", card(id_number("1990-01-01", 1), "王", "1990-01-01", H, H))
    db = merge(villages)
    before = db.execute("SELECT * FROM merged_records ORDER BY kind, key").fetchall()
    apply_entries(db, bad_entries(), county=COUNTY)
    assert before == db.execute("SELECT * FROM merged_records ORDER BY kind, key").fetchall()
    codes = [r[0] for r in db.execute("SELECT code FROM rejected ORDER BY seq")]
    assert ["decode", "ruleset", "kind", "field"] == codes
    assert (
        0
        == db.execute(
            "SELECT count(*) FROM local_records WHERE origin = '440104002009'"
        ).fetchone()[0]
    )


def test_payload_not_matching_its_hash_is_rejected(fresh_db: Database) -> None:
    log = LogId(NodeId.for_code("440104002009"), 1)
    good = make_entry(Suite.CLASSIC, log, 1, ZERO_HASH, T0 << 16, 1, b'{"ops":[],"v":1}')
    row = (str(log), 1, good.hlc, 1, 0, b'{"ops":[{"op":"note"}],"v":1}', good.payload_hash)
    apply_entries(fresh_db, [row], county=COUNTY)
    assert [("hash",)] == fresh_db.execute("SELECT code FROM rejected").fetchall()


def test_erased_payload_is_neither_merged_nor_rejected(fresh_db: Database) -> None:
    log = LogId(NodeId.for_code(H), 1)
    payload = b'{"ops":[{"op":"retire","kind":"person","id":"P1","reason":"x","base":0}],"v":1}'
    entry = make_entry(Suite.CLASSIC, log, 1, ZERO_HASH, T0 << 16, 1, payload).erased()
    apply_entries(fresh_db, [entry], county=COUNTY)
    assert 0 == fresh_db.execute("SELECT count(*) FROM rejected").fetchone()[0]
    assert 0 == fresh_db.execute("SELECT count(*) FROM merged_records").fetchone()[0]
    assert [(str(log), 1)] == fresh_db.execute("SELECT * FROM merged_upto").fetchall()


@pytest.mark.parametrize("crash_after", [0, 6, 23, 71])
def test_crash_mid_merge_then_resume_equals_clean_merge(
    crash_after: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cursor advances in the chunk's transaction: resuming applies nothing twice."""
    county = county_db(tmp_path, scenario(2).entries)
    clean = fresh()
    rebuild(county.db, clean, chunk=10)

    calls = {"n": 0}
    real = engine_module.Engine._apply_entry

    def failing(self: engine_module.Engine, row: object) -> None:
        calls["n"] += 1
        if calls["n"] > crash_after:
            raise RuntimeError("power cut")
        real(self, row)  # type: ignore[arg-type]

    db = fresh()
    monkeypatch.setattr(engine_module.Engine, "_apply_entry", failing)
    with pytest.raises(RuntimeError):
        merge_new(county.db, db, chunk=10)
    monkeypatch.setattr(engine_module.Engine, "_apply_entry", real)
    merged = db.execute("SELECT coalesce(sum(seq), 0) FROM merged_upto").fetchone()[0]
    assert merged == crash_after // 10 * 10  # only whole chunks were kept
    stats = merge_new(county.db, db, chunk=10)
    assert stats.entries == len(scenario(2).entries) + 1 - merged
    assert content_hash(clean) == content_hash(db)
    assert 0 == merge_new(county.db, db).entries


def test_rebuild_cut_off_leaves_an_empty_store_and_the_next_merge_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild writes only at its end, in one transaction: cut off before, it leaves
    nothing half-merged behind, and ``merge_new`` merges everything from nothing."""
    county = county_db(tmp_path, scenario(2).entries)
    clean = fresh()
    merge_new(county.db, clean, chunk=10)
    db = fresh()
    merge_new(county.db, db)
    real = engine_module.Engine._apply_entry
    calls = {"n": 0}

    def failing(self: engine_module.Engine, row: object) -> None:
        calls["n"] += 1
        if calls["n"] > 25:
            raise RuntimeError("power cut")
        real(self, row)  # type: ignore[arg-type]

    monkeypatch.setattr(engine_module.Engine, "_apply_entry", failing)
    with pytest.raises(RuntimeError):
        rebuild(county.db, db, chunk=10)
    monkeypatch.setattr(engine_module.Engine, "_apply_entry", real)
    assert store.is_empty(db)
    assert merge_new(county.db, db).entries == len(scenario(2).entries) + 1
    assert content_hash(clean) == content_hash(db)


def test_rebuild_written_in_slices_equals_chunked_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deferred rebuild writes its rows in key-ordered slices; any slice size gives
    the bytes of a merge committed chunk by chunk."""
    county = county_db(tmp_path, scenario(3).entries)
    chunked = fresh()
    merge_new(county.db, chunked, chunk=7)
    monkeypatch.setattr(engine_module, "WRITE_BATCH", 5)
    sliced = fresh()
    rebuild(county.db, sliced, chunk=7)
    assert content_hash(chunked) == content_hash(sliced)


def test_merge_new_takes_only_what_arrived_since(villages: Villages, tmp_path: Path) -> None:
    villages.write(H, "person", "P1", card(id_number("1990-01-01", 1), "王", "1990-01-01", H, H))
    county = county_db(tmp_path, villages.entries())
    db = fresh()
    assert merge_new(county.db, db).entries == 6  # 4 villages opened, 1 card, the county
    villages.write(H, "person", "P1", {"phone": "13900000000"})
    from tests.county_aggregator.scenario import receive

    receive(county.db, villages.entries())
    assert merge_new(county.db, db).entries == 1
    whole = fresh()
    rebuild(county.db, whole)
    assert content_hash(whole) == content_hash(db)


@pytest.mark.parametrize("keep", [0, 1])
def test_merge_new_after_the_county_node_lost_entries_equals_a_rebuild(
    villages: Villages, tmp_path: Path, keep: int
) -> None:
    """Bug D: the county node restored from an older backup holds less of a log (or
    none of it) than was merged; the next merge starts over rather than keep entries
    no rebuild would see."""
    villages.write(H, "person", "P1", card(id_number("1990-01-01", 1), "王", "1990-01-01", H, H))
    villages.write(H, "person", "P1", {"phone": "13900000000"})
    county = county_db(tmp_path, villages.entries())
    db = fresh()
    assert not merge_new(county.db, db).rebuilt
    log = str(LogId(NodeId.for_code(H), 1))
    county.db.execute("DELETE FROM received_entries WHERE log = ? AND seq > ?", [log, keep])
    stats = merge_new(county.db, db)
    assert stats.rebuilt
    whole = fresh()
    rebuild(county.db, whole)
    assert content_hash(whole) == content_hash(db)
    assert db.execute("SELECT seq FROM merged_upto WHERE log = ?", [log]).fetchall() == (
        [(keep,)] if keep else []
    )
    assert not merge_new(county.db, db).rebuilt  # once caught up, merging goes on as usual


def test_revoked_node_entries_beyond_valid_through_are_rejected(
    villages: Villages, tmp_path: Path
) -> None:
    """Entries of a revoked node after ``valid_through`` are rejected and listed; a
    revocation arriving after they were merged makes the next merge rebuild."""
    for n in range(5):
        villages.write(
            H, "person", f"P{n}", card(id_number("1990-01-01", n), "王", "1990-01-01", H, H)
        )
    county = county_db(tmp_path, villages.entries())
    db = fresh()
    merge_new(county.db, db)
    assert 5 == db.execute("SELECT count(*) FROM merged_records").fetchone()[0]

    now = time.time_ns() // 1_000_000
    # The villages here have classical keys, and an administrator certifies only nodes
    # of its root's suite (node/admin.py certify).
    admin = CountyAdmin.create(tmp_path / "admin", COUNTY, now, suite=Suite.CLASSIC)
    admin.certify(villages.stores[H].data_dir, now)
    log = villages.stores[H].changelog.log
    raw = admin.revoke_node(H, "stolen", {log: 3}, now)
    crl = decode_revocations(raw, admin.issuing)
    stats = merge_new(county.db, db, revocations=crl)
    assert stats.rebuilt
    rejected = db.execute("SELECT log, seq, code FROM rejected ORDER BY seq").fetchall()
    assert [
        (str(log), 4, "revoked"),
        (str(log), 5, "revoked"),
        (str(log), 6, "revoked"),
    ] == rejected
    assert 2 == db.execute("SELECT count(*) FROM merged_records").fetchone()[0]
    again = fresh()
    rebuild(county.db, again, revocations=crl)
    assert content_hash(again) == content_hash(db)
    apply_entries(db, [], county=COUNTY)  # as resolve() does with its advisory
    assert not merge_new(county.db, db, revocations=crl).rebuilt


class _Item:
    def __init__(self, serial: int, node: str, through: dict[LogId, int]) -> None:
        self.serial, self.node, self.valid_through = serial, NodeId.parse(node), through


class _List:
    def __init__(self, *items: _Item) -> None:
        self.revoked = {i.serial: i for i in items}


def test_revocation_limits_for_logs_the_list_does_not_name() -> None:
    """A log the revocation names is cut at valid_through; another log of the node is cut
    at 0 unless the node holds a newer certificate (enrolled again since)."""
    v = f"village:{H}"
    named, later = LogId.parse(f"{v}#1"), f"{v}#2"
    crl = _List(_Item(7, v, {named: 40}))
    logs = [str(named), later, "village:440104001003#1"]
    assert {str(named): 40, later: 0} == revocation_limits(crl, [(v, 7)], logs)  # type: ignore[arg-type]
    assert {str(named): 40} == revocation_limits(crl, [(v, 7), (v, 9)], logs)  # type: ignore[arg-type]
    assert {} == revocation_limits(None, [], logs)


def test_unknown_log_id_is_rejected(fresh_db: Database) -> None:
    payload = b'{"ops":[{"op":"epoch","prev_epoch":0,"prev_seq":0,"reason":"install"}],"v":1}'
    row = ("village:12#1", 1, T0 << 16, 1, 0, payload, hashlib.sha256(payload).digest())
    apply_entries(fresh_db, [row], county=COUNTY)
    assert [("log",)] == fresh_db.execute("SELECT code FROM rejected").fetchall()
