# SPDX-License-Identifier: Apache-2.0
"""The sync status page in Chinese, and "sync now" against a real township on loopback."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from node.pages.accounts import add_operator
from node.recording import add_record
from node.server import create_app
from node.store.accounts import OperatorStore
from tests.bench.bench_store import _cards
from tests.node.pages.helpers import ACCOUNTS, PASSWORD, START_MS, form_token, sign_in
from tests.node.sync.network import loopback_county

TOWN, VILLAGE = "440104001", "440104001002"


def test_status_then_sync_now_then_confirmed(tmp_path: Path) -> None:
    with loopback_county(tmp_path, {TOWN: [VILLAGE]}) as county:
        store = county.villages[VILLAGE]
        card = {**next(_cards(1)), "hukou_code": VILLAGE, "residence_code": VILLAGE}
        add_record(store, "person", card, today=date(2026, 11, 28))
        add_operator(OperatorStore(store.db), ACCOUNTS["village_officer"], "village_officer",
                     PASSWORD, START_MS)  # fmt: skip
        app = create_app(
            {"RENKOU_DATA_DIR": str(store.data_dir), "RENKOU_PARENT_URL": county.towns[TOWN].url}
        )
        client = app.test_client()
        sign_in(client)
        before = client.get("/sync-status").get_data(as_text=True)
        assert "尚未确认" in before
        assert 'id="waiting">2<' in before  # the install entry and the card
        done = client.post(
            "/sync-status/run", data={"csrf_token": form_token(client, "/sync-status")}
        )
        assert done.status_code == 302
        after = client.get("/sync-status").get_data(as_text=True)
        assert "同步完成" in after
        assert 'id="waiting">0<' in after and "2 条变更" in after


def test_sync_now_without_a_parent_says_whom_to_ask(tmp_path: Path) -> None:
    from tests.node.pages.helpers import make_village

    village = make_village(tmp_path)
    client = village.app.test_client()
    sign_in(client)
    client.post("/sync-status/run", data={"csrf_token": form_token(client, "/sync-status")})
    assert "尚未设置上级地址" in client.get("/sync-status").get_data(as_text=True)


def test_the_auditor_sees_the_status_but_cannot_run_a_sync(tmp_path: Path) -> None:
    from tests.node.pages.helpers import make_village

    village = make_village(tmp_path)
    client = village.app.test_client()
    sign_in(client, "auditor")
    assert "立即同步" not in client.get("/sync-status").get_data(as_text=True)
    token = form_token(client, "/sync-status")
    assert client.post("/sync-status/run", data={"csrf_token": token}).status_code == 403


def test_the_status_names_this_node_by_its_name_and_code(tmp_path: Path) -> None:
    from tests.node.pages.helpers import VILLAGE, make_village

    village = make_village(tmp_path)
    client = village.app.test_client()
    sign_in(client)
    html = client.get("/sync-status").get_data(as_text=True)
    assert f"上南村（{VILLAGE}）" in html and f"village:{VILLAGE}" not in html


def test_an_alert_is_named_in_chinese(tmp_path: Path) -> None:
    from node.store.evidence import Evidence
    from node.store.store import NodeStore
    from tests.node.pages.helpers import make_village

    village = make_village(tmp_path)
    store = NodeStore.open(village.data_dir)
    try:
        Evidence(store.db).alert(
            START_MS, "fork", f"village:{VILLAGE}#1", "m1", {"detail": "x"}, b"p"
        )
    finally:
        store.close()
    client = village.app.test_client()
    sign_in(client)
    html = client.get("/sync-status").get_data(as_text=True)
    assert "同一日志出现两份不同的历史" in html and "<td>fork</td>" not in html


def test_changes_lost_twice_over_are_among_the_alerts(tmp_path: Path) -> None:
    """Changes on no PC that the township lost and the county never confirmed (a copy
    handed back waited for them, node/sync/push.py ``_nowhere``) are an alert, not only
    a line about the restore: the officer must enter them again from paper."""
    from node.store.restores import Restores
    from node.store.store import NodeStore
    from tests.node.pages.helpers import VILLAGE as OURS
    from tests.node.pages.helpers import make_village

    village = make_village(tmp_path)
    store = NodeStore.open(village.data_dir)
    try:
        with store.db.atomic():
            Restores(store.db).add_nowhere(START_MS, 2, f"village:{OURS}#1", (2, 5))
    finally:
        store.close()
    client = village.app.test_client()
    sign_in(client)
    html = client.get("/sync-status").get_data(as_text=True)
    alerts = html[html.index('id="alerts"') :]
    assert "变更丢失" in alerts and f"village:{OURS}#1 第 2-5 条变更" in alerts
    assert "没有警报" not in html
