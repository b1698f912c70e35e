# SPDX-License-Identifier: Apache-2.0
"""Peer counties (issue 14 item 4): the administrators compare root fingerprints by
phone, ours cross-certifies the peer's root, and a certificate of the peer's nodes is
then accepted by our county node; one from a county we do not trust is refused naming
its root. Over real HTTP on loopback: a node of the peer county presents its
certificate to our county node's server."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from deploy.cli import cli
from node.admin import ROOT_DIR, CountyAdmin
from node.store.store import NodeStore
from node.sync.failures import SessionFailed
from node.sync.link import ParentLink
from protocol import NodeId, decode_certificate, issue_certificate
from protocol.fingerprints import fingerprint
from protocol.testing import make_node
from tests.node.sync.network import County, loopback_county

PEER = "440105"


def now() -> int:
    return time.time_ns() // 1_000_000


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {"440104001": []}) as c:
        yield c


@pytest.fixture
def peer(tmp_path: Path) -> tuple[CountyAdmin, NodeStore]:
    """County 440105: its root and its county node (enrolled), as its own PCs hold them."""
    admin = CountyAdmin.create(tmp_path / "peer-admin", PEER, now())
    store = NodeStore.init(tmp_path / "peer-county", NodeId.for_code(PEER), "邻县")
    cert = admin.certify(store.data_dir, now())
    admin.enrol(store.data_dir, cert, cert, cert)
    return admin, store


def _present(county: County, store: NodeStore) -> SessionFailed:
    """The peer's node opens a session at our county node: what is the answer?"""
    own = decode_certificate((store.data_dir / "keys" / "node.cert").read_bytes())
    link = ParentLink(store, county.county.url, county.admin.issued("440104"), own, now_ms=now)
    with pytest.raises(SessionFailed) as refused:
        link.open_session()
    return refused.value


def _ours(county: County) -> list[str]:
    """Our administrator's directory and root stick (CountyAdmin.create's default)."""
    admin = county.admin.directory
    return ["--admin-dir", str(admin), "--root-dir", str(admin / ROOT_DIR)]


def _trust(county: County, admin: CountyAdmin, *extra: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["keys", "trust", "--peer-root", str(admin.directory / "root.cert")]
        + ["--peer-issuing", str(admin.directory / "issuing.cert"), *_ours(county)]
        + ["--county-data-dir", str(county.county.store.data_dir), *extra],
    )


def test_fingerprints_are_digits_for_the_phone() -> None:
    """Six groups of five digits; the same keys re-certified keep them, other keys not."""
    root = make_node(PEER)
    digits = fingerprint(root.cert)
    assert re.fullmatch(r"[0-9]{5}( [0-9]{5}){5}", digits)
    longer = issue_certificate(
        root.signing, root.node, serial=7, node=root.node, verify_key=root.signing.verify_key,
        kem_key=root.kem.public_key, not_before=0, not_after=2**53 - 1,
    )  # fmt: skip
    assert digits == fingerprint(decode_certificate(longer))
    assert digits != fingerprint(make_node("440106").cert)


def test_a_peer_county_is_trusted_only_with_the_fingerprint_heard(
    county: County, peer: tuple[CountyAdmin, NodeStore]
) -> None:
    admin, store = peer
    untrusted = _present(county, store)
    assert untrusted.code == "bad_certificate"
    assert "county:440105" in untrusted.detail["en"] and "does not trust" in untrusted.detail["en"]

    wrong = _trust(county, admin, "--fingerprint", "00000 00000 00000 00000 00000 00000")
    assert wrong.exit_code == 1 and "fingerprint_mismatch" in wrong.output
    assert not (county.admin.directory / "peers").exists()
    assert not (county.county.store.data_dir / "keys" / "peers").exists()
    said_no = CliRunner().invoke(
        cli,
        ["keys", "trust", "--peer-root", str(admin.directory / "root.cert"), *_ours(county)],
        input="n\n",
    )
    assert said_no.exit_code == 1 and "fingerprint_mismatch" in said_no.output

    heard = fingerprint(admin.root)
    done = _trust(county, admin, "--fingerprint", heard)
    assert done.exit_code == 0, done.output
    assert heard in done.output and "cross-certified county:440105" in done.output
    held = county.county.store.data_dir / "keys" / "peers" / "440105.cert"
    assert held.exists() and os.stat(held).st_mode & 0o777 == 0o644

    # Now the peer's certificate verifies; its node is still no child of ours, so the
    # session itself is refused for that reason, not for its root.
    trusted = _present(county, store)
    assert trusted.code == "not_child", trusted.detail


def test_a_forged_certificate_in_the_peers_name_is_refused(
    county: County, peer: tuple[CountyAdmin, NodeStore], tmp_path: Path
) -> None:
    """Someone makes a root of their own for county 440105 and certifies a node with it:
    our cross-certificate names the real root's keys, so the signature fails."""
    admin, _ = peer
    assert _trust(county, admin, "--fingerprint", fingerprint(admin.root)).exit_code == 0
    forger = CountyAdmin.create(tmp_path / "forger", PEER, now())
    fake = NodeStore.init(tmp_path / "fake", NodeId.for_code(PEER), "假")
    cert = forger.certify(fake.data_dir, now())
    forger.enrol(fake.data_dir, cert, cert, cert)
    refused = _present(county, fake)
    assert refused.code == "bad_signature", refused.detail


@pytest.mark.parametrize(
    ("what", "code"), [("our own root", "bad_peer_root"), ("a node certificate", "bad_peer_root")]
)
def test_only_another_countys_root_can_be_trusted(county: County, what: str, code: str) -> None:
    path = county.admin.directory / "root.cert"
    if what == "a node certificate":
        path = county.admin.directory / "issued" / "440104001.cert"
    result = CliRunner().invoke(
        cli, ["keys", "trust", "--peer-root", str(path), "--fingerprint", "1", *_ours(county)]
    )
    assert result.exit_code == 1 and code in result.output
