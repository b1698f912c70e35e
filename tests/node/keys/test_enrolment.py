# SPDX-License-Identifier: Apache-2.0
"""Issue 14 items 1 and 2: a county with an offline root, PCs enrolled by one-time codes
over the network, on loopback with real servers, as an administrator would do it.

The walk-through (``test_walk_through``) is the administrator's whole job for a new
township PC and a new village PC behind it: ``keys invite`` on the aggregator, the page
to the operator, ``node enroll`` on the PC (the village's through its township), then a
sync round. The refusals follow: a reused, expired, wrong-node, unknown or forged code,
and an answer changed on the way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.admin import CountyAdmin
from node.keys.invites import DAY_MS, create_invite
from node.server import create_app
from node.server.serving import NodeServer
from node.store.store import NodeStore
from node.sync.client import SyncClient
from protocol import NodeId
from protocol.enrolment import encode_request, format_code, invite_id
from tests.node.keys.test_dates_printed import LOCAL
from tests.node.sync.network import _server

C, T, V, V2 = "440104", "440104001", "440104001002", "440104001003"


@dataclass
class Aggregator:
    root_dir: Path
    admin_dir: Path
    county_dir: Path
    county_url: str
    servers: list[NodeServer]

    def serve(self, data_dir: Path, **config: Any) -> str:
        app = create_app({"RENKOU_DATA_DIR": str(data_dir), **config})
        server = _server("127.0.0.1", 0, app)
        server.start()
        self.servers.append(server)
        return server.url


def run(*args: str, ok: bool = True, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1, result.output
    return result.output


def invite(agg: Aggregator, code: str, role: str, page: Path, *extra: str) -> str:
    """``renkou keys invite``; returns the printed code."""
    out = run(
        *("keys", "invite", "--node", code, "--role", role, "--county-url", agg.county_url),
        *("--page", str(page), "--admin-dir", str(agg.admin_dir), *extra),
    )
    match = re.search(r"code:\s+([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", out)
    assert match, out
    return match[1]


@pytest.fixture
def agg(tmp_path: Path) -> Iterator[Aggregator]:
    """``keys init-county`` (root to a 'stick'), the county node enrolled on the
    aggregator itself, and its server answering enrolments with the issuing key."""
    root_dir, admin_dir, county_dir = tmp_path / "usb", tmp_path / "admin", tmp_path / C
    run("keys", "init-county", "--code", C, "--root-dir", str(root_dir),
        "--admin-dir", str(admin_dir))  # fmt: skip
    run("node", "init", "--code", C, "--name", "县", "--data-dir", str(county_dir))
    run("keys", "enrol", "--admin-dir", str(admin_dir), "--data-dir", str(county_dir))
    agg = Aggregator(root_dir, admin_dir, county_dir, "", [])
    agg.county_url = agg.serve(county_dir, RENKOU_ADMIN_DIR=str(admin_dir))
    try:
        yield agg
    finally:
        for server in agg.servers:
            server.stop()


def test_walk_through(agg: Aggregator, tmp_path: Path) -> None:
    """Invite, enrol the township directly and the village through it, then sync."""
    town_dir, village_dir = tmp_path / T, tmp_path / V
    page = tmp_path / "town.html"
    code = invite(agg, T, "township", page, "--name", "某镇")
    html = page.read_text(encoding="utf-8")
    assert code in html and "<svg" in html and "size: A4" in html
    assert "renkou node enroll --node 440104001 --name 某镇" in html

    out = run("node", "enroll", "--node", T, "--name", "某镇", "--code", code,
              "--county-url", agg.county_url, "--data-dir", str(town_dir))  # fmt: skip
    assert "已登记 township:440104001" in out
    town_url = agg.serve(town_dir, RENKOU_PARENT_URL=agg.county_url)

    code = invite(agg, V, "village", tmp_path / "village.html")
    out = run("node", "enroll", "--node", V, "--name", "某村", "--code", code.lower(),
              "--county-url", agg.county_url, "--via", town_url,
              "--data-dir", str(village_dir))  # fmt: skip
    assert "已登记 village:440104001002" in out and "上级 township:440104001" in out

    keys = village_dir / "keys"
    for name in ("node.cert", "parent.cert", "county.cert", "issuing.cert", "root.cert"):
        assert (keys / name).exists(), name
    assert (keys / "root.cert").read_bytes() == (agg.root_dir / "root.cert").read_bytes()
    assert (keys / "county.url").read_text().strip() == agg.county_url
    assert not (agg.admin_dir / "root.key").exists()  # the aggregator never held the root

    village = NodeStore.open(village_dir)
    town = NodeStore.open(town_dir)
    try:
        first = SyncClient(village, town_url).sync_round()
        assert (first.pushed_entries, first.rejected) == (1, [])
        up = SyncClient(town, agg.county_url).sync_round()
        assert (up.pushed_entries, up.forwarded_envelopes, up.rejected) == (1, 1, [])
    finally:
        village.close()
        town.close()


@pytest.fixture
def town(agg: Aggregator, tmp_path: Path) -> str:
    """The township enrolled by code; its server relays enrolments to the county."""
    code = invite(agg, T, "township", tmp_path / "t.html")
    run("node", "enroll", "--node", T, "--name", "镇", "--code", code,
        "--county-url", agg.county_url, "--data-dir", str(tmp_path / T))  # fmt: skip
    return agg.serve(tmp_path / T, RENKOU_PARENT_URL=agg.county_url)


def enrolled(agg: Aggregator, url: str, data_dir: Path, code: str) -> None:
    run("node", "enroll", "--node", V, "--name", "村", "--code", code,
        "--county-url", agg.county_url, "--via", url, "--data-dir", str(data_dir))  # fmt: skip


def enroll(agg: Aggregator, url: str, data_dir: Path, code: str, node: str = V) -> str:
    return run("node", "enroll", "--node", node, "--name", "村", "--code", code,
               "--county-url", agg.county_url, "--via", url, "--data-dir", str(data_dir),
               ok=False)  # fmt: skip


def test_a_code_works_once(agg: Aggregator, town: str, tmp_path: Path) -> None:
    code = invite(agg, V, "village", tmp_path / "v.html")
    enrolled(agg, town, tmp_path / "a", code)
    out = enroll(agg, town, tmp_path / "b", code)
    assert "enrol.used" in out and "已使用过" in out
    assert not (tmp_path / "b" / "keys" / "node.cert").exists()


def test_an_expired_code_is_refused(agg: Aggregator, town: str, tmp_path: Path) -> None:
    long_ago = time.time_ns() // 1_000_000 - 3 * DAY_MS
    code, _ = create_invite(agg.admin_dir, NodeId.for_code(V), long_ago, DAY_MS)
    out = enroll(agg, town, tmp_path / "v", format_code(code))
    assert "enrol.expired" in out and "过期" in out
    assert LOCAL.search(out)
    # Not used up by the refusal: it is still pending (and still expired).
    assert (agg.admin_dir / "invites" / f"{invite_id(code)}.json").exists()


def test_a_code_for_another_node_is_refused(agg: Aggregator, town: str, tmp_path: Path) -> None:
    code = invite(agg, V, "village", tmp_path / "v.html")
    out = enroll(agg, town, tmp_path / "other", code, node=V2)
    assert "enrol.wrong_node" in out and "village:440104001002" in out
    # The right PC can still use it.
    enrolled(agg, town, tmp_path / "v", code)


def test_an_unknown_code_is_refused(agg: Aggregator, town: str, tmp_path: Path) -> None:
    invite(agg, V, "village", tmp_path / "v.html")
    out = enroll(agg, town, tmp_path / "v", "ZZZZ-ZZZZ-ZZZZ")
    assert "enrol.unknown" in out and "输错" in out


def test_a_forged_request_is_refused(agg: Aggregator, town: str, tmp_path: Path) -> None:
    """Someone who saw the invitation's id on the wire (not its code) asks for a
    certificate of their own keys: the MAC is not the code's."""
    import requests

    from protocol import KemPrivateKey, SigningKey

    code = invite(agg, V, "village", tmp_path / "v.html")
    raw = bytearray(
        encode_request(
            "ZZZZZZZZZZZZ",
            NodeId.for_code(V),
            SigningKey.generate(),
            KemPrivateKey.generate().public_key,
            time.time_ns() // 1_000_000,
        )
    )
    # Put the real invitation's id in the signed body by re-signing with our own key.
    forged = encode_request_with_invite(code)
    for body in (bytes(raw), forged):
        resp = requests.post(town + "/enrol/v1/request", data=body, timeout=30)
        assert resp.status_code in (400, 401), resp.text
    resp = requests.post(town + "/enrol/v1/request", data=forged, timeout=30)
    assert resp.json()["problems"][0]["code"] == "enrol.forged"
    # The invitation is still there for the real PC.
    enrolled(agg, town, tmp_path / "v", code)


