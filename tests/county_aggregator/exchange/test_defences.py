# SPDX-License-Identifier: Apache-2.0
"""What a county refuses in the floating-population exchange (SPEC.md §8.11, §11), and
the rules it keeps (篇10 第24-25条, 篇7 四(一)): over real HTTP on loopback between two
cross-certified county nodes, and on files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlite_utils import Database

from county_aggregator.exchange.answers import answer
from county_aggregator.exchange.derive import derive_notifications
from county_aggregator.exchange.receive import receive
from county_aggregator.exchange.send import PATH
from county_aggregator.store import init_merged, open_merged
from county_aggregator.store_exchange import ExchangeStore
from node.calendar_store import node_calendar
from node.deadlines.workdays import WorkCalendar
from node.errors import NodeError
from node.identity import load_certificate
from node.store.store import NodeStore
from node.sync.trust import Trust
from node.timeutil import shanghai_today
from protocol import NodeId
from protocol.exchange import (
    ANSWER,
    NOTIFICATION,
    Answer,
    ExchangeHeader,
    Notification,
    new_notification_id,
    seal_exchange,
)
from tests.county_aggregator.exchange.counties import (
    B_VILLAGE,
    Exchange,
    b_county,
    now,
    run,
    two_counties,
)

NOTICE = Notification(
    "birth", "陈流入", "440105199503030026", "越秀区某街道某路2号", "440104001002",
    "海珠区某街道某村12号", B_VILLAGE, "2026-11-25", "",
)  # fmt: skip


@pytest.fixture
def ex(tmp_path: Path) -> Iterator[Exchange]:
    with two_counties(tmp_path, villages=False) as pair:
        yield pair


def sealed(
    sender: NodeStore, to: NodeStore, content: Notification | Answer, *, nid: str = "",
    receiver: Any = None,
) -> bytes:  # fmt: skip
    """A message ``sender``'s county node makes for ``to``'s county node."""
    own = (sender.data_dir / "keys" / "node.cert").read_bytes()
    peer = load_certificate(to.data_dir, "node.cert")
    assert peer is not None
    kind = NOTIFICATION if isinstance(content, Notification) else ANSWER
    header = ExchangeHeader(
        kind, nid or new_notification_id(repr(content).encode()), sender.node,
        receiver or peer.node, peer.kem_key.key_id, now(),
    )  # fmt: skip
    return seal_exchange(header, content, sender.identity.signing, own, peer.kem_key)


def post(server: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
    resp = requests.post(server.url + PATH, data=raw, timeout=30)
    return resp.status_code, resp.json()


def inbox(ex: Exchange) -> list[Any]:
    return ExchangeStore(ex.b.db).inbox()


def test_a_county_never_cross_certified_is_refused(ex: Exchange, tmp_path: Path) -> None:
    """§8.11: the sender's chain verifies under our root only through our
    cross-certificate of its root: a county we never trusted is refused by name, and a
    root someone made in a trusted county's name fails on its keys."""
    _, tianhe = b_county(tmp_path / "c", "440106")
    _, forger = b_county(tmp_path / "f", "440104")  # a second 440104 root, never compared
    try:
        notice = Notification(**{**_fields(NOTICE), "residence_code": "440106001001"})
        status, body = post(ex.b_server, sealed(tianhe, ex.b, notice))
        assert (status, body["code"]) == (403, "bad_certificate")
        assert "440106" in body["en"] and "does not trust" in body["en"]
        status, body = post(ex.b_server, sealed(forger, ex.b, NOTICE))
        assert (status, body["code"]) == (401, "bad_signature")
    finally:
        tianhe.close()
        forger.close()
    assert inbox(ex) == []


def _fields(n: Notification) -> dict[str, Any]:
    body = n.body()
    body.pop("v")
    return body


def test_tampered_or_malformed_bytes_are_refused_and_nothing_is_kept(ex: Exchange) -> None:
    """§8.11: signed over every byte; a decoder bounded before it reads; no 500."""
    good = sealed(ex.a.county.store, ex.b, NOTICE)
    flipped = bytearray(good)
    flipped[-200] ^= 1  # inside the ciphertext
    assert post(ex.b_server, bytes(flipped))[0] == 401
    assert post(ex.b_server, bytes(flipped))[1]["code"] == "bad_signature"
    for raw, want in ((b"RKX1\x02\x00\x00", (400, "malformed")), (b"", (400, "malformed")),
                      (b"RKX1\x02garbage", (413, "too_large")),
                      (good + b"\x00", (400, "malformed")),
                      (b"RKX2" + good[4:], (400, "unsupported")),
                      (bytes(131_073), (413, "too_large"))):  # fmt: skip
        status, body = post(ex.b_server, raw)
        assert (status, body["code"]) == want and body["ok"] is False
    assert inbox(ex) == []
    status, body = post(ex.b_server, good)
    assert (status, body["stored"], body["id"]) == (202, "new", inbox(ex)[0].id)
    assert post(ex.b_server, good)[1]["stored"] == "duplicate"
    assert len(inbox(ex)) == 1


