# SPDX-License-Identifier: Apache-2.0
"""Recovery after restores and lost answers, found by the simulation (tests/sim), here
on real servers on loopback.

* the county takes a batch that overlaps its head when the entries it holds match
  (SPEC.md §9.2): a relay restored from a backup cannot re-split a signed batch;
* a duplicated request answered "401 replay" is sent again, not a failed round;
* a forward the county committed but whose answer the township lost still brings the
  county's acknowledgement down to the village;
* a village whose township numbered its outbox afresh (restored from a backup) reads
  it again from the start;
* the server keeps stores open between requests, but not across a replaced node.db.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlcipher3.dbapi2 as sqlcipher

from node.server import context
from node.store.database import DB_NAME, connect
from node.store.holdings import Holdings
from node.store.outbox import Inbox
from node.store.store import NodeStore
from node.sync import client as client_module
from node.sync.client import SyncClient
from node.sync.receive import _beyond_held
from node.sync.revoked import remember_revoked, revoked_wanted
from protocol import ForkError, Frontier, Head, decode_ack, decode_revocations
from tests.node.sync.faults import (
    Hooked,
    address_as,
    authed_headers,
    count,
    no_sleep,
    sealed_batch,
    write,
)
from tests.node.sync.network import County, SimClock, loopback_county, serve

V1, T, C = "440104001002", "440104001", "440104"
ENVELOPES = "/sync/v1/envelopes"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V1]}, clock=SimClock()) as c:
        yield c


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_BATCH_ENTRIES", 10)


def _post(c: SyncClient, body: bytes) -> requests.Response:
    headers = authed_headers(c, "POST", ENVELOPES, body)
    return requests.post(c.link.url + ENVELOPES, data=body, headers=headers, timeout=30)


def _copy(store: NodeStore, dest: Path) -> Path:
    """A backup of a node's data dir: its keys, and its database as SQLite copies it."""
    shutil.copytree(store.data_dir, dest, ignore=shutil.ignore_patterns(DB_NAME + "*"))
    target = connect(dest / DB_NAME, store.identity.db_key)  # encrypted, as node.db
    store.db.conn.backup(target)
    target.close()
    return dest


def _county_ack(county: County) -> int | None:
    row = (
        county.villages[V1]
        .db.execute("SELECT seq FROM peer_acks WHERE peer = ?", [f"county:{C}"])
        .fetchone()
    )
    return None if row is None else int(row[0])


def test_the_county_takes_an_overlap_whose_held_part_matches(county: County) -> None:
    village = county.villages[V1]
    write(village, 24)  # 25 entries
    vc = county.client(V1, sleep=no_sleep)
    vc.sync_round()  # the township knows the village's certificate now
    tc = county.client(T, sleep=no_sleep)
    tc.link.call("POST", "/sync/v1/certs", vc.link.own_cert.raw)  # as relay.py would

    def relayed(first: int, last: int) -> bytes:
        return address_as(tc, sealed_batch(vc, first, last)[0])

    assert _post(tc, relayed(1, 10)).status_code == 200
    resp = _post(tc, relayed(5, 15))  # a restored relay's other batch boundaries
    assert resp.status_code == 200, resp.text
    ack = decode_ack(resp.content, tc.round.county.verify_key)
    assert (ack.seq, ack.head) == (15, next(village.entries(15, 15)).hash)
    again = _post(tc, relayed(5, 15))  # the same envelope again: a duplicate
    assert again.status_code == 200
    db = county.county.store.db
    seqs = [s for (s,) in db.execute("SELECT seq FROM received_entries ORDER BY seq")]
    assert seqs == list(range(1, 16))


def test_an_overlap_that_differs_from_what_the_county_holds_is_a_fork(county: County) -> None:
    """The entries are hash-chained: any held entry that differs proves a fork."""
    village = county.villages[V1]
    write(village, 9)
    entries = list(village.entries(1, 10))
    db = county.county.store.db
    Holdings(db).store_entries(entries[:6])
    log, head = village.changelog.log, Head(6, entries[5].hash)
    assert _beyond_held(Holdings(db), log, entries[3:], head) == entries[6:]
    for seq in (4, 6):  # a held entry, and the head itself
        other = [dataclasses.replace(e, hlc=e.hlc + 1) if e.seq == seq else e for e in entries]
        with pytest.raises(ForkError):
            _beyond_held(Holdings(db), log, other[3:], head)


