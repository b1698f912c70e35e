# SPDX-License-Identifier: Apache-2.0
"""Issue 17 and 11: sync defences held by tests that go red when the defence is gone.

Real servers on loopback, real SQLite. A misbehaving parent is the real server with
WSGI middleware in front of its app (:class:`Tamper`) that rewrites one answer: a
forged response MAC, or a validly signed acknowledgement of the wrong thing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from node.identity import key_dir
from node.server import sessions as session_table
from node.server.sync_api import EXTENSION as SESSIONS
from node.store.acks import PeerAcks
from node.store.holdings import Holdings
from node.store.store import NodeStore
from node.sync.client import SyncClient, SyncFailed
from protocol import (
    Ack,
    LogId,
    decode_ack,
    decode_envelope,
    mac,
    seal_batch,
    sign_ack,
    sign_batch,
)
from protocol.batches import MAX_LIFETIME_MS
from tests.node.sync.faults import (
    Hooked,
    address_as,
    authed_headers,
    copy_node,
    count,
    no_sleep,
    sealed_batch,
    write,
)
from tests.node.sync.network import County, SimClock, loopback_county

V1, V2, T, T2, V3, C = (
    "440104001002",
    "440104001003",
    "440104001",
    "440104002",
    "440104002001",
    "440104",
)
ENVELOPES = "/sync/v1/envelopes"


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def county(tmp_path: Path, clock: SimClock) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V1, V2], T2: [V3]}, clock=clock) as c:
        yield c


def sync(county: County, code: str) -> Any:
    return county.client(code, sleep=no_sleep).sync_round()


def post(c: SyncClient, raw: bytes) -> requests.Response:
    """``raw`` posted to ``c``'s parent in ``c``'s session, as its client would."""
    if c.link.session is None:
        c.link.open_session()
    headers = authed_headers(c, "POST", ENVELOPES, raw)
    return requests.post(c.link.url + ENVELOPES, data=raw, headers=headers, timeout=30)


def refused(resp: requests.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code, resp.text


def alerts(store: NodeStore) -> list[tuple[str, str]]:
    return [(kind, log) for kind, log in store.db.execute("SELECT kind, log FROM alerts")]


# -- issue 17 (a): a fork lying wholly below the receiver's head ------------------------


def _forked_copy(county: County, tmp_path: Path) -> tuple[NodeStore, NodeStore]:
    """The village with 10 entries, all held upstream in one batch, and an old copy of
    it (5 entries) that wrote two other entries 6 and 7."""
    village = county.villages[V1]
    write(village, 4)
    old = copy_node(village, tmp_path / "old-copy")
    write(village, 5)
    assert sync(county, V1).pushed_entries == 10  # the township keeps one batch, 1..10
    restored = NodeStore.open(old, clock=county.clock)
    write(restored, 2, tag="other")
    return village, restored


def test_a_fork_inside_a_batch_the_relay_keeps_is_refused_not_acknowledged(
    county: County, tmp_path: Path
) -> None:
    """Issue 17: entries 6..7 of another history lie wholly below the township's head
    (10) and inside the one batch it keeps (1..10): no kept header claims seq 5 or 7.
    The township opens its kept batch (it is a recipient) and finds the other hash at
    7: 409 fork, an alert naming the kept batch, nothing stored, nothing acknowledged.
    Before, it answered a signed acknowledgement of 1..10, as for a duplicate."""
    village, restored = _forked_copy(county, tmp_path)
    town = county.towns[T].store
    try:
        forger = SyncClient(restored, county.towns[T].url, now_ms=county.clock, sleep=no_sleep)
        raw = address_as(forger, sealed_batch(forger, 6, 7)[0])
        resp = post(forger, raw)
        refused(resp, 409, "fork")
        assert alerts(town) == [("fork", str(village.changelog.log))]
        (detail,) = [d for (d,) in town.db.execute("SELECT detail FROM alerts")]
        (kept,) = [bytes(m) for (m,) in town.db.execute("SELECT message_id FROM inbound")]
        assert kept.hex() in detail  # the kept batch whose chain it contradicts
        assert Holdings(town.db).head(village.changelog.log).seq == 10  # type: ignore[union-attr]
        assert count(town, "inbound") == 1
        refused(post(forger, raw), 409, "fork")  # sent again: refused again, alerted once
        assert len(alerts(town)) == 1
    finally:
        restored.close()


def test_a_fork_below_the_county_head_is_refused(county: County, tmp_path: Path) -> None:
    """The county holds every entry's hash (received_entries): the same forked 6..7,
    relayed up, is a fork against the hash it holds for 7, not a duplicate."""
    village, restored = _forked_copy(county, tmp_path)
    assert sync(county, T).forwarded_envelopes == 1  # the county holds 1..10
    try:
        forger = SyncClient(restored, county.towns[T].url, now_ms=county.clock, sleep=no_sleep)
        sealed = sealed_batch(forger, 6, 7)[0]
        tc = county.client(T, sleep=no_sleep)
        refused(post(tc, address_as(tc, sealed)), 409, "fork")
        assert alerts(county.county.store) == [("fork", str(village.changelog.log))]
        entries = county.county.store.db.execute(
            "SELECT COUNT(*) FROM received_entries WHERE log = ?", [str(village.changelog.log)]
        ).fetchone()[0]
        assert entries == 10
    finally:
        restored.close()


# -- issue 17 (b): an origin outside the sending node's subtree -------------------------


def test_a_village_cannot_pass_on_a_siblings_batch(county: County) -> None:
    """§6.7 step 3: the origin must be the sending node or below it. V2's own batch,
    hop-signed by V1, is refused (403); the township knows V2 and would take it as V2's
    next batch otherwise."""
    village2 = county.villages[V2]
    sync(county, V2)  # the township holds V2's seq 1 and its certificate
    write(village2, 3)
    c1, c2 = county.client(V1, sleep=no_sleep), county.client(V2, sleep=no_sleep)
    raw = address_as(c1, sealed_batch(c2, 2, 4)[0])
    refused(post(c1, raw), 403, "bad_certificate")
    town = county.towns[T].store
    assert Holdings(town.db).head(village2.changelog.log).seq == 1  # type: ignore[union-attr]
    assert sync(county, V2).pushed_entries == 3  # the real sender still gets it through


def test_a_township_cannot_pass_on_another_townships_village(county: County) -> None:
    """The same rule one level up: township 2's village, relayed by township 1."""
    village3 = county.villages[V3]
    sync(county, V3)
    sync(county, T2)  # the county holds V3's seq 1 and its certificate
    write(village3, 2)
    v3, t1 = county.client(V3, sleep=no_sleep), county.client(T, sleep=no_sleep)
    refused(post(t1, address_as(t1, sealed_batch(v3, 2, 3)[0])), 403, "bad_certificate")
    held = Holdings(county.county.store.db).head(village3.changelog.log)
    assert held is not None and held.seq == 1


