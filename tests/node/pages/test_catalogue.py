# SPDX-License-Identifier: Apache-2.0
"""Every sentence of the pages and the CLI is in the catalogue, translated, and compiled."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from node.i18n import LOCALE_DIR, translations

PO = LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
ROOT = Path(__file__).resolve().parents[3]
NODE = ROOT / "node"
METHODS = [("**.py", "python"), ("pages/templates/**.html", "jinja2")]
# The county's commands print through the node's catalogue too (and the root command).
ELSEWHERE = [ROOT / "county_aggregator", ROOT / "deploy"]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None}


def _catalogue():  # type: ignore[no-untyped-def]
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh_CN")


def _message_ids() -> set[str]:
    """Messages of the code and templates, click's words we translate, and the help of
    every command an officer, the county or the administrator runs."""
    from deploy.cli import cli
    from node.i18n.cli import CLICK_MESSAGES, help_messages

    found = help_messages(cli) | set(CLICK_MESSAGES)
    sources = [(NODE, METHODS)] + [(d, [("**.py", "python")]) for d in ELSEWHERE]
    for where, methods in sources:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(where), methods, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_code_is_translated() -> None:
    catalogue = _catalogue()
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and (m.string if isinstance(m.string, str) else m.string[0])
    }
    missing = sorted(_message_ids() - translated)
    assert not missing, f"untranslated messages (see node/i18n/__init__.py): {missing}"


def test_the_compiled_catalogue_matches_the_po() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _catalogue())
    compiled.seek(0)
    with MO.open("rb") as fh:
        committed = read_mo(fh)
    fresh = read_mo(compiled)
    assert {m.id: m.string for m in fresh if m.id} == {m.id: m.string for m in committed if m.id}


def test_help_is_chinese_by_default_and_english_on_request() -> None:
    from click.testing import CliRunner

    from deploy.cli import cli

    runner = CliRunner()
    zh = runner.invoke(cli, ["node", "add", "--help"], env={"LANG": "zh_CN.UTF-8"})
    assert "从文件中核查并登记" in zh.output and "示例：" in zh.output
    assert "存放本节点数据库和密钥的目录" in zh.output
    en = runner.invoke(cli, ["--lang", "en", "node", "add", "--help"])
    assert "Validate and record records of KIND" in en.output and "示例：" not in en.output
    by_env = runner.invoke(cli, ["node", "--help"], env={"LANG": "en_US.UTF-8"})
    assert "Village and township node" in by_env.output
    assert "村和乡镇节点" in runner.invoke(cli, ["--lang", "zh", "node", "--help"]).output


def test_chinese_is_the_default_and_english_is_the_message_id() -> None:
    assert translations().gettext("Sign in") == "登录"
    assert translations("en").gettext("Sign in") == "Sign in"
