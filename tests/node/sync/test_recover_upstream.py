# SPDX-License-Identifier: Apache-2.0
"""Issue 12 item 7 (and item 6's return half): a village gets its current cards back
from upstream, on real stores and HTTP servers on loopback (SPEC.md §8.10).

A village PC dies; a new PC enrolled for the village asks, the county makes the cards
from the entries it holds, seals them for the new PC's key alone, and they travel down
through the township, which cannot open them. The new PC writes on in a new epoch, and
the county holds every entry exactly once. A PC restored from an old backup gets the
cards of the lost period back the same way.
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
from node.identity import load_certificate
from node.recording import add_record
from node.store.acks import PeerAcks
from node.store.outbox import Outbox
from node.store.recovery import Recovery
from node.store.recovery_cards import held_heads, node_cards
from node.store.store import NodeStore
from node.sync.client import SyncClient, SyncFailed
from node.sync.parent import remember_parent_url
from node.sync.recover import ask, collect
from node.sync.recovered import take
from protocol import NodeId, ProtocolError, issue_certificate
from protocol.recovery import (
    decode_snapshot,
    is_snapshot,
    make_recovery_request,
    open_snapshot,
)
from tests.node.domain.examples import woman_card
from tests.node.sync.faults import write
from tests.node.sync.network import County, SimClock, loopback_county
from tests.node.sync.test_restore_tells import _page

V1, V2, T = "440104001002", "440104001003", "440104001"
TODAY = date(2026, 11, 28)


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {T: [V1, V2]}, clock=SimClock()) as c:
        yield c


def _sync(county: County, store: NodeStore) -> None:
    SyncClient(store, county.towns[T].url, now_ms=county.clock).sync_round()
    county.client(T).sync_round()


def _woman(store: NodeStore, born: date, name: str) -> str:
    return add_record(store, "person", woman_card(born, name=name, spouse_ref=None), today=TODAY)


def _cards(store: NodeStore) -> list[tuple[Any, ...]]:
    """Every card as the officer sees it (versions aside: the recovered ones name
    their log)."""
    rows = store.db.execute("SELECT kind, id, data, retired FROM records ORDER BY kind, id")
    return [(k, i, json.loads(d), r) for k, i, d, r in rows]


def _new_pc(county: County, code: str, where: Path) -> NodeStore:
    """A replacement PC for ``code``: keys of its own, enrolled for the same code."""
    store = NodeStore.init(where, NodeId.for_code(code), f"村{code}", clock=county.clock,
                           suite=county.county.store.identity.suite)  # fmt: skip
    cert = county.admin.certify(store.data_dir, county.clock())  # type: ignore[misc]
    town, seat = (load_certificate(s.data_dir, "node.cert")
                  for s in (county.towns[T].store, county.county.store))  # fmt: skip
    assert town is not None and seat is not None
    county.admin.enrol(store.data_dir, cert, town, seat)
    return store


def _recover(county: County, store: NodeStore) -> Any:
    client = SyncClient(store, county.towns[T].url, now_ms=county.clock)
    ask(client)
    county.client(T).sync_round()  # hands the request up, passes the snapshot down
    return collect(client)


def _snapshots_for(town: NodeStore, code: str) -> list[bytes]:
    items = Outbox(town.db).page(f"village:{code}", 0, 64, 1 << 30)
    return [item.raw for item in items if is_snapshot(item.raw)]


def _merged_people(county: County) -> list[str]:
    merged = init_merged(Database(memory=True))
    merge_new(county.county.store.db, merged)
    rows = merged.execute("SELECT data FROM merged_records WHERE kind = 'person'")
    return sorted(json.loads(d)["name"] for (d,) in rows)


def _merged_conflicts(county: County) -> int:
    merged = init_merged(Database(memory=True))
    merge_new(county.county.store.db, merged)
    return int(merged.execute("SELECT COUNT(*) FROM conflicts").fetchone()[0])


def _entries_of(county: County, code: str) -> list[tuple[str, int]]:
    rows = county.county.store.db.execute(
        "SELECT log, seq FROM received_entries WHERE log LIKE ? ORDER BY log, seq",
        [f"village:{code}#%"],
    )
    return [(str(log), int(seq)) for log, seq in rows]


def test_a_new_pc_gets_the_dead_pcs_cards_writes_on_and_the_county_counts_once(
    county: County, tmp_path: Path
) -> None:
    dead = county.villages[V1]
    for i, name in enumerate(["甲", "乙", "丙"]):
        _woman(dead, date(1985 + i, 2, 3), name)
    write(dead, 4, tag="旧")
    _sync(county, dead)
    before = _cards(dead)
    dead.close()  # the PC dies

    new = _new_pc(county, V1, tmp_path / "new-pc")
    try:
        event = _recover(county, new)
        assert event is not None and event.records == len(before) and event.epoch == 2
        assert event.dropped_install
        assert _cards(new) == before
        seat = county.county.store
        heads = held_heads(seat.db, NodeId.for_code(V1))
        county_cards = node_cards(seat.db, NodeId.for_code(V1), heads, seat.identity.suite)
        assert [(c.kind, c.id, c.data, c.retired) for c in county_cards] == before
        assert new.rebuild_hash() == new.records_hash()
        audit = seat.db.execute(
            "SELECT actor, action, record_id, purpose FROM audit WHERE action = ?",
            ["recovery_snapshot"],
        ).fetchall()
        assert len(audit) == 1 and audit[0][2] == f"village:{V1}"
        assert f"{len(before)} cards" in audit[0][3]

        held_before = _entries_of(county, V1)
        mine = _woman(new, date(1993, 1, 1), "丁")
        assert mine.endswith(".2")  # an id no earlier epoch can have used
        (jia,) = [rid for rid, d in new.records("person") if d["name"] == "甲"]
        edit = new.upsert_op("person", jia, {"name": "甲改"})  # based on the recovered version
        assert edit.fields["name"][1] == json.loads(
            new.db.execute("SELECT versions FROM records WHERE id = ?", [jia]).fetchone()[0]
        )["name"] and str(edit.fields["name"][1]).startswith(f"village:{V1}#1/")
        new.write([edit])
        _sync(county, new)
        held = _entries_of(county, V1)
        assert held[: len(held_before)] == held_before
        assert [s for log, s in held if log.endswith("#2")] == [1, 2, 3]  # start, 丁, 甲改
        assert len(held) == len(set(held))
        people = _merged_people(county)
        assert sorted(people) == ["丁", "丙", "乙", "甲改"]  # (write()'s bare cards do not merge)
        assert _merged_conflicts(county) == 0  # the edit names the version it saw
        client = SyncClient(new, county.towns[T].url, now_ms=county.clock)
        client.sync_round()
        assert client.sync_round().idle
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


def test_a_pc_of_another_village_cannot_get_the_snapshot(county: County, tmp_path: Path) -> None:
    dead = county.villages[V1]
    write(dead, 3)
    _sync(county, dead)
    new = _new_pc(county, V1, tmp_path / "new-pc")
    other = county.villages[V2]
    try:
        v1 = SyncClient(new, county.towns[T].url, now_ms=county.clock)
        ask(v1)  # V1's genuine request, seen on the wire
        raw = Recovery(new.db).pending()
        assert raw is not None
        v2 = SyncClient(other, county.towns[T].url, now_ms=county.clock)
        with pytest.raises(SyncFailed) as refused:
            v2.link.call("POST", "/sync/v1/recovery", raw)
        assert refused.value.code == "recovery.wrong_node" and refused.value.status == 403
        v1_cert = load_certificate(new.data_dir, "node.cert")
        assert v1_cert is not None
        signed_by_v2 = make_recovery_request(other.identity.signing, v1_cert.node, v1_cert.serial,
                                             v1_cert.raw, county.clock(), bytes(16))  # fmt: skip
        with pytest.raises(SyncFailed) as unsigned:
            v2.link.call("POST", "/sync/v1/recovery", signed_by_v2)
        assert unsigned.value.code == "bad_signature"
        forged = issue_certificate(
            other.identity.signing, v1_cert.issuer, serial=v1_cert.serial + 1000,
            node=v1_cert.node, verify_key=other.identity.signing.verify_key,
            kem_key=other.identity.kem.public_key, not_before=v1_cert.not_before,
            not_after=v1_cert.not_after,
        )  # fmt: skip
        self_made = make_recovery_request(other.identity.signing, v1_cert.node,
                                          v1_cert.serial + 1000, forged, county.clock(),
                                          bytes(16))  # fmt: skip
        with pytest.raises(SyncFailed) as unvouched:
            v2.link.call("POST", "/sync/v1/recovery", self_made)
        assert unvouched.value.code in ("bad_signature", "bad_certificate")
        county.client(T).sync_round()
        mine = new.identity.kem.public_key.key_id  # only the genuine request was answered
        sent = _snapshots_for(county.towns[T].store, V1)
        assert [decode_snapshot(raw).header.kem_key for raw in sent] == [mine]
        assert not _snapshots_for(county.towns[T].store, V2)
        done = CliRunner().invoke(cli, ["node", "recover", "--code", V1, "--parent-url",
                                        county.towns[T].url, "--wait", "0",
                                        "--data-dir", str(other.data_dir)])  # fmt: skip
        assert done.exit_code == 1 and "recovery.wrong_node" in done.output
        assert "不是 " + V1 in done.output
    finally:
        new.close()


def test_the_township_passes_the_snapshot_on_but_cannot_open_it(
    county: County, tmp_path: Path
) -> None:
    dead = county.villages[V1]
    write(dead, 3)
    _sync(county, dead)
    dead.close()
    new = _new_pc(county, V1, tmp_path / "new-pc")
    town = county.towns[T].store
    try:
        ask(SyncClient(new, county.towns[T].url, now_ms=county.clock))
        county.client(T).sync_round()
        (snap_raw,) = _snapshots_for(town, V1)
        snap = decode_snapshot(snap_raw)
        with pytest.raises(ProtocolError) as shut:
            open_snapshot(snap, town.identity.kem)
        assert shut.value.code == "no_recipient"
        assert len(open_snapshot(snap, new.identity.kem)) == snap.header.records
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


def test_a_tampered_or_replayed_snapshot_is_refused(county: County, tmp_path: Path) -> None:
    dead = county.villages[V1]
    write(dead, 3)
    _sync(county, dead)
    dead.close()
    new = _new_pc(county, V1, tmp_path / "new-pc")
    town = county.towns[T].store
    seat = load_certificate(new.data_dir, "county.cert")
    assert seat is not None
    try:
        ask(SyncClient(new, county.towns[T].url, now_ms=county.clock))
        county.client(T).sync_round()
        (snap_raw,) = _snapshots_for(town, V1)
        client = SyncClient(new, county.towns[T].url, now_ms=county.clock)
        ask(client, again=True)  # a newer request waits: the older answer is no longer taken
        assert "answers no request" in take(new, snap_raw, seat)
        assert new.counts() == {}
        county.client(T).sync_round()
        (snap_raw,) = _snapshots_for(town, V1)[1:]
        tampered = bytearray(snap_raw)
        tampered[len(tampered) // 2] ^= 1
        with pytest.raises(ProtocolError) as refused:
            take(new, bytes(tampered), seat)
        assert refused.value.code == "bad_signature"
        assert new.counts() == {} and Recovery(new.db).pending() is not None
        assert "recovered" in take(new, snap_raw, seat)
        after = new.records_hash()
        assert "answers no request" in take(new, snap_raw, seat)  # replayed: nothing rolls back
        assert new.records_hash() == after
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


def test_after_a_restore_from_an_old_backup_the_lost_cards_come_back(
    county: County, tmp_path: Path
) -> None:
    village = county.villages[V1]
    data_dir = str(village.data_dir)
    _woman(village, date(1985, 2, 3), "甲")
    _sync(county, village)
    run = CliRunner()
    assert run.invoke(cli, ["node", "backup", "--to", str(tmp_path / "old.db"),
                            "--data-dir", data_dir]).exit_code == 0  # fmt: skip
    _woman(village, date(1990, 5, 17), "乙")  # the lost period's card, sent upstream
    _sync(county, village)
    village.close()
    done = run.invoke(cli, ["node", "restore", "--from", str(tmp_path / "old.db"), "--yes",
                            "--data-dir", data_dir])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert f"先同步，再运行 renkou node recover --code {V1}" in done.output
    restored = NodeStore.open(village.data_dir, clock=county.clock)
    county.villages[V1] = restored
    assert sorted(d["name"] for _i, d in restored.records("person")) == ["甲"]
    _sync(county, restored)  # the restore's new epoch reaches the county first
    event = _recover(county, restored)
    assert event is not None and not event.dropped_install
    assert sorted(d["name"] for _i, d in restored.records("person")) == ["乙", "甲"]
    assert restored.rebuild_hash() == restored.records_hash()
    told = run.invoke(cli, ["node", "status", "--data-dir", data_dir]).output
    assert "已从上级（county:440104）取回 2 张卡片" in told, told
    assert "取回 2 张卡片" in _page(restored)  # the sync status page says it too
    _woman(restored, date(1995, 3, 3), "丙")
    _sync(county, restored)
    assert _merged_people(county) == ["丙", "乙", "甲"]


def test_renkou_node_recover_asks_then_takes_the_cards(county: County, tmp_path: Path) -> None:
    """The command an officer runs: it asks, says the cards have not come while the
    township has not synced, and takes them at the next run; status says so."""
    dead = county.villages[V1]
    _woman(dead, date(1985, 2, 3), "甲")
    _sync(county, dead)
    dead.close()
    new = _new_pc(county, V1, tmp_path / "new-pc")
    new.close()
    remember_parent_url(new.data_dir, county.towns[T].url)  # as enroll --via keeps it
    args = ["node", "recover", "--code", V1, "--wait", "0", "--data-dir", str(new.data_dir)]
    try:
        first = CliRunner().invoke(cli, args)
        assert first.exit_code == 0, first.output
        assert f"已向县里申请取回 village:{V1} 的卡片" in first.output
        assert "卡片尚未送达" in first.output
        county.client(T).sync_round()
        second = CliRunner().invoke(cli, args)
        assert second.exit_code == 0, second.output
        assert "已从县里取回 1 张卡片；此后在日志周期 2 中继续记录" in second.output
        told = CliRunner().invoke(cli, ["node", "status", "--data-dir", str(new.data_dir)])
        assert "取回 1 张卡片" in told.output and "尚未送达" not in told.output
    finally:
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


def test_a_pc_that_wrote_after_asking_keeps_its_cards_and_takes_the_next_answer(
    county: County,
) -> None:
    """A snapshot that does not cover what the PC holds (it wrote after asking) would
    lose that card: it is not taken, the request still waits, and the answer the PC
    gets after a sync is taken with nothing lost."""
    village = county.villages[V1]
    _woman(village, date(1985, 2, 3), "甲")
    _sync(county, village)
    client = SyncClient(village, county.towns[T].url, now_ms=county.clock)
    ask(client)
    _woman(village, date(1990, 5, 17), "乙")  # written after asking, not sent yet
    county.client(T).sync_round()
    assert collect(client) is None
    assert sorted(d["name"] for _i, d in village.records("person")) == ["乙", "甲"]
    assert Recovery(village.db).pending() is not None
    _sync(county, village)
    ask(client)  # the same request again: the county answers it anew
    county.client(T).sync_round()
    event = collect(client)
    assert event is not None and event.epoch == 2
    assert sorted(d["name"] for _i, d in village.records("person")) == ["乙", "甲"]
    assert village.rebuild_hash() == village.records_hash()


def test_a_township_pc_recovers_straight_from_the_county(county: County, tmp_path: Path) -> None:
    """A township's own cards come back the same way, answered by the county at once."""
    town = county.towns[T].store
    write(town, 3, tag="镇")
    county.client(T).sync_round()
    before = _cards(town)
    new = NodeStore.init(tmp_path / "new-town", NodeId.for_code(T), "镇", clock=county.clock,
                         suite=town.identity.suite)  # fmt: skip
    try:
        cert = county.admin.certify(new.data_dir, county.clock())  # type: ignore[misc]
        seat = load_certificate(county.county.store.data_dir, "node.cert")
        assert seat is not None
        county.admin.enrol(new.data_dir, cert, seat, seat)
        client = SyncClient(new, county.county.url, now_ms=county.clock)
        ask(client)
        event = collect(client)
        assert event is not None and event.epoch == 2 and _cards(new) == before
    finally:
        new.close()