# -- issue 17 (c): the client checks its parent's answers -------------------------------

Headers = list[tuple[str, str]]
Answer = tuple[str, bytes, Headers]
Rewrite = Callable[[dict[str, Any], str, bytes, Headers], Answer]


class Tamper:
    """WSGI middleware in front of a real server's app that rewrites its answers to
    ``path``: the parent as a faulty or hostile one would answer."""

    def __init__(self, county: County, code: str, path: str, rewrite: Rewrite) -> None:
        served = county.served(code)
        assert served.app is not None
        self.app, self.inner, self.path, self.rewrite = (
            served.app,
            served.app.wsgi_app,
            path,
            rewrite,
        )
        served.app.wsgi_app = self  # type: ignore[method-assign]

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self.path:
            return self.inner(environ, start_response)
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.update(status=status, headers=headers)
            return lambda _data: None

        with closing(self.inner(environ, capture)) as answer:  # type: ignore[type-var]
            body = b"".join(answer)
        status, body, headers = self.rewrite(environ, seen["status"], body, seen["headers"])
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def session_key(self, environ: dict[str, Any]) -> bytes:
        table = self.app.extensions[SESSIONS]
        key: bytes = table.sessions[environ["HTTP_X_RK_SESSION"]].key
        return key


def _with_mac(tamper: Tamper, environ: dict[str, Any], body: bytes, headers: Headers) -> Headers:
    """``headers`` with the MAC the parent would put on ``body``: a valid answer."""
    counter = int(environ["HTTP_X_RK_COUNTER"])
    query = environ.get("QUERY_STRING", "")
    path = environ["PATH_INFO"] + (f"?{query}" if query else "")
    key = tamper.session_key(environ)
    value = mac(key, "res", environ["REQUEST_METHOD"], path, counter, body)
    return [(k, v) for k, v in headers if k != "X-Rk-Mac"] + [("X-Rk-Mac", value)]


