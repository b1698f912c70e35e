# SPDX-License-Identifier: Apache-2.0
"""``renkou node status`` and ``renkou node sync`` in the officer's language (issue 15
item 10): every line through the catalogue, Chinese by default, English with --lang en.

A village of a real loopback county that has synced, whose entries the county merged
(one value gave way to another village's), and to which its township relayed a refusal
in its own name: acknowledgements, the merge, the relayed refusal, the advisories, the
revocation list, the alerts and the audit trail each print a line.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from county_aggregator.merge import merge_new
from county_aggregator.notices import send_notices
from county_aggregator.store import init_merged
from deploy.cli import cli
from node.store.outbox import Outbox
from protocol import NodeId, RejectionNotice, sign_rejection
from tests.county_aggregator.scenario import card, id_number
from tests.node.english import english_runs
from tests.node.sync.network import County, loopback_county

H, R = "440104001002", "440104002001"
T1, T2 = H[:9], R[:9]
IDN = id_number("1990-03-04", 7)
ZH = {"LANG": "zh_CN.UTF-8"}


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T1: [H], T2: [R]}) as c:
        yield c


def _synced(county: County) -> Path:
    """Village R after a merge whose outcome it heard, and a refusal relayed by T2."""
    h, r = county.villages[H], county.villages[R]
    h.write([h.upsert_op("person", "P1", card(IDN, "王芳", "1990-03-04", H, R))])
    r.write([r.upsert_op("person", "P7", card(IDN, "王芳", "1990-03-04", H, R, hukou_address="?"))])
    for code in (H, R, T1, T2):
        county.client(code).sync_round()
    merged = init_merged(Database(memory=True))
    merge_new(county.county.store.db, merged)
    send_notices(merged, county.county.store, 0)
    town = county.towns[T2].store
    notice = RejectionNotice(
        NodeId.parse("county:440104"),
        town.node,
        r.changelog.log,
        1,
        1,
        "fork",
        "县里说此批次与已收到的不一致",
        int(time.time() * 1000),
    )
    with town.db.atomic():
        Outbox(town.db).add(f"village:{R}", sign_rejection(notice, town.identity.signing))
    for code in (T1, T2, H, R):
        county.client(code).sync_round()
    return r.data_dir


def test_status_is_chinese_throughout_and_english_on_request(county: County) -> None:
    where = str(_synced(county))
    runner = CliRunner()
    zh = runner.invoke(cli, ["node", "status", "--data-dir", where], env=ZH)
    assert zh.exit_code == 0, zh.output
    assert english_runs(zh.output) == [], zh.output
    shown = ("已确认：", "县已合并：", "被县权威值取代：", "上级转告被拒收：")
    for said in (*shown, "县的冲突处理意见：收到 0", "吊销名单：  未安装", "无警报", "审计记录："):
        assert said in zh.output, (said, zh.output)
    en = runner.invoke(cli, ["--lang", "en", "node", "status", "--data-dir", where])
    assert en.exit_code == 0, en.output
    for said in ("acked:     county:440104 holds", "merged:    county merged",
                 "county superseded:", f"told by township:{T2}: fork",
                 "advisories: 0 received", "revocations: none installed",
                 "alerts:    none", "audit:     "):  # fmt: skip
        assert said in en.output, (said, en.output)
    assert not re.search(r"已确认|县已合并|无警报|审计记录", en.output)
    assert english_runs(en.output)  # sentences, as the English catalogue says them


def test_sync_says_it_in_chinese(county: County) -> None:
    village = county.villages[H]
    parent = county.towns[T1].url
    where = str(village.data_dir)
    runner = CliRunner()
    village.write([village.upsert_op("person", "P1", card(IDN, "王芳", "1990-03-04", H, R))])
    pushed = runner.invoke(cli, ["node", "sync", "--parent-url", parent, "--data-dir", where],
                           env=ZH)  # fmt: skip
    assert pushed.exit_code == 0, pushed.output
    assert english_runs(pushed.output) == [] and "已发送" in pushed.output, pushed.output
    idle = runner.invoke(cli, ["--lang", "en", "node", "sync", "--parent-url", parent,
                               "--data-dir", where])  # fmt: skip
    assert "Nothing to sync" in idle.output or "Pushed 0 entries" in idle.output, idle.output
    down = runner.invoke(cli, ["node", "sync", "--parent-url", "http://127.0.0.1:9",
                               "--data-dir", where], env=ZH)  # fmt: skip
    assert down.exit_code == 2 and down.output.startswith("同步失败：")
    assert english_runs(down.output) == [], down.output