def test_a_new_pc_that_syncs_before_recovering_is_told_to_recover_and_then_is_not(
    county: County, tmp_path: Path
) -> None:
    """A replacement PC synced before `node recover` was told it was a clone (fork) or a
    restored copy (`new-epoch`), and the refusal stayed in its status after the recovery
    mended it. It is told to recover, pushes nothing, and the recovery settles it."""
    dead = county.villages[V1]
    _woman(dead, date(1985, 2, 3), "甲")
    write(dead, 2, tag="旧")
    _sync(county, dead)
    dead.close()
    new = _new_pc(county, V1, tmp_path / "new-pc")
    new.close()
    remember_parent_url(new.data_dir, county.towns[T].url)
    data_dir = ["--data-dir", str(new.data_dir)]
    try:
        synced = CliRunner().invoke(cli, ["node", "sync", *data_dir])
        assert "renkou node recover" in synced.output, synced.output
        assert "克隆" not in synced.output and "new-epoch" not in synced.output
        told = CliRunner().invoke(cli, ["node", "status", *data_dir])
        assert "behind_parent" in told.output and "renkou node recover" in told.output
        town = county.towns[T].store
        assert town.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0  # no fork
        args = ["node", "recover", "--code", V1, "--wait", "0", *data_dir]
        assert CliRunner().invoke(cli, args).exit_code == 0
        county.client(T).sync_round()
        took = CliRunner().invoke(cli, args)
        assert "已从县里取回 3 张卡片" in took.output, took.output
        after = CliRunner().invoke(cli, ["node", "status", *data_dir])
        assert "behind_parent" not in after.output and "ALERT" not in after.output, after.output
    finally:
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