def _nothing_recorded(village: NodeStore) -> None:
    acks = PeerAcks(village.db)
    assert acks.head(f"township:{T}", village.changelog.log) is None
    assert acks.rejections() == []  # a forgery is not the parent's word


def test_an_answer_with_a_forged_mac_is_refused(county: County) -> None:
    """Issue 17: the acknowledgement is genuine but its answer's MAC is not: the client
    refuses it (SyncFailed) and records nothing."""
    village = county.villages[V1]
    write(village, 3)

    def forge(environ: dict[str, Any], status: str, body: bytes, headers: Headers) -> Answer:
        given = dict(headers)["X-Rk-Mac"]
        flipped = ("B" if given[0] == "A" else "A") + given[1:]
        return (
            status,
            body,
            [(k, v) for k, v in headers if k != "X-Rk-Mac"] + [("X-Rk-Mac", flipped)],
        )

    Tamper(county, T, ENVELOPES, forge)
    with pytest.raises(SyncFailed, match="authentication"):
        sync(county, V1)
    _nothing_recorded(village)


def test_a_refusal_without_a_valid_mac_is_not_recorded(county: County) -> None:
    """A 409 fork that did not come from the parent (no valid MAC) is reported, never
    kept as the parent's refusal nor acted on."""
    village = county.villages[V1]
    write(village, 3)

    def refuse(environ: dict[str, Any], status: str, body: bytes, headers: Headers) -> Answer:
        fake = b'{"code":"fork","en":"forged","ok":false,"status":409,"zh":"x"}'
        return "409 CONFLICT", fake, [("Content-Type", "application/json"), ("X-Rk-Mac", "A" * 24)]

    Tamper(county, T, ENVELOPES, refuse)
    with pytest.raises(SyncFailed) as failed:
        sync(county, V1)
    assert failed.value.status == 409 and not failed.value.authenticated
    _nothing_recorded(village)


WRONG = ["log", "seq", "head", "by"]


@pytest.mark.parametrize("wrong", WRONG)
def test_an_acknowledgement_of_the_wrong_thing_is_refused(county: County, wrong: str) -> None:
    """Issue 17: the parent answers with a validly signed, validly MACed ack that is for
    another log, an earlier seq, another head hash at our seq, or names another node as
    its signer: the client refuses it and keeps nothing (a parent cannot make a sender
    believe it holds what it does not)."""
    village = county.villages[V1]
    town = county.towns[T].store
    write(village, 3)
    real: dict[str, Ack] = {}

    def lie(environ: dict[str, Any], status: str, body: bytes, headers: Headers) -> Answer:
        ack = decode_ack(body, town.identity.signing.verify_key)
        real["ack"] = ack
        other = {
            "log": Ack(ack.by, LogId(ack.log.node, ack.log.epoch + 1), ack.seq, ack.head, ack.at),
            "seq": Ack(ack.by, ack.log, ack.seq - 1, next(village.entries(3, 3)).hash, ack.at),
            "head": Ack(ack.by, ack.log, ack.seq, bytes(32), ack.at),
            "by": Ack(county.county.store.node, ack.log, ack.seq, ack.head, ack.at),
        }[wrong]
        forged = sign_ack(other, town.identity.signing)
        return status, forged, _with_mac(tamper, environ, forged, headers)

    tamper = Tamper(county, T, ENVELOPES, lie)
    with pytest.raises(SyncFailed, match="acknowledged|does not verify"):
        sync(county, V1)
    assert real["ack"].seq == 4  # the township did hold 1..4: only the answer lied
    _nothing_recorded(village)


# -- recipients checked before acknowledging (issue 11 item 2, issue 12 item 4) ---------


