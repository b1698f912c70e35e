# SPDX-License-Identifier: Apache-2.0
"""`renkou node sync` against a real township server on loopback."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from deploy.cli import cli
from tests.node.sync.network import loopback_county

V, T = "440104001002", "440104001"


def test_sync_command(tmp_path: Path) -> None:
    """Issue 4: `renkou node sync` runs one round; a second one has nothing to do."""
    runner = CliRunner()
    with loopback_county(tmp_path, {T: [V]}) as county:
        village = county.villages[V]
        url = county.towns[T].url
        args = ["--lang", "en", "node", "sync", "--parent-url", url, "--data-dir",
                str(village.data_dir)]  # fmt: skip
        first = runner.invoke(cli, args)
        assert first.exit_code == 0, first.output
        assert "Pushed 1 entries" in first.output
        second = runner.invoke(cli, args)
        assert "Nothing to sync" in second.output


def test_sync_without_parent(tmp_path: Path) -> None:
    runner = CliRunner()
    with loopback_county(tmp_path, {T: [V]}) as county:
        data_dir = str(county.villages[V].data_dir)
        result = runner.invoke(cli, ["node", "sync", "--data-dir", data_dir], env={})
        assert result.exit_code == 2 and "--parent-url" in result.output
        bad = runner.invoke(
            cli, ["node", "sync", "--parent-url", "http://127.0.0.1:9", "--data-dir", data_dir],
            env={"LANG": "zh_CN.UTF-8"},
        )  # fmt: skip
        assert bad.exit_code == 2 and bad.output.startswith("同步失败：")
        assert "同步失败：同步失败" not in bad.output
