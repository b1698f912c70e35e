# SPDX-License-Identifier: Apache-2.0
"""What the terminal prints, in the officer's language: the node's and the county's
commands' output and click's own words (usage, errors) through the one catalogue
(issue 15 item 10); English with ``--lang en`` or an English locale."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.i18n import translations
from node.i18n.cli import CLICK_MESSAGES

ZH = {"LANG": "zh_CN.UTF-8"}
CLICK_SOURCE = "\n".join(
    p.read_text("utf-8") for p in sorted(Path(click.__file__).parent.glob("*.py"))
)


@pytest.mark.parametrize("message", CLICK_MESSAGES)
def test_each_click_message_we_translate_is_still_clicks(message: str) -> None:
    """A click upgrade that renames a message would leave our translation unused."""
    assert repr(message)[1:-1] in CLICK_SOURCE or message in CLICK_SOURCE
    assert translations().gettext(message) != message


def test_usage_and_errors_of_click_are_chinese_by_default() -> None:
    runner = CliRunner()
    helped = runner.invoke(cli, ["node", "due", "--help"], env=ZH)
    assert helped.output.startswith("用法：") and "选项" in helped.output
    assert "显示本帮助并退出。" in helped.output and "Usage:" not in helped.output
    wrong = runner.invoke(cli, ["node", "due", "--today", "someday"], env=ZH)
    assert wrong.exit_code == 2
    assert "错误：" in wrong.output and "的值无效" in wrong.output
    assert "查看帮助" in wrong.output
    unknown = runner.invoke(cli, ["node", "frob"], env=ZH)
    assert "没有命令 'frob'" in unknown.output
    missing = runner.invoke(cli, ["node", "init", "--code", "441322119001"], env=ZH)
    assert "缺少选项" in missing.output


def test_click_speaks_english_on_request() -> None:
    runner = CliRunner()
    wrong = runner.invoke(cli, ["--lang", "en", "node", "due", "--today", "someday"])
    assert "Error: Invalid value for '--today'" in wrong.output
    assert runner.invoke(
        cli, ["node", "due", "--help"], env={"LANG": "en_US.UTF-8"}
    ).output.startswith("Usage:")


def test_the_county_commands_help_is_chinese() -> None:
    out = CliRunner().invoke(cli, ["county", "--help"], env=ZH).output
    assert "县汇总" in out and "冲突队列" in out
    merge = CliRunner().invoke(cli, ["county", "merge", "--help"], env=ZH).output
    assert "合并上次合并以来收到的变更" in merge and "示例：" in merge


def test_node_commands_print_chinese_and_english_on_request(tmp_path: Path) -> None:
    runner = CliRunner()
    where = str(tmp_path / "v")
    made = runner.invoke(cli, ["node", "init", "--code", "441322119001", "--name", "上南村",
                               "--data-dir", where], env=ZH)  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "已在" in made.output and "下一步" in made.output
    status = runner.invoke(cli, ["node", "status", "--data-dir", where], env=ZH)
    assert re.search(r"^节点：\s+village:441322119001", status.output, re.M)
    assert "记录：" in status.output
    english = runner.invoke(cli, ["--lang", "en", "node", "status", "--data-dir", where])
    assert re.search(r"^Node:\s+village:441322119001", english.output, re.M)
    due = runner.invoke(cli, ["node", "due", "--data-dir", where], env=ZH)
    assert due.output.strip().endswith("项待办")
    refused = runner.invoke(cli, ["node", "retention", "delete", "P1", "--data-dir", where],
                            env=ZH)  # fmt: skip
    assert "受控删除须加 --yes 确认" in refused.output


def test_county_output_is_chinese(tmp_path: Path) -> None:
    runner = CliRunner()
    where = str(tmp_path / "c")
    made = runner.invoke(cli, ["node", "init", "--code", "441322", "--name", "博罗县",
                               "--data-dir", where], env=ZH)  # fmt: skip
    assert made.exit_code == 0, made.output
    merged = runner.invoke(cli, ["county", "merge", "--data-dir", where], env=ZH)
    assert merged.exit_code == 0, merged.output
    assert "已合并" in merged.output and "乡镇向下转发" in merged.output
    listed = runner.invoke(cli, ["county", "conflicts", "list", "--data-dir", where], env=ZH)
    assert "共 0 项冲突" in listed.output
