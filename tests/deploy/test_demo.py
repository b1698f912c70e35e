# SPDX-License-Identifier: Apache-2.0
"""`renkou demo --once`, the README's first command, end to end on loopback.

Real stores, real waitress servers, real sync, the county's merge and the outcome
notices back to every village; the summary must say every village was confirmed. It
prints in Chinese by default (issue 15 item 10); its English is checked on a county
of fresh stores (a second whole demo would double the suite's longest test).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from deploy.demo import COUNTY, DEMO_PASSPHRASE, TOWNS, DemoCounty, _sign_ins, _summary
from node.keys.unlock import PASSPHRASE_ENV
from node.store.store import NodeStore
from protocol import NodeId
from tests.node.english import english_runs

ZH = {"LANG": "zh_CN.UTF-8"}


def test_the_demo_county_syncs_merges_and_tells_every_village(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `make demo` on a fresh machine: no passphrase in the environment, no terminal
    # to ask at (the demo chooses one and says it).
    monkeypatch.delenv(PASSPHRASE_ENV)
    result = runner.invoke(cli, ["demo", "--once", "--dir", str(tmp_path)], env=ZH)
    assert result.exit_code == 0, result.output
    assert f"演示用的密钥口令为 {DEMO_PASSPHRASE}" in result.output
    assert english_runs(result.output) == [], result.output
    confirmed = re.findall(r"(\d)/4$", result.output, re.M)
    assert confirmed == ["4", "4", "4"], result.output
    assert "12 个村已收到其条目的合并结果" in result.output
    # Issue 15: every node's pages, with who signs in as whom on each kind of node.
    out = result.output
    assert "各村，账号：officer (村计生专干) · reviewer (乡镇审核员)" in out
    assert "各乡镇，账号：reviewer (乡镇审核员) · admin (县管理员) · auditor (审计员)" in out
    assert "县，账号：statistician (县统计员) · admin (县管理员) · auditor (审计员)" in out
    assert "密码 renkou-demo" in result.output
    assert len(re.findall(r"^  \S+第\d村 +http://127\.0\.0\.1:\d+/$", result.output, re.M)) == 12
    towns = re.findall(r"^  (\S+镇) +http://127\.0\.0\.1:\d+/$", result.output, re.M)
    assert towns == [name for _code, name in TOWNS]
    assert re.findall(r"^  博罗县 +http://127\.0\.0\.1:\d+/$", result.output, re.M)
    listed = re.findall(r"^    (\S+) +(/\S*) +(.+)$", result.output, re.M)
    assert ("各村变更审核", "/review", "reviewer") in listed  # the township's review
    assert listed.count(("同步状态", "/sync-status", "reviewer · admin · auditor")) == 1
    assert ("同步状态", "/sync-status", "statistician · admin · auditor") in listed  # county
    assert ("登记", "/records/new", "officer") in listed  # a village's pages
    stored = int(re.search(r"(\d+) 条已验证并保存", result.output).group(1))
    village = NodeStore.open(tmp_path / "441322119001")
    try:
        assert village.db.execute("SELECT COUNT(*) FROM county_outcome_ranges").fetchone()[0] == 1
    finally:
        village.close()
    county = NodeStore.open(tmp_path / "441322")
    try:
        held = county.db.execute("SELECT COUNT(*) FROM received_entries").fetchone()[0]
    finally:
        county.close()
    assert held == stored > 10_000
    # Issue 14: every town and village PC enrolled with a one-time code over the network
    # (a village through its town), the root offline and never in the aggregator's dir.
    enrolled = re.findall(
        r"^  已登记 (township|village):\d+：一次性码 [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}，"
        r"经 http://127\.0\.0\.1:\d+（",
        result.output,
        re.M,
    )
    assert sorted(enrolled) == ["township"] * 3 + ["village"] * 12, result.output
    assert len(list((tmp_path / "admin" / "invites" / "used").iterdir())) == 15
    assert not (tmp_path / "admin" / "root.key").exists()


def test_the_demo_speaks_english_on_request(tmp_path: Path) -> None:
    """The summary and the sign-ins of a county of fresh stores, with --lang en."""
    from node.i18n import set_cli_locale

    county = DemoCounty(tmp_path)
    codes = [(COUNTY[0], COUNTY[1])] + [(c, n) for c, n in TOWNS]
    codes += [(f"{TOWNS[0][0]}{v:03d}", f"园洲第{v}村") for v in (1, 2)]
    for code, name in codes:
        county.stores[code] = NodeStore.init(tmp_path / code, NodeId.for_code(code), name)
        county.names[code], county.urls[code] = name, f"http://127.0.0.1:{8000 + len(code)}"
    said: list[str] = []
    set_cli_locale("en")
    try:
        _summary(county, said.append)
        _sign_ins(county, said.append, once=True)
    finally:
        set_cli_locale(None)
        county.close()
    text = "\n".join(said)
    assert re.search(r"^town +code +entries at county +villages confirmed$", text, re.M), text
    assert re.search(r"^园洲镇 +441322119 +0 +0/4$", text, re.M), text
    assert "county 博罗县: 0 entries verified and stored" in text
    assert "0 villages told the merge outcome of their entries" in text
    assert (
        "every node's pages: sign in at a node's address with an account of its kind, "
        "password renkou-demo (--once: they stop now)"
    ) in text
    assert re.search(r"^townships, accounts: reviewer \(乡镇审核员\)", text, re.M), text
    assert re.search(r"^    Villages' changes +/review +reviewer$", text, re.M), text
    assert re.search(r"^the county, accounts: statistician", text, re.M), text
    assert re.search(r"^  石湾镇 +http://127\.0\.0\.1:8009/$", text, re.M), text
    assert re.search(r"^  博罗县 +http://127\.0\.0\.1:8006/$", text, re.M), text