def test_received_entries_keep_the_hashes_of_their_chain(county: County) -> None:
    """store_entries takes each hash from the next entry's prev_hash: it must hold the
    same hashes as hashing every header, and refuse anything but one consecutive run."""
    village = county.villages[V1]
    write(village, 5)
    entries = list(village.entries(1, 6))
    db = county.county.store.db
    for wrong in ([entries[0], entries[2]], [entries[0], entries[0], entries[2]]):
        with pytest.raises(ValueError):
            Holdings(db).store_entries(wrong)
    Holdings(db).store_entries(entries)
    held = [bytes(h) for (h,) in db.execute("SELECT entry_hash FROM received_entries ORDER BY seq")]
    assert held == [e.hash for e in entries]


class _Duplicating(requests.Session):
    """Delivers the first request to ``path`` twice; the caller sees the second answer
    (a 401 replay), as when a link repeats a request."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path, self.statuses = path, []  # type: ignore[var-annotated]

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        resp = super().request(method, url, *args, **kwargs)
        if self.path and url.split("?")[0].endswith(self.path):
            self.path = ""
            resp = super().request(method, url, *args, **kwargs)
        self.statuses.append(resp.status_code)
        return resp


@pytest.mark.parametrize("path", ["/sync/v1/session", "/sync/v1/state", ENVELOPES])
def test_a_duplicated_request_answered_replay_is_sent_again(county: County, path: str) -> None:
    write(county.villages[V1], 3)
    http = _Duplicating(path)
    report = county.client(V1, sleep=no_sleep, http=http).sync_round()
    assert report.pushed_entries == 4
    assert 401 in http.statuses
    assert count(county.towns[T].store, "inbound") == 1


def test_a_forward_whose_answer_was_lost_still_brings_the_county_ack_down(
    county: County,
) -> None:
    write(county.villages[V1], 3)
    county.client(V1, sleep=no_sleep).sync_round()
    forwards: list[int] = []

    class Interrupted(Exception):
        pass

    def lose_the_forward_answer(resp: requests.Response, n: int) -> None:
        if resp.url.endswith(ENVELOPES) and resp.status_code == 200:
            forwards.append(n)
            if len(forwards) == 2:  # its own log, then the village's batch
                raise Interrupted

    with pytest.raises(Interrupted):
        county.client(T, sleep=no_sleep, http=Hooked(after=lose_the_forward_answer)).sync_round()
    assert count(county.county.store, "received_entries", "log LIKE ?", [f"%:{V1}#%"]) == 4
    report = county.client(T, sleep=no_sleep).sync_round()  # the county's head covers it
    assert report.forwarded_envelopes == 1  # sent again for the acknowledgement
    county.client(V1, sleep=no_sleep).sync_round()
    assert _county_ack(county) == 4
    assert county.client(T, sleep=no_sleep).sync_round().idle
    assert county.client(V1, sleep=no_sleep).sync_round().idle


def test_a_village_reads_a_renumbered_outbox_again(county: County, tmp_path: Path) -> None:
    """The township comes back from a backup older than the acks the village read: its
    outbox is shorter than the village's cursor. The village starts again from 1."""
    backup = _copy(county.towns[T].store, tmp_path / "town-backup")
    for _ in range(3):
        write(county.villages[V1], 1)
        county.client(V1, sleep=no_sleep).sync_round()
        county.client(T, sleep=no_sleep).sync_round()
        county.client(V1, sleep=no_sleep).sync_round()
    vc = county.client(V1, sleep=no_sleep)
    assert Inbox(vc.store.db).cursor(f"township:{T}") == 3 and _county_ack(county) == 4
    port = int(county.towns[T].url.rsplit(":", 1)[1])
    county.towns[T].stop()
    restored = NodeStore.open(backup, clock=county.clock)
    county.towns[T] = serve(restored, clock=county.clock, port=port)
    try:
        write(county.villages[V1], 1)
        report = vc.sync_round()
        assert any("renumbered" in note for note in report.notes), report
        assert Inbox(vc.store.db).cursor(f"township:{T}") == 0
        county.client(T, sleep=no_sleep).sync_round()  # 1..5 again: one ack, item 1
        county.client(V1, sleep=no_sleep).sync_round()
        assert _county_ack(county) == 5
        assert county.client(V1, sleep=no_sleep).sync_round().idle
    finally:
        restored.close()


