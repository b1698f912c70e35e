# SPDX-License-Identifier: Apache-2.0
"""The township's review page: its villages' changes of a month, every record audited."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from node.pages.accounts import add_operator
from node.server import create_app
from node.store.accounts import OperatorStore
from node.store.review import ADDED, ReviewChange, ReviewStore, first_month, month_of
from node.store.store import NodeStore
from protocol import NodeId
from tests.node.pages.helpers import ACCOUNTS, PASSWORD, Clock, Village, sign_in

TOWN, V = "441322119", "441322119001"


@pytest.fixture
def town(tmp_path: Path) -> Village:
    """A township node whose review store holds a card and a birth of one village this
    month. The clock is now: a store opened by the pages purges by the real clock."""
    clock = Clock(time.time_ns() // 1_000_000)
    store = NodeStore.init(tmp_path / "town", NodeId.for_code(TOWN), "上南镇")
    try:
        for role, name in ACCOUNTS.items():
            add_operator(OperatorStore(store.db), name, role, PASSWORD, clock())
        month, log = month_of(clock()), f"village:{V}#1"
        card = ReviewChange(V, log, 2, 0, month, clock(), "person", "P1", ADDED, "P1",
                            {"name": "张秀英", "sex": "F"})  # fmt: skip
        birth = ReviewChange(V, log, 3, 0, month, clock(), "birth", "B2", ADDED, "P1",
                             {"mother_ref": "P1", "birth_order": 2})  # fmt: skip
        with store.db.atomic():
            ReviewStore(store.db).keep([card, birth], clock())
    finally:
        store.close()
    app = create_app({"RENKOU_DATA_DIR": str(store.data_dir), "RENKOU_NOW_MS": clock})
    return Village(store.data_dir, app, clock)


@pytest.fixture
def reviewer(town: Village) -> FlaskClient:
    client = town.app.test_client()
    sign_in(client, "township_reviewer")
    return client


def audit_rows(town: Village) -> list[tuple[str, str, str, str]]:
    store = NodeStore.open(town.data_dir)
    try:
        rows = store.db.execute(
            "SELECT actor, action, kind, record_id FROM audit WHERE action = 'review'"
        ).fetchall()
    finally:
        store.close()
    return sorted(rows)


def test_the_reviewer_sees_each_villages_changes_and_every_record_is_audited(
    town: Village, reviewer: FlaskClient
) -> None:
    month = month_of(town.clock())
    home = reviewer.get("/home").get_data(as_text=True)
    assert "各村变更审核" in home  # the menu of a township
    page = reviewer.get(f"/review?month={month}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"村 {V}，{month}：2 条变更" in html and "张秀英（P1）" in html and "孩次：2" in html
    name = ACCOUNTS["township_reviewer"]
    assert audit_rows(town) == [
        (name, "review", "birth", f"{V}/B2"),
        (name, "review", "person", f"{V}/P1"),
    ]


def test_the_month_box_shows_and_takes_the_month_in_chinese(
    town: Village, reviewer: FlaskClient
) -> None:
    """A text box showing 2026年3月 (a browser's month picker speaks its own language)."""
    month = month_of(town.clock())
    year, number = (int(p) for p in month.split("-"))
    html = reviewer.get(f"/review?month={year}年{number}月").get_data(as_text=True)
    assert f'value="{year}年{number}月"' in html and f"村 {V}，{month}：2 条变更" in html
    assert 'type="month"' not in html


def test_a_month_outside_the_window_shows_why_it_is_empty(
    town: Village, reviewer: FlaskClient
) -> None:
    oldest = first_month(town.clock())
    year, number = (int(p) for p in oldest.split("-"))
    before = f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"
    page = reviewer.get(f"/review?month={before}")
    assert page.status_code == 200 and "不在审核保留期内" in page.get_data(as_text=True)
    assert audit_rows(town) == []
    assert reviewer.get("/review?month=2026-3").status_code == 400
    assert reviewer.get("/review?month=２０２６-０３").status_code == 400  # full-width digits


def test_the_reviewer_chooses_one_village(town: Village, reviewer: FlaskClient) -> None:
    """The page offers the villages with changes kept that month (as ``--village``): one
    chosen shows and audits only its records; a code that is no village's is said so."""
    month = month_of(town.clock())
    html = reviewer.get(f"/review?month={month}").get_data(as_text=True)
    assert f'<option value="{V}">{V}</option>' in html
    before = len(audit_rows(town))
    other = "441322119002"
    page = reviewer.get(f"/review?month={month}&village={other}").get_data(as_text=True)
    assert f"村 {other}，{month}：0 条变更" in page and "张秀英" not in page
    assert f'<option value="{other}" selected>' in page  # still chosen, though empty
    assert len(audit_rows(town)) == before
    page = reviewer.get(f"/review?month={month}&village={V}").get_data(as_text=True)
    assert f"村 {V}，{month}：2 条变更" in page and f'<option value="{V}" selected>' in page
    assert len(audit_rows(town)) == before + 2
    wrong = reviewer.get(f"/review?month={month}&village=11900１").get_data(as_text=True)
    assert "村代码应为12位数字" in wrong and "张秀英" not in wrong
    assert len(audit_rows(town)) == before + 2


def test_roles_without_the_registers_right_cannot_review(town: Village) -> None:
    for role in ("county_statistician", "auditor"):
        client = town.app.test_client()
        sign_in(client, role)
        assert client.get("/review").status_code == 403, role
    assert audit_rows(town) == []


def test_a_village_has_no_review_in_its_menu(client: FlaskClient) -> None:
    sign_in(client)
    assert "各村变更审核" not in client.get("/home").get_data(as_text=True)
    assert client.get("/review").status_code == 404  # nor at its address