def encode_request_with_invite(code: str) -> bytes:
    """A request naming ``code``'s invitation, MACed with a guessed code."""
    from protocol import KemPrivateKey, SigningKey
    from protocol.binary import blob32
    from protocol.enrolment import REQUEST_CONTEXT, REQUEST_MAGIC, _mac, code_key
    from protocol.signed import b64, sign_object

    signing = SigningKey.generate()
    body = {
        "v": 1,
        "type": "enrol_request",
        "invite": invite_id(code),
        "node": f"village:{V}",
        "suite": int(signing.suite),
        "verify_key": b64(signing.verify_key.raw),
        "kem_key": b64(KemPrivateKey.generate().public_key.raw),
        "at": time.time_ns() // 1_000_000,
    }
    signed = sign_object(body, signing)
    return REQUEST_MAGIC + blob32(signed) + _mac(code_key("ZZZZZZZZZZZZ"), REQUEST_CONTEXT, signed)


def test_an_answer_changed_on_the_way_is_refused(agg: Aggregator, tmp_path: Path) -> None:
    """A relay that swaps the root in the answer: the MAC no longer holds, nothing is
    written, and the PC says so."""
    import requests

    from node.errors import NodeError
    from node.keys.enrolment import enrol_with_code

    code = invite(agg, T, "township", tmp_path / "t.html")
    data_dir = tmp_path / T
    NodeStore.init(data_dir, NodeId.for_code(T), "镇").close()

    def tampering(url: str, data: bytes) -> requests.Response:
        resp = requests.post(url, data=data, timeout=30)
        body = bytearray(resp.content)
        body[-40] ^= 1
        resp._content = bytes(body)
        return resp

    with pytest.raises(NodeError) as refused:
        enrol_with_code(data_dir, code, agg.county_url, time.time_ns() // 1_000_000,
                        post=tampering)  # fmt: skip
    assert refused.value.code == "enrol_bad_answer"
    assert not (data_dir / "keys" / "node.cert").exists()