def test_retiring_a_recovered_card_names_the_version_it_saw(county: County, tmp_path: Path) -> None:
    """After ``renkou node recover`` a retirement's base, like an edit's, is the card's
    last version in the log that wrote it ("<log>/<seq>"): here the dead PC last edited
    the card in its second epoch, so a base naming epoch 1 (or a bare seq of the new
    PC's own log) would be another entry; and its clock comes after the recovered
    versions', so the county does not take the dead PC's edit for a later one. The
    county merges the retirement cleanly."""
    from node.store.carry import start_epoch_carrying

    dead = county.villages[V1]
    wu = _woman(dead, date(1986, 4, 5), "戊")
    _sync(county, dead)
    start_epoch_carrying(dead, "restore", 1)  # the dead PC's epoch 2
    dead.write([dead.upsert_op("person", wu, {"name": "戊改"})])
    last = dead.changelog.head_seq
    _sync(county, dead)
    dead.close()
    new = _new_pc(county, V1, tmp_path / "new-pc")
    try:
        assert _recover(county, new) is not None
        retire = new.retire_op("person", wu, "duplicate")
        assert retire.base == f"village:{V1}#2/{last}", retire
        new.write([retire])
        _sync(county, new)
        merged = init_merged(Database(memory=True))
        merge_new(county.county.store.db, merged)
        retired = merged.execute(
            "SELECT retired FROM merged_records WHERE kind = 'person'"
        ).fetchall()
        assert [r for (r,) in retired] == ["duplicate"], retired
        assert _merged_conflicts(county) == 0
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