def test_the_server_does_not_keep_a_store_of_a_replaced_database(
    county: County, tmp_path: Path
) -> None:
    """A node.db put back while the server runs (a new file) is what the next request
    reads, though the server keeps stores open between requests."""
    town = county.towns[T].store
    backup = _copy(town, tmp_path / "town-backup")  # before it held anything of V1's
    write(county.villages[V1], 2)
    assert county.client(V1, sleep=no_sleep).sync_round().pushed_entries == 3
    for name in (DB_NAME + "-wal", DB_NAME + "-shm"):  # what a restore by copying does
        (town.data_dir / name).unlink(missing_ok=True)
    os.replace(backup / DB_NAME, town.data_dir / DB_NAME)
    write(county.villages[V1], 1)
    report = county.client(V1, sleep=no_sleep).sync_round()
    assert report.pushed_entries == 4  # the township holds nothing now: everything again


def test_a_revoked_log_counts_at_the_parents_head_once_nothing_more_can_flow(
    county: County,
) -> None:
    """revoked.revoked_wanted: the relay's digest uses the county's head of a revoked
    log once the county holds min(our head, valid_through) of it, and ours before."""
    village, town = county.villages[V1], county.towns[T].store
    log = village.changelog.log
    raw = county.admin.revoke_node(V1, "stolen", {log: 4}, county.clock())
    crl = decode_revocations(raw, county.admin.issuing)
    peer = f"county:{C}"
    ours = Frontier({log: Head(6, b"\x06" * 32)})  # the township holds more than is valid

    def wanted(county_seq: int) -> Frontier:
        heads = Frontier({log: Head(county_seq, bytes([county_seq]) * 32)} if county_seq else {})
        remember_revoked(town.db, peer, crl, heads)
        return revoked_wanted(town.db, peer, crl, ours)

    assert wanted(4).get(log) == Head(4, b"\x04" * 32)  # all it will take: idle
    assert wanted(2).get(log) == Head(6, b"\x06" * 32)  # 3..4 still to forward
    ours = Frontier({})  # restored from a backup that never held the log
    assert wanted(4).get(log) == Head(4, b"\x04" * 32)
    assert wanted(0).get(log) is None
    assert revoked_wanted(town.db, peer, None, ours).get(log) is None  # no list


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (b'{"ops":[{"op":"teleport","to":"moon"}],"v":1}', "quarantine"),
        (b"this is not json at all", "refused"),
    ],
)
def test_the_county_quarantines_unknown_op_types_and_refuses_non_json(
    tmp_path: Path, payload: bytes, where: str
) -> None:
    """SPEC §6.7 step 7 and §7: the county decodes every payload it opens; an unknown op
    type is quarantined (kept, not applied), a malformed payload refuses the batch, and
    the township, which cannot open it, passes the refusal down."""
    with loopback_county(tmp_path, {T: [V1]}) as county:
        village = county.villages[V1]
        with village.db.atomic():
            village.changelog.append(payload)
        county.client(V1).sync_round()  # the township keeps it sealed: it cannot tell
        county.client(T).sync_round()
        db = county.county.store.db
        quarantined = db.execute("SELECT code FROM quarantine").fetchall()
        held = db.execute("SELECT COUNT(*) FROM received_entries").fetchone()[0]
        town = county.towns[T].store.db
        refused = town.execute("SELECT code FROM sync_rejections").fetchall()
        if where == "quarantine":
            assert quarantined == [("unsupported",)]
        else:
            assert quarantined == [] and refused == [("malformed",)]
        assert held == 1  # the township's own first entry; none of the village's


def test_a_stopped_server_closes_the_stores_it_kept(county: County) -> None:
    """A server that stops releases its database handles at once; a request that ends
    after the stop closes its store rather than keeping it."""
    write(county.villages[V1], 3)
    county.client(V1).sync_round()
    town = county.towns[T]
    assert town.app is not None
    state = town.app.extensions[context.EXTENSION]
    kept = list(state.stores)
    assert kept
    town.stop()
    assert state.closed and not state.stores
    for store in kept:
        with pytest.raises((sqlite3.ProgrammingError, sqlcipher.ProgrammingError)):
            store.db.execute("SELECT 1")
