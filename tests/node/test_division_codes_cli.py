# SPDX-License-Identifier: Apache-2.0
"""Issue 12 item 8: a county root and a node exist only for codes of the shipped list."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli


@pytest.mark.parametrize("code", ["449999", "440100", "44010", "abcdef"])
def test_init_county_refuses_a_code_that_is_no_county(tmp_path: Path, code: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["keys", "init-county", "--code", code, "--admin-dir", str(tmp_path / "a"),
         "--root-dir", str(tmp_path / "r")],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "区划代码" in result.output and "code" in result.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "r").exists()


@pytest.mark.parametrize("code", ["449999", "449999001", "449999001001", "440104999"])
def test_node_init_refuses_a_code_outside_the_list(tmp_path: Path, code: str) -> None:
    result = CliRunner().invoke(
        cli, ["node", "init", "--code", code, "--name", "某村", "--data-dir", str(tmp_path / "n")]
    )
    assert result.exit_code != 0 and "代码" in result.output
    assert not (tmp_path / "n" / "node.db").exists()


def test_a_listed_county_is_accepted(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["keys", "init-county", "--code", "440104", "--admin-dir", str(tmp_path / "a"),
         "--root-dir", str(tmp_path / "r")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_node_init_refuses_a_name_with_control_characters(tmp_path: Path) -> None:
    """Issue 13 item 9: the village name is printed in every register's title."""
    result = CliRunner().invoke(
        cli,
        ["node", "init", "--code", "440104001002", "--name", "上南\x1b[2J村",
         "--data-dir", str(tmp_path / "n")],
    )  # fmt: skip
    assert result.exit_code != 0 and "控制字符" in result.output
    assert not (tmp_path / "n" / "node.db").exists()
