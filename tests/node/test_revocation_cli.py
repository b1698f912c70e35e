# SPDX-License-Identifier: Apache-2.0
"""`renkou keys revoke --county-data-dir` and `install-revocations` put the list where
sync passes it down from; `renkou node status` names the list a node holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from deploy.cli import cli
from node.sync.revocations import held_version

Renkou = Callable[..., str]


def test_revoke_installs_the_list_at_the_county_node(
    renkou: Renkou, admin_dir: str, node_dirs: dict[str, str]
) -> None:
    admin, dirs = admin_dir, node_dirs
    for d in dirs.values():
        renkou("keys", "enrol", "--admin-dir", admin, "--data-dir", d)
    county = dirs["440104"]
    assert "revocations: none installed" in renkou("node", "status", "--data-dir", county)
    out = renkou(
        *("keys", "revoke", "--code", "440104001002", "--reason", "lost"),
        *("--admin-dir", admin, "--county-data-dir", county),
    )
    assert "installed at the county node" in out
    assert held_version(Path(county)) == 1
    again = renkou("keys", "install-revocations", "--admin-dir", admin, "--data-dir", county)
    assert "already installed" in again
    town = dirs["440104001"]
    fresh = renkou("keys", "install-revocations", "--admin-dir", admin, "--data-dir", town)
    assert "version 1" in fresh and held_version(Path(town)) == 1
    assert "revocations: version 1, 1 revoked" in renkou("node", "status", "--data-dir", county)


def test_a_protocol_error_is_told_in_its_own_words(
    runner: CliRunner, renkou: Renkou, admin_dir: str, node_dirs: dict[str, str]
) -> None:
    """A list that is not one is refused with its code's own Chinese (the table the sync
    server's error bodies use) and English, not a generic 数据无效."""
    admin, county = Path(admin_dir), node_dirs["440104"]
    renkou("keys", "enrol", "--admin-dir", str(admin), "--data-dir", county)
    (admin / "revocations.signed").write_bytes(b"not a revocation list")
    result = runner.invoke(
        cli, ["keys", "install-revocations", "--admin-dir", str(admin), "--data-dir", county]
    )
    assert result.exit_code == 1
    assert "错误 / error [malformed]: 数据格式错误，已拒收（" in result.output
    assert "数据无效" not in result.output