def test_a_message_addressed_to_another_county_is_refused(ex: Exchange) -> None:
    """§8.11: ``to`` must be this county node (and ``kem_key`` its key): a message for
    another county is not opened here, even if its key could open it."""
    misdirected = sealed(ex.a.county.store, ex.b, NOTICE, receiver=NodeId.for_code("440106"))
    status, body = post(ex.b_server, misdirected)
    assert (status, body["code"]) == (421, "no_recipient")
    assert inbox(ex) == []


def test_only_notifications_about_our_hukou_from_their_residents_are_taken(ex: Exchange) -> None:
    """§8.11: a notification whose hukou village is in another county is not this
    county's to read; one about a residence outside the sender is not the sender's."""
    tianhe = Notification(**{**_fields(NOTICE), "hukou_code": "440106001001"})
    status, body = post(ex.b_server, sealed(ex.a.county.store, ex.b, tianhe))
    assert (status, body["code"]) == (422, "exchange.not_our_hukou")
    elsewhere = Notification(**{**_fields(NOTICE), "residence_code": "440303001001"})
    status, body = post(ex.b_server, sealed(ex.a.county.store, ex.b, elsewhere))
    assert (status, body["code"]) == (422, "exchange.not_their_resident")
    assert inbox(ex) == []


def _sent(
    store: ExchangeStore, nid: str, to: str, day: str = "2026-09-29", via: str = "http"
) -> None:
    store.add_notifications([{
        "id": nid, "to_county": to, "kind": "birth", "record_kind": "birth",
        "record_key": nid, "person_key": "idn:x", "village": "440104001002",
        "event_date": "2026-09-25", "due": "2026-09-30", "body": _fields(NOTICE), "made": 1,
    }])  # fmt: skip
    store.mark_sent(nid, 1, day, via)


def test_answers_are_taken_only_from_the_county_notified(ex: Exchange) -> None:
    """§8.11: an answer names a notification we sent to the answering county."""
    store = ExchangeStore(ex.a.county.store.db)
    to_tianhe, to_haizhu = new_notification_id(b"t"), new_notification_id(b"h")
    _sent(store, to_tianhe, "440106")
    _sent(store, to_haizhu, "440105")
    said = Answer("updated", "2026-09-30", "2026-10-08")
    status, body = post(ex.a_server, sealed(ex.b, ex.a.county.store, said, nid=to_tianhe))
    assert (status, body["code"]) == (403, "exchange.wrong_sender")
    status, body = post(ex.a_server, sealed(ex.b, ex.a.county.store, said, nid="0" * 32))
    assert (status, body["code"]) == (404, "exchange.unknown_notification")
    assert post(ex.a_server, sealed(ex.b, ex.a.county.store, said, nid=to_haizhu))[0] == 202
    outcomes = {s.id: (s.outcome, s.on_time) for s in store.sent_all()}
    assert outcomes == {to_tianhe: (None, None), to_haizhu: ("updated", True)}


def test_a_late_answer_is_not_on_time_by_working_days(ex: Exchange) -> None:
    """篇10 第24条, domain.md §3: 5 working days of the official calendar. Received on
    Wednesday 2026-09-30: 1-7 October are holidays and Saturday 10 October a make-up
    working day, so the answer is due Tuesday 13 October (Monday-Friday would say
    7 October; without the make-up Saturday, 14 October)."""
    a, b = ex.a.county.store, ex.b
    a_store, b_store = ExchangeStore(a.db), ExchangeStore(b.db)
    calendar = WorkCalendar()
    received = date(2026, 9, 30)
    kept = receive(sealed(a, b, NOTICE), b.identity, Trust.load(b.db, b.data_dir), b_store,
                   calendar, now(), received)  # fmt: skip
    (item,) = b_store.inbox()
    assert (kept.new, item.due) == (True, "2026-10-13")
    assert (
        answer(b_store, item, "updated", "", "", "officer", date(2026, 10, 14), calendar) is False
    )

    trust = Trust.load(a.db, a.data_dir)
    for nid, day, on_time in (("1" * 32, "2026-10-13", True), ("2" * 32, "2026-10-14", False)):
        _sent(a_store, nid, "440105", received.isoformat())
        said = Answer("updated", received.isoformat(), day)
        receive(sealed(b, a, said, nid=nid), a.identity, trust, a_store, calendar, now(),
                date(2026, 10, 20))  # fmt: skip
        assert a_store.sent(nid) is not None and a_store.sent(nid).on_time is on_time  # type: ignore[union-attr]


