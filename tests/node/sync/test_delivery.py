# SPDX-License-Identifier: Apache-2.0
"""Issue 12 item 3, delivery you can see: a village shows what its township confirmed
and the county has not, with counts and dates, and raises an alert when the county's
confirmation lags the township's by more than a set time (3 days unless configured).

A township that acknowledges and withholds (here: one that takes the village's batches
and never hands them up) is thereby visible at the village. Real servers on loopback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.sync.delivery import DAY_MS, delivery, lag_days, relay_acknowledged
from node.sync.status import delivery_lines
from tests.node.sync.faults import no_sleep, write
from tests.node.sync.network import County, SimClock, loopback_county

V1, T = "440104001002", "440104001"
HOUR_MS = 3_600_000


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V1]}, clock=SimClock()) as c:
        yield c


def _round(county: County, code: str) -> None:
    county.client(code, sleep=no_sleep).sync_round()


def _now(county: County) -> int:
    assert county.clock is not None
    return county.clock()


def _advance(county: County, ms: int) -> None:
    clock = county.clock
    assert isinstance(clock, SimClock)
    clock.advance(ms)


def test_a_withholding_township_raises_the_alert_after_three_days(county: County) -> None:
    village = county.villages[V1]
    write(village, 5)  # 6 entries
    _round(county, V1)  # the township acknowledges them... and never hands them up
    sent = delivery(village.db, village.changelog.log, village.changelog.head_seq)
    assert (sent.relay, sent.relay_seq, sent.county_seq) == (f"township:{T}", 6, 0)
    assert sent.at_relay_only == 6 and sent.unconfirmed == 0
    _advance(county, 3 * DAY_MS - HOUR_MS)
    assert not sent.lagging(_now(county))
    lines = delivery_lines(sent, _now(county))
    assert any("6" in line and f"township:{T}" in line for line in lines), lines
    assert not any("警报" in line or "ALERT" in line for line in lines)
    _advance(county, 2 * HOUR_MS)  # three days and an hour
    assert sent.lagging(_now(county))
    alert = delivery_lines(sent, _now(county))[-1]
    assert ("警报" in alert or "ALERT" in alert) and f"township:{T}" in alert
    assert not sent.lagging(_now(county), days=5)  # the threshold is configurable
    _round(county, T)  # the township hands them up at last; the county confirms
    _round(county, V1)
    healed = delivery(village.db, village.changelog.log, village.changelog.head_seq)
    assert healed.county_seq == 6 and healed.at_relay_only == 0
    assert not healed.lagging(_now(county))


def test_the_lag_runs_from_the_first_change_the_county_lacks(county: County) -> None:
    """The township confirming newer changes does not restart the clock of older ones."""
    village = county.villages[V1]
    write(village, 2)
    _round(county, V1)
    _advance(county, 2 * DAY_MS)
    write(village, 2)
    _round(county, V1)  # a newer confirmation by the township, the county still at 0
    _advance(county, DAY_MS + HOUR_MS)
    sent = delivery(village.db, village.changelog.log, village.changelog.head_seq)
    assert sent.relay_at == _now(county) - DAY_MS - HOUR_MS
    assert sent.relay_since == sent.relay_at - 2 * DAY_MS
    assert sent.lagging(_now(county))


def test_milestones_keep_the_oldest_time_when_they_overflow(county: County) -> None:
    village = county.villages[V1]
    log = village.changelog.log
    for seq in range(1, 200):
        relay_acknowledged(village.db, log, seq, 1_000 + seq)
    relay_acknowledged(village.db, log, 150, 99_999)  # not further: ignored
    from node.store.acks import PeerAcks

    PeerAcks(village.db).keep(b"x", f"township:{T}", str(log), 199, bytes(32), 1_199)
    sent = delivery(village.db, log, 199)
    assert sent.relay_since == 1_001  # the first change the county lacks, or earlier


def test_the_threshold_is_checked() -> None:
    assert lag_days() == 3
    assert lag_days("7") == 7
    for wrong in ("0", "366", "three"):
        with pytest.raises(ValueError):
            lag_days(wrong)


def test_renkou_node_status_shows_it_in_chinese(tmp_path: Path) -> None:
    """The CLI on real time: the township confirmed five days ago, the county never."""
    clock = SimClock(time.time_ns() // 1_000_000 - 5 * DAY_MS)
    with loopback_county(tmp_path, {T: [V1]}, clock=clock) as c:
        village = c.villages[V1]
        write(village, 3)
        c.client(V1, sleep=no_sleep).sync_round()
        data_dir = str(village.data_dir)
        env = {"LANG": "zh_CN.UTF-8"}
        out = CliRunner().invoke(cli, ["node", "status", "--data-dir", data_dir], env=env)
        assert out.exit_code == 0, out.output
        assert "县级尚未确认：4 条变更（序号 1-4）" in out.output
        assert "警报：" in out.output and "超过 3 天" in out.output
        calm = CliRunner().invoke(
            cli, ["node", "status", "--data-dir", data_dir, "--county-lag-days", "6"], env=env
        )
        assert "警报：" not in calm.output and "县级尚未确认：4 条变更" in calm.output
        by_env = CliRunner().invoke(
            cli,
            ["node", "status", "--data-dir", data_dir],
            env={**env, "RENKOU_COUNTY_LAG_DAYS": "6"},
        )
        assert "警报：" not in by_env.output


def test_the_sync_status_page_shows_it_and_the_alert(tmp_path: Path) -> None:
    from node.pages.accounts import add_operator
    from node.server import create_app
    from node.store.accounts import OperatorStore
    from tests.node.pages.helpers import ACCOUNTS, PASSWORD, START_MS, sign_in

    clock = SimClock(time.time_ns() // 1_000_000 - 5 * DAY_MS)
    with loopback_county(tmp_path, {T: [V1]}, clock=clock) as c:
        village = c.villages[V1]
        write(village, 3)
        c.client(V1, sleep=no_sleep).sync_round()
        add_operator(OperatorStore(village.db), ACCOUNTS["village_officer"], "village_officer",
                     PASSWORD, START_MS)  # fmt: skip
        pages = {"RENKOU_DATA_DIR": str(village.data_dir)}
        client = create_app(pages).test_client()
        sign_in(client)
        page = client.get("/sync-status").get_data(as_text=True)
        assert 'id="at-relay-only">4 条变更（序号 1-4），乡镇于' in page
        assert 'id="county-lag"' in page and "超过 3 天" in page
        calm = create_app({**pages, "RENKOU_COUNTY_LAG_DAYS": 6}).test_client()
        sign_in(calm)
        page = calm.get("/sync-status").get_data(as_text=True)
        assert 'id="county-lag"' not in page and 'id="at-relay-only">4 条变更' in page


def test_a_withholding_township_is_visible_at_both_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A township hands up one village's changes and quietly keeps another's, after
    acknowledging them: the village alerts after 3 days, the county lists that village
    as not heard from after 35 days; a village enrolled and never heard from too."""
    from node.sync.relay import Relay

    v2, v3 = "440104001003", "440104001004"
    clock = SimClock(time.time_ns() // 1_000_000 - 40 * DAY_MS)
    with loopback_county(tmp_path, {T: [V1, v2, v3]}, clock=clock) as c:
        for code in (V1, v2):
            write(c.villages[code], 2)
            c.client(code, sleep=no_sleep).sync_round()
        c.client(T, sleep=no_sleep).sync_round()  # 40 days ago: both handed up
        clock.advance(30 * DAY_MS)
        for code in (V1, v2):
            write(c.villages[code], 2)
            c.client(code, sleep=no_sleep).sync_round()  # the township acknowledges both
        honest = Relay._forward_log

        def withholding(self: Relay, log: Any, have: Any, ours: int) -> None:
            if log.node.code != v2:
                honest(self, log, have, ours)

        monkeypatch.setattr(Relay, "_forward_log", withholding)
        c.client(T, sleep=no_sleep).sync_round()  # ten days ago: only V1's go up
        for code in (V1, v2):
            c.client(code, sleep=no_sleep).sync_round()
        now = time.time_ns() // 1_000_000
        village = c.villages[v2]
        sent = delivery(village.db, village.changelog.log, village.changelog.head_seq)
        assert sent.at_relay_only == 2 and sent.lagging(now)  # the village's end
        fine = c.villages[V1]
        assert not delivery(fine.db, fine.changelog.log, fine.changelog.head_seq).lagging(now)

        county_dir = str(c.county.store.data_dir)
        args = ["county", "nodes", "--data-dir", county_dir, "--admin-dir", str(c.admin.directory)]
        out = CliRunner().invoke(cli, args, env={"LANG": "zh_CN.UTF-8"})
        assert out.exit_code == 0, out.output
        lines = {line.split()[0]: line for line in out.output.splitlines() if line}
        assert "警报：已 40 天未收到其数据（超过 35 天）" in lines[f"village:{v2}"]
        assert f"经 township:{T}" in lines[f"village:{v2}"]
        assert "警报" not in lines[f"village:{V1}"] and "县级已有 5 条" in lines[f"village:{V1}"]
        assert "警报" not in lines[f"township:{T}"]
        assert "警报：从未收到其数据" in lines[f"village:{v3}"]
        rows = CliRunner().invoke(cli, [*args, "--json", "--silent-days", "45"])
        alerts = {r["node"] for r in json.loads(rows.output) if r["alert"]}
        assert alerts == {f"village:{v3}"}  # the threshold is configurable