@pytest.mark.parametrize("typed", [1, 6])  # fewer entries than the dead PC's log, and more
def test_cards_typed_on_a_new_pc_before_recovering_are_kept_under_new_ids(
    county: County, tmp_path: Path, typed: int
) -> None:
    """Found by review: an officer typed a card on the replacement PC before running
    `node recover`; the snapshot replaced the records and the card was gone, with no
    word. Its log is another history of the dead PC's log (same log id, other entries),
    so what it typed is written again in the new epoch under new ids, never onto the
    county's card that has the same id, and reaches the county."""
    dead = county.villages[V1]
    _woman(dead, date(1985, 2, 3), "甲")
    write(dead, 3, tag="旧")
    _sync(county, dead)
    before = _cards(dead)
    dead.close()
    new = _new_pc(county, V1, tmp_path / "new-pc")
    try:
        typed_names = [f"新{i}" for i in range(typed)]
        for i, name in enumerate(typed_names):
            _woman(new, date(1990 + i, 4, 5), name)
        with pytest.raises(SyncFailed):  # syncing first: refused, and told to recover
            SyncClient(new, county.towns[T].url, now_ms=county.clock).sync_round()
        told = [r.reason for r in PeerAcks(new.db).rejections()]
        if typed == 1:  # behind the parent (with more, the parent's own fork refusal stands)
            assert told and all("renkou node recover" in reason for reason in told), told
        event = _recover(county, new)
        assert event is not None and event.rewritten == typed and not event.dropped_install
        names = sorted(d["name"] for _rid, d in new.records("person"))
        assert names == sorted([c[2]["name"] for c in before if c[0] == "person"] + typed_names)
        assert [c for c in _cards(new) if c[1] in {c2[1] for c2 in before}] == before
        assert all(
            rid.endswith(".2") for rid, d in new.records("person") if d["name"] in typed_names
        )
        assert new.rebuild_hash() == new.records_hash()
        _sync(county, new)
        assert sorted(_merged_people(county)) == sorted(["甲", *typed_names])  # (bare cards apart)
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