def test_the_root_stays_offline(agg: Aggregator) -> None:
    """Item 1: the aggregator's directory holds the issuing key only; it opens without
    the root, and the root opens only with its own passphrase."""
    from node.keys.offline_root import OfflineRoot

    admin = CountyAdmin.open(agg.admin_dir)
    root = OfflineRoot.open(agg.root_dir)
    assert admin.root.raw == root.cert.raw
    admin.issuing.signed.verify(root.cert.verify_key)
    assert admin.signing.verify_key.raw != root.signing.verify_key.raw
    assert sorted(p.name for p in agg.root_dir.iterdir()) == ["root.cert", "root.key"]


def test_malformed_requests_get_a_reason_never_a_500(
    agg: Aggregator, town: str, tmp_path: Path
) -> None:
    """At the county, at a relaying township, and at a node that takes no enrolments."""
    import requests

    lone = tmp_path / "lone"
    NodeStore.init(lone, NodeId.for_code("440104002"), "孤镇").close()
    nowhere = agg.serve(lone)
    for url in (agg.county_url, town, nowhere):
        for body in (b"", b"RKQ1", b"RKQ1\x00\x00\x00\x05hello" + b"\x00" * 32, b"x" * 300_000):
            resp = requests.post(url + "/enrol/v1/request", data=body, timeout=30)
            assert 400 <= resp.status_code < 500, (url, body[:8], resp.status_code, resp.text)
            assert resp.json()["ok"] is False and resp.json()["zh"]


def test_enrolment_keeps_the_parents_address_for_sync(
    agg: Aggregator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``renkou node sync`` needs no --parent-url after ``renkou node enroll``: the
    address the PC enrolled through is its parent's (the county for a township, the
    township for a village enrolled --via it), kept in keys/parent.url."""
    monkeypatch.delenv("RENKOU_PARENT_URL", raising=False)
    town_dir, village_dir = tmp_path / T, tmp_path / V
    code = invite(agg, T, "township", tmp_path / "t.html")
    out = run("node", "enroll", "--node", T, "--name", "镇", "--code", code,
              "--county-url", agg.county_url, "--data-dir", str(town_dir))  # fmt: skip
    assert f"renkou node sync --data-dir {town_dir}" in out
    town_url = agg.serve(town_dir, RENKOU_PARENT_URL=agg.county_url)
    code = invite(agg, V, "village", tmp_path / "v.html")
    via = ["--county-url", agg.county_url, "--via", town_url, "--data-dir", str(village_dir)]
    run("node", "enroll", "--node", V, "--name", "村", "--code", code, *via)
    assert (village_dir / "keys" / "parent.url").read_text().strip() == town_url
    assert (town_dir / "keys" / "parent.url").read_text().strip() == agg.county_url
    pushed = run("--lang", "en", "node", "sync", "--data-dir", str(village_dir))
    assert "Pushed 1 entries" in pushed
    up = run("--lang", "en", "node", "sync", "--data-dir", str(town_dir))
    assert "forwarded 1 envelopes" in up
    # A village enrolled straight at the county keeps no parent: the county is not it.
    code = invite(agg, V2, "village", tmp_path / "v2.html")
    straight = tmp_path / V2
    out = run("node", "enroll", "--node", V2, "--name", "村", "--code", code,
              "--county-url", agg.county_url, "--data-dir", str(straight))  # fmt: skip
    assert not (straight / "keys" / "parent.url").exists() and "--parent-url URL" in out
    refused = CliRunner().invoke(cli, ["--lang", "en", "node", "sync", "--data-dir", str(straight)])
    assert (
        refused.exit_code == 2
        and "--parent-url (or RENKOU_PARENT_URL) is required" in refused.output
    )
