# SPDX-License-Identifier: Apache-2.0
"""SPEC.md Appendix A describes the key and certificate files the reference writes; these
tests hold the appendix to what `renkou node init` and `renkou keys` really write."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from deploy.cli import cli
from node.admin import YEAR_MS, CountyAdmin
from node.identity import create_identity, load_identity
from node.keys.offline_root import OfflineRoot
from protocol import LogId, NodeId, Suite, decode_certificate, decode_revocations

DAY_MS = 86_400_000
NOW = 1_795_000_000_000


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _sealed_under_the_passphrase(body: dict[str, Any], seed: bytes) -> None:
    """Appendix A: one Argon2id passphrase lock, and no seed readable in the file."""
    [lock] = body["locks"]
    assert ["kind", "kdf", "t", "m", "p", "salt", "wrap"] == list(lock)
    assert ("passphrase", "argon2id") == (lock["kind"], lock["kdf"])
    text = json.dumps(body)
    assert seed.hex() not in text and base64.b64encode(seed).decode() not in text


def _init(runner: CliRunner, code: str, data_dir: Path) -> None:
    args = ["node", "init", "--code", code, "--name", code, "--data-dir", str(data_dir)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output


def test_files_of_a_county(tmp_path: Path) -> None:
    """Appendix A: the administrator's directory and each node's keys/, file by file."""
    runner = CliRunner()
    admin_dir = tmp_path / "admin"
    admin = CountyAdmin.create(admin_dir, "440104", NOW)
    codes = ("440104", "440104001", "440104001002")
    dirs = {code: tmp_path / code for code in codes}
    for code in codes:
        _init(runner, code, dirs[code])
        admin.enrol_node(dirs[code], NOW)

    # The offline root's directory (a USB stick): the root key and its certificate.
    root_dir = admin_dir / "offline-root"
    assert 0o700 == _mode(root_dir)
    root_key = json.loads((root_dir / "root.key").read_text())
    assert ["v", "kind", "node", "suite", "secrets", "locks"] == list(root_key)
    assert (2, "root-key", "county:440104", int(Suite.HYBRID)) == (
        root_key["v"], root_key["kind"], root_key["node"], root_key["suite"]
    )  # fmt: skip
    _sealed_under_the_passphrase(root_key, OfflineRoot.open(root_dir).signing.seed)
    assert 0o600 == _mode(root_dir / "root.key")
    root = decode_certificate((root_dir / "root.cert").read_bytes())
    assert (1, root.node, root.node) == (root.serial, root.issuer, root.node)
    assert (NOW - DAY_MS, NOW + 20 * YEAR_MS) == (root.not_before, root.not_after)

    # The administrator's directory: the issuing key, certified by the root, no root key.
    assert 0o700 == _mode(admin_dir)
    assert not (admin_dir / "root.key").exists()
    issuing_key = json.loads((admin_dir / "issuing.key").read_text())
    assert (2, "issuing-key", "county:440104") == (
        issuing_key["v"], issuing_key["kind"], issuing_key["node"]
    )  # fmt: skip
    _sealed_under_the_passphrase(issuing_key, admin.signing.seed)
    assert 0o600 == _mode(admin_dir / "issuing.key")
    issuing = decode_certificate((admin_dir / "issuing.cert").read_bytes())
    assert (2, root.node, root.node) == (issuing.serial, issuing.issuer, issuing.node)
    assert issuing.verify_key.raw == admin.signing.verify_key.raw
    issuing.signed.verify(root.verify_key)
    assert (admin_dir / "root.cert").read_bytes() == root.raw
    assert "6" == (admin_dir / "next_serial").read_text()

    # Each node's keys/.
    for code, data_dir in dirs.items():
        keys = data_dir / "keys"
        assert 0o700 == _mode(data_dir) == _mode(keys)
        node_key = json.loads((keys / "node.key").read_text())
        assert ["v", "kind", "node", "suite", "secrets", "locks"] == list(node_key)
        assert (2, "node-key") == (node_key["v"], node_key["kind"])
        assert NodeId.for_code(code) == NodeId.parse(node_key["node"])
        _sealed_under_the_passphrase(node_key, load_identity(data_dir).signing.seed)
        assert 0o600 == _mode(keys / "node.key")
        own = (keys / "node.cert").read_bytes()
        assert own == (admin_dir / "issued" / f"{code}.cert").read_bytes()
        cert = decode_certificate(own)
        assert (NOW - DAY_MS, NOW + 2 * YEAR_MS) == (cert.not_before, cert.not_after)
        assert (keys / "root.cert").read_bytes() == (admin_dir / "root.cert").read_bytes()
        assert (keys / "issuing.cert").read_bytes() == issuing.raw
        cert.signed.verify(admin.signing.verify_key)  # signed by the issuing key
    county_cert = (dirs["440104"] / "keys" / "node.cert").read_bytes()
    for name in ("parent.cert", "county.cert"):
        assert county_cert == (dirs["440104"] / "keys" / name).read_bytes()
    village_keys = dirs["440104001002"] / "keys"
    assert (dirs["440104001"] / "keys" / "node.cert").read_bytes() == (
        village_keys / "parent.cert"
    ).read_bytes()
    assert county_cert == (village_keys / "county.cert").read_bytes()
    assert county_cert != (village_keys / "root.cert").read_bytes()


def test_revocation_files(tmp_path: Path) -> None:
    """Appendix A: revocations.json is the working list, revocations.signed the §8.3 list."""
    admin_dir = tmp_path / "admin"
    admin = CountyAdmin.create(admin_dir, "440104", NOW, suite=Suite.CLASSIC)
    for code in ("440104", "440104001"):
        data_dir = tmp_path / code
        create_identity(data_dir, NodeId.for_code(code), Suite.CLASSIC)
        admin.enrol_node(data_dir, NOW)
    log = LogId.parse("township:440104001#1")
    raw = admin.revoke_node("440104001", "lost", {log: 7}, NOW + 5)
    working = json.loads((admin_dir / "revocations.json").read_text())
    assert {"version": 1, "items": [{"serial": 4, "node": "township:440104001", "at": NOW + 5,
            "reason": "lost", "through": {str(log): 7}}]} == working  # fmt: skip
    assert raw == (admin_dir / "revocations.signed").read_bytes()
    crl = decode_revocations(raw, admin.issuing)  # the issuing key signs nodes' lists
    assert (1, {4}) == (crl.version, set(crl.revoked))