def test_a_new_pc_that_typed_past_the_countys_head_goes_idle_after_recovering(
    county: County, tmp_path: Path
) -> None:
    """Found by the simulation (seeds 5001, 5008, 5010: bug I): the officer typed more
    changes on the replacement PC than the county holds of the dead PC's log. They were
    written again in the new epoch, but the PC kept its own history of the old log as
    a closed epoch cut at the county's head seq, with its own hash there, not the
    county's: its state digest never matched its township's, so it was never idle.
    The entries written again are dropped from the old log; what the PC reports of it
    is then the county's head."""
    dead = county.villages[V1]
    _woman(dead, date(1985, 2, 3), "甲")
    _sync(county, dead)  # the county holds entries 1..2 of the dead PC's log
    dead.close()
    new = _new_pc(county, V1, tmp_path / "new-pc")
    try:
        for i in range(3):  # 1..4 of its own history of that log
            _woman(new, date(1990 + i, 4, 5), f"新{i}")
        event = _recover(county, new)
        assert event is not None and event.rewritten == 3
        assert new.changelog.log.epoch == 2 and new.changelog.closed_heads() == {}
        _sync(county, new)
        _sync(county, new)  # the county's acknowledgements come down
        report = SyncClient(new, county.towns[T].url, now_ms=county.clock).sync_round()
        assert report.idle, report
        assert sorted(_merged_people(county)) == sorted(["甲", "新0", "新1", "新2"])
        assert [s for log, s in _entries_of(county, V1) if log.endswith("#1")] == [1, 2]
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)