def test_not_found_is_answered_only_after_a_cross_check(ex: Exchange) -> None:
    """篇10 第25条: "not found" only after the data was cross-checked with other records."""
    assert post(ex.b_server, sealed(ex.a.county.store, ex.b, NOTICE))[0] == 202
    (item,) = inbox(ex)
    bare = run("county", "exchange", "answer", item.id, "--outcome", "not_found",
               "--data-dir", str(ex.b_dir))  # fmt: skip
    assert bare.exit_code == 1 and "exchange.cross_check_needed" in bare.output
    assert inbox(ex)[0].outcome is None
    checked = run("county", "exchange", "answer", item.id, "--outcome", "not_found",
                  "--cross-check", "户籍卡、派出所", "--data-dir", str(ex.b_dir))  # fmt: skip
    assert checked.exit_code == 0, checked.output
    assert inbox(ex)[0].outcome == "not_found"


def test_the_county_never_writes_the_hukou_villages_records(ex: Exchange) -> None:
    """design.md: nothing upstream writes a node's records. Receiving and answering a
    notification changes the exchange tables only; the hukou village's officers update
    her card themselves (an advisory to the village is not sent: SPEC.md §8.11)."""
    b = ex.b
    before = (b.counts(), b.db.execute("SELECT count(*) FROM log").fetchone()[0])
    assert post(ex.b_server, sealed(ex.a.county.store, b, NOTICE))[0] == 202
    (item,) = inbox(ex)
    answer(
        ExchangeStore(b.db), item, "updated", "", "", "officer", shanghai_today(), WorkCalendar()
    )
    assert (b.counts(), b.db.execute("SELECT count(*) FROM log").fetchone()[0]) == before


def test_files_carry_the_same_checks(ex: Exchange, tmp_path: Path) -> None:
    """§8.11: a county with no link carries the same bytes; import checks them as HTTP."""
    a_store = ExchangeStore(ex.a.county.store.db)
    merged = open_merged(ex.a_dir / "merged.db", key=ex.a.county.store.identity.db_key)
    _put(merged, [("person", f"idn:{NOTICE.id_number}", NOTICE.residence_code, _woman(
        NOTICE.id_number, "married", "1995-03-03")), ("birth", "b1", NOTICE.residence_code, {
        "mother_ref": f"idn:{NOTICE.id_number}", "birth_date": NOTICE.event_date})])  # fmt: skip
    merged.conn.close()
    out = tmp_path / "usb"
    exported = run("county", "exchange", "export", "--out", str(out), "--data-dir", str(ex.a_dir))
    assert exported.exit_code == 0, exported.output
    (path,) = out.glob("*.rkx")
    raw = bytearray(path.read_bytes())
    raw[-200] ^= 1
    forged = tmp_path / "forged.rkx"
    forged.write_bytes(bytes(raw))
    refused = run("county", "exchange", "import", str(forged), "--data-dir", str(ex.b_dir))
    assert refused.exit_code == 1 and "bad_signature" in refused.output
    taken = run("county", "exchange", "import", str(path), "--data-dir", str(ex.b_dir))
    assert taken.exit_code == 0 and "new" in taken.output
    assert [r.id for r in inbox(ex)] == [s.id for s in a_store.sent_all()]


def _merged_with(rows: list[tuple[str, str, str, dict[str, Any]]]) -> Database:
    return _put(init_merged(Database(memory=True)), rows)


def _put(db: Database, rows: list[tuple[str, str, str, dict[str, Any]]]) -> Database:
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO merged_records VALUES (?, ?, ?, '[]', ?, NULL, 1, 1)",
            [(k, key, json.dumps(d, ensure_ascii=False), v) for k, key, v, d in rows],
        )
    return db


