# SPDX-License-Identifier: Apache-2.0
"""Issue 11 item 5: a certificate travels only to a peer that does not hold it.

SPEC.md §15.4 (the session request and answer) and §15.6 (``POST /certs``): a client
sends its certificate with the hello only when its parent is not known to hold it, and
names the serial of the parent certificate it holds, so the welcome comes alone; a
relay introduces a child's certificate once. A parent that lost one (restored from a
backup) says ``unknown_certificate``, and it is sent again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from node.identity import load_identity
from node.store.database import DB_NAME, connect
from protocol import decode_session_answer, decode_session_request
from tests.node.sync.faults import copy_node, no_sleep, write
from tests.node.sync.network import County, SimClock, loopback_county

V1, V2, T, C = "440104001002", "440104001003", "440104001", "440104"


class Recording(requests.Session):
    """A requests.Session that keeps every request body and answer, by path."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, bytes, requests.Response]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        resp = super().request(method, url, *args, **kwargs)
        self.seen.append((url.split("/sync/v1", 1)[-1], bytes(kwargs.get("data") or b""), resp))
        return resp

    def handshakes(self) -> list[tuple[str, bytes, requests.Response]]:
        return [s for s in self.seen if s[0].startswith("/session")]


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V1, V2]}, clock=SimClock()) as c:
        yield c


def _hello(county: County, village: Any) -> bytes:
    from protocol import make_hello

    assert county.clock is not None
    to = county.towns[T].store.node
    return make_hello(village.identity.signing, village.node, to, county.clock())


def _certs_held(data_dir: Path) -> set[str]:
    """The nodes whose certificates a node's database keeps (read from the file)."""
    with closing(connect(data_dir / DB_NAME, load_identity(data_dir).db_key)) as db:
        return {node for (node,) in db.execute("SELECT node FROM certs")}


def test_only_the_first_handshake_carries_the_client_certificate(county: County) -> None:
    """First contact: the hello and the village's certificate; the parent's own comes
    back only if the village does not hold it (it does: enrolment). Every later
    session: the hello alone, answered by the welcome alone."""
    write(county.villages[V1], 2)
    first, later = Recording(), Recording()
    county.client(V1, sleep=no_sleep, http=first).sync_round()
    county.client(V1, sleep=no_sleep, http=later).sync_round()
    ((path, body, resp),) = first.handshakes()
    assert path.startswith("/session?have=")
    assert decode_session_request(body).certificate is not None
    assert decode_session_answer(resp.content).certificate is None
    ((_, body, resp),) = later.handshakes()
    assert decode_session_request(body).certificate is None
    assert decode_session_answer(resp.content).certificate is None
    assert len(body) < 4_000  # a hybrid hello: no 7.9 KB certificate beside it


def test_a_client_naming_no_certificate_gets_the_parents(county: County) -> None:
    """``have`` absent (or another serial): the welcome comes with the server's
    certificate, as a client that does not hold it needs."""
    from protocol import SessionRequest, encode_session_request

    village = county.villages[V1]
    town_url = county.towns[T].url
    own = (village.data_dir / "keys" / "node.cert").read_bytes()
    hello = _hello(county, village)
    body = encode_session_request(SessionRequest(hello, own))
    resp = requests.post(f"{town_url}/sync/v1/session", data=body, timeout=30)
    assert resp.status_code == 200, resp.text
    town_cert = (county.towns[T].store.data_dir / "keys" / "node.cert").read_bytes()
    assert decode_session_answer(resp.content).certificate == town_cert


def test_a_hello_alone_from_a_node_the_parent_does_not_know_is_unknown_certificate(
    county: County,
) -> None:
    """The server holds no certificate whose key signed the hello: 403
    ``unknown_certificate`` (send it), nothing kept."""
    from protocol import SessionRequest, encode_session_request

    village = county.villages[V1]
    hello = _hello(county, village)
    resp = requests.post(
        f"{county.towns[T].url}/sync/v1/session",
        data=encode_session_request(SessionRequest(hello)),
        timeout=30,
    )
    assert resp.status_code == 403 and resp.json()["code"] == "unknown_certificate", resp.text
    assert str(village.node) not in _certs_held(county.towns[T].store.data_dir)


def test_the_relay_introduces_each_certificate_once(county: County) -> None:
    """``POST /certs`` for a child's certificate in the first round that forwards its
    batches, and in no later round."""
    village = county.villages[V1]
    certs_posted = []
    for _month in range(3):
        write(village, 2)
        county.client(V1, sleep=no_sleep).sync_round()
        town = Recording()
        assert county.client(T, sleep=no_sleep, http=town).sync_round().forwarded_envelopes == 1
        certs_posted.append(sum(1 for path, _, _ in town.seen if path == "/certs"))
    assert certs_posted == [1, 0, 0]


def test_a_parent_restored_from_a_backup_learns_both_certificates_again(
    county: County, tmp_path: Path
) -> None:
    """The county goes back to a copy from before it held the township's and the
    village's certificates. The township's hello alone is answered
    ``unknown_certificate``: it sends its certificate at once; the county refuses the
    village's batch the same way: the township introduces the village again and
    resends. Everything arrives; no refusal is left behind."""
    county_store = county.county.store
    backup = copy_node(county_store, tmp_path / "county-backup")
    village = county.villages[V1]
    write(village, 2)
    county.client(V1, sleep=no_sleep).sync_round()
    county.client(T, sleep=no_sleep).sync_round()
    assert {f"township:{T}", f"village:{V1}"} <= _certs_held(county_store.data_dir)
    for name in (DB_NAME + "-wal", DB_NAME + "-shm"):  # what a restore by copying does
        (county_store.data_dir / name).unlink(missing_ok=True)
    os.replace(backup / DB_NAME, county_store.data_dir / DB_NAME)
    assert _certs_held(county_store.data_dir) == set()
    write(village, 1)
    county.client(V1, sleep=no_sleep).sync_round()
    town = Recording()
    report = county.client(T, sleep=no_sleep, http=town).sync_round()
    codes = [(p.split("?")[0], r.status_code) for p, _, r in town.seen]
    assert codes[:2] == [("/session", 403), ("/session", 200)], codes
    assert ("/certs", 200) in codes and report.rejected == [], (codes, report)
    assert {f"township:{T}", f"village:{V1}"} <= _certs_held(county_store.data_dir)
    held = (
        connect(county_store.data_dir / DB_NAME, county_store.identity.db_key)
        .execute(
            "SELECT MAX(seq) FROM received_entries WHERE log = ?", [str(village.changelog.log)]
        )
        .fetchone()[0]
    )
    assert held == village.changelog.head_seq