def test_an_officer_whose_county_holds_nothing_of_the_village_is_told_so(
    county: County, tmp_path: Path
) -> None:
    """Found by the simulation (seed 5221): the county, put back from an old backup,
    held nothing of a village whose PC died. The township handed the new PC's request
    up, the county refused it (`recovery.nothing_held`) and the township dropped it:
    the officer's `renkou node recover` said "not come yet" for ever, and the cards
    typed on the new PC never went up. The township now keeps the refusal and answers
    the officer's next asking with it; the request waits no more, and a sync sends
    what the PC holds."""
    dead = county.villages[V1]
    dead.close()  # died before anything of it reached the county
    new = _new_pc(county, V1, tmp_path / "new-pc")
    _woman(new, date(1990, 4, 5), "新")
    new.close()
    remember_parent_url(new.data_dir, county.towns[T].url)
    args = ["node", "recover", "--code", V1, "--wait", "0", "--data-dir", str(new.data_dir)]
    try:
        first = CliRunner().invoke(cli, args)
        assert first.exit_code == 0 and "卡片尚未送达" in first.output, first.output
        county.client(T).sync_round()  # the county refuses: it holds nothing of V1
        second = CliRunner().invoke(cli, args)
        assert second.exit_code != 0, second.output
        assert f"县里没有 village:{V1} 的任何记录，无可取回" in second.output, second.output
        assert "renkou node sync" in second.output
        new = NodeStore.open(new.data_dir, clock=county.clock)
        assert Recovery(new.db).pending() is None
        _sync(county, new)
        assert _merged_people(county) == ["新"]
        third = CliRunner().invoke(cli, args)  # asked again: up once more, not stuck
        assert third.exit_code == 0 and "卡片尚未送达" in third.output, third.output
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(dead.data_dir, clock=county.clock)
