# SPDX-License-Identifier: Apache-2.0
"""`renkou keys`: a county root, enrolment in order, revocation of a lost PC."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from deploy.cli import cli
from node.identity import load_certificate
from node.store.store import NodeStore
from node.sync.trust import Trust

Renkou = Callable[..., str]


def test_enrol_in_order_and_revoke(
    tmp_path: Path, runner: CliRunner, renkou: Renkou, admin_dir: str, node_dirs: dict[str, str]
) -> None:
    """Administrators create the root, enrol county, town and village, and revoke a PC."""
    admin, dirs = admin_dir, node_dirs
    early = runner.invoke(
        cli, ["keys", "enrol", "--admin-dir", admin, "--data-dir", dirs["440104001002"]]
    )
    assert early.exit_code != 0 and "before" in early.output
    for d in dirs.values():
        said = renkou("keys", "enrol", "--admin-dir", admin, "--data-dir", d)
        assert re.search(r"^Enrolled \S+ \(certificate \d+, valid until \d{4}-\d\d-\d\d\)", said)
    village = Path(dirs["440104001002"])
    parent = load_certificate(village, "parent.cert")
    assert parent is not None and str(parent.node) == "township:440104001"
    out = renkou(
        "keys",
        "revoke",
        "--code",
        "440104001002",
        "--reason",
        "stolen",
        "--valid-through",
        "village:440104001002#1=1",
        "--admin-dir",
        admin,
    )
    assert "revocations.signed" in out
    crl = (tmp_path / "admin" / "revocations.signed").read_bytes()
    (Path(dirs["440104001"]) / "keys" / "revocations.signed").write_bytes(crl)
    store = NodeStore.open(dirs["440104001"])
    trust = Trust.load(store.db, store.data_dir)
    store.close()
    assert trust.crl is not None and len(trust.crl.revoked) == 1


def test_revoke_bad_log(runner: CliRunner, admin_dir: str) -> None:
    admin = admin_dir
    result = runner.invoke(
        cli,
        [
            "keys",
            "revoke",
            "--code",
            "440104001002",
            "--reason",
            "lost",
            "--valid-through",
            "nonsense=3",
            "--admin-dir",
            admin,
        ],
    )
    assert result.exit_code == 1 and "error" in result.output


def test_a_node_of_another_suite_is_refused_at_enrolment(
    tmp_path: Path, runner: CliRunner, admin_dir: str
) -> None:
    """SPEC §4: no suite mixing in an envelope, so a classical node under a hybrid
    county could never sync; the administrator hears it at enrolment, in both languages."""
    from protocol import NodeId, Suite

    admin = admin_dir
    NodeStore.init(tmp_path / "c", NodeId.for_code("440104"), "县", Suite.CLASSIC).close()
    refused = runner.invoke(
        cli, ["keys", "enrol", "--admin-dir", admin, "--data-dir", str(tmp_path / "c")]
    )
    assert refused.exit_code == 1
    assert "suite_mismatch" in refused.output and "密钥算法" in refused.output
    assert not (tmp_path / "c" / "keys" / "node.cert").exists()