def _woman(pid: str, marital: str, born: str, hukou: str = B_VILLAGE) -> dict[str, Any]:
    return {
        "card_type": "woman", "id_number": pid, "name": f"某{pid[-3:]}", "sex": "F",
        "birth_date": born, "marital_status": marital, "hukou_code": hukou,
        "hukou_address": "某村", "residence_code": "440104001002", "residence_address": "某路",
        "floating_status": "flowed_in", "floating_since": "2025-01-01", "floating_place": hukou[:6],
    }  # fmt: skip


def test_unmarried_women_never_get_a_pregnancy_check_notification(tmp_path: Path) -> None:
    """篇7 四(一), domain.md §3 ⑥: a pregnancy check is notified, never one of an unmarried
    woman (the node refuses to record one; this is the second line). Only women aged
    18-49 who crossed a county line (篇10 第3条)."""
    v = "440104001002"
    people = {"m": ("440105199001010021", "married", "1990-01-01", B_VILLAGE),
              "u": ("440105199101010042", "unmarried", "1991-01-01", B_VILLAGE),
              "y": ("440105200901010063", "married", "2009-01-01", B_VILLAGE),
              "s": ("440104199201010084", "married", "1992-01-01", "440104002001")}  # fmt: skip
    rows: list[tuple[str, str, str, dict[str, Any]]] = []
    for short, (pid, marital, born, hukou) in people.items():
        rows.append(("person", f"idn:{pid}", v, _woman(pid, marital, born, hukou)))
        rows.append(("health_check", f"hc-{short}", v, {
            "person_ref": f"idn:{pid}", "check_type": "pregnancy_check",
            "done_date": "2026-11-20"}))  # fmt: skip
    store = ExchangeStore(init_db(tmp_path))
    made = derive_notifications(_merged_with(rows), store, "440104", WorkCalendar(),
                                date(2026, 11, 26), 1)  # fmt: skip
    assert made == 1
    (only,) = store.sent_all()
    assert (only.record_key, only.kind, only.to_county) == ("hc-m", "pregnancy_check", "440105")
    # derived again after the next merge: the same notification, not a second
    again = derive_notifications(_merged_with(rows), store, "440104", WorkCalendar(),
                                 date(2026, 11, 27), 2)  # fmt: skip
    assert again == 0


def init_db(tmp_path: Path) -> Database:
    return Database(tmp_path / "exchange.db")


def test_the_server_is_the_node_app_with_the_exchange(ex: Exchange) -> None:
    """The county's certificate is public at /exchange/v1/certificate; a wrong method is
    the one error shape, never a 500."""
    got = requests.get(ex.b_server.url + "/exchange/v1/certificate", timeout=30)
    assert got.status_code == 200 and got.content == (ex.b_dir / "keys" / "node.cert").read_bytes()
    wrong = requests.get(ex.b_server.url + PATH, timeout=30)
    assert wrong.status_code == 405 and wrong.json()["code"] == "http_405"
    with pytest.raises(NodeError):
        from county_aggregator.exchange.send import peer_certificate

        peer_certificate(ExchangeStore(ex.b.db), Trust.load(ex.b.db, ex.b_dir), "440303", now())
    assert node_calendar(ex.b_dir) is not None


def test_a_peer_is_registered_only_with_its_own_county_nodes_certificate(ex: Exchange) -> None:
    """``renkou county exchange peer``: a county with no link registers the peer's county
    node certificate from a file; the certificate must verify through our
    cross-certificate and be that county's node, else nothing is registered."""
    a_cert = str(ex.a_dir / "keys" / "node.cert")
    wrong = run("county", "exchange", "peer", "--county", "440106", "--certificate", a_cert,
                "--data-dir", str(ex.b_dir))  # fmt: skip
    assert wrong.exit_code == 1 and "exchange.wrong_peer" in wrong.output
    own = run("county", "exchange", "peer", "--county", "440105", "--certificate",
              str(ex.b_dir / "keys" / "node.cert"), "--data-dir", str(ex.b_dir))  # fmt: skip
    assert own.exit_code == 1 and "exchange.wrong_peer" in own.output
    by_file = run("county", "exchange", "peer", "--county", "440104", "--certificate", a_cert,
                  "--data-dir", str(ex.b_dir))  # fmt: skip
    assert by_file.exit_code == 0, by_file.output
    assert ExchangeStore(ex.b.db).peers() == [("440104", "")]