def test_a_batch_not_sealed_for_the_county_is_refused_and_the_reseal_is_not_a_duplicate(
    county: County,
) -> None:
    """§6.7 step 3: the township refuses (bad_recipients) a batch sealed for itself and
    the village only, stores and acknowledges nothing; the same range sealed properly
    (same batch header, same message id) is then taken as new, not as a duplicate, and
    reaches the county."""
    village = county.villages[V1]
    write(village, 3)
    c = county.client(V1, sleep=no_sleep)
    entries = list(village.entries(1, 4))
    now = c.now_ms()
    header, sig = sign_batch(
        entries,
        village.identity.signing,
        c.link.own_cert.serial,
        sent_ms=now,
        expires_ms=now + MAX_LIFETIME_MS,
    )
    keys = [c.link.parent.kem_key, village.identity.kem.public_key]
    bad = address_as(c, seal_batch(entries, header, sig, keys))
    refused(post(c, bad), 422, "bad_recipients")
    town = county.towns[T].store
    assert count(town, "inbound") == 0 and Holdings(town.db).head(village.changelog.log) is None
    good = address_as(c, sealed_batch(c, 1, 4)[0])
    assert decode_envelope(good).message_id == decode_envelope(bad).message_id
    ack = post(c, good)
    assert ack.status_code == 200, ack.text
    assert decode_ack(ack.content, c.link.parent.verify_key).seq == 4
    sync(county, T)
    assert county.county.store.db.execute("SELECT COUNT(*) FROM received_entries").fetchone()[0] > 4


def _wrong_county_certificate(village: NodeStore, town_store: NodeStore) -> bytes:
    """Put the township's certificate where the village keeps the county node's (a
    stale or mistaken file): the village then seals for the township twice and never
    for the county. Returns the right file, to put back."""
    path = key_dir(village.data_dir) / "county.cert"
    right = path.read_bytes()
    shutil.copyfile(key_dir(town_store.data_dir) / "node.cert", path)
    return right


def test_the_origin_reseals_when_its_county_certificate_is_put_right(county: County) -> None:
    """Refused with bad_recipients, the village reads its certificates again; once the
    administrator has put the county node's certificate back it seals the same range
    for the county and sends it again, in the same round: delivered once, no refusal
    left."""
    village, town = county.villages[V1], county.towns[T].store
    write(village, 3)
    right = _wrong_county_certificate(village, town)
    path = key_dir(village.data_dir) / "county.cert"
    answers: list[int] = []

    def after(resp: requests.Response, _n: int) -> None:
        answers.append(resp.status_code)
        if resp.status_code == 422:
            path.write_bytes(right)  # the administrator fixes it while the round runs

    report = county.client(V1, sleep=no_sleep, http=Hooked(after=after)).sync_round()
    assert 422 in answers and report.pushed_entries == 4
    assert PeerAcks(village.db).rejections() == []
    assert count(town, "inbound") == 1


def test_a_refused_seal_is_recorded_and_sent_again_once_put_right(county: County) -> None:
    """Not fixed within the round: the refusal is recorded (status shows it), nothing
    is acknowledged; the next round after the fix delivers the range exactly once."""
    village, town = county.villages[V1], county.towns[T].store
    write(village, 3)
    right = _wrong_county_certificate(village, town)
    with pytest.raises(SyncFailed) as failed:
        sync(county, V1)
    assert failed.value.code == "bad_recipients"
    ((rejection),) = PeerAcks(village.db).rejections()
    assert (rejection.code, rejection.first_seq, rejection.last_seq) == ("bad_recipients", 1, 4)
    assert count(town, "inbound") == 0
    (key_dir(village.data_dir) / "county.cert").write_bytes(right)
    assert sync(county, V1).pushed_entries == 4
    assert PeerAcks(village.db).rejections() == []
    sync(county, T)
    held = county.county.store.db.execute(
        "SELECT COUNT(*) FROM received_entries WHERE log = ?", [str(village.changelog.log)]
    ).fetchone()[0]
    assert held == 4


# -- the session table is bounded (THREAT_MODEL: exhaust memory) -----------------------


def test_handshakes_beyond_the_session_cap_are_refused_busy(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of valid handshakes cannot grow the session table without bound: past
    the cap the server answers 503 busy and opens no session (the servers run in this
    process, so the cap can be made small)."""
    monkeypatch.setattr(session_table, "MAX_SESSIONS", 2)
    for _ in range(2):
        county.client(V1, sleep=no_sleep).link.open_session()
    with pytest.raises(SyncFailed) as busy:
        county.client(V2, sleep=no_sleep).link.open_session()
    assert (busy.value.status, busy.value.code) == (503, "busy")
