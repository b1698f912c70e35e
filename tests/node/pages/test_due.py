# SPDX-License-Identifier: Apache-2.0
"""What is due: the list with names and Chinese item names, the done button, the home
panel, and ``renkou node due`` / ``renkou node done`` in the terminal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from deploy.cli import cli
from node.store.store import NodeStore
from tests.node.pages.helpers import Village, form_token, make_village, sign_in


@pytest.fixture
def village(tmp_path: Path) -> Village:
    return make_village(tmp_path, residents=200)


@pytest.fixture
def officer(village: Village) -> FlaskClient:
    client = village.app.test_client()
    sign_in(client)
    return client


def _row(html: str, item: str) -> str:
    found = re.search(
        rf'<tr class="[^"]*">\s*<td>([^<]*)</td>(?:(?!</tr>).)*value="{re.escape(item)}"',
        html,
        re.S,
    )
    return found.group(1) if found else ""


def _items(html: str) -> list[str]:
    return re.findall(r'name="item" value="([^"]+)"', html)


def test_the_due_page_lists_items_in_chinese_with_a_done_button(officer: FlaskClient) -> None:
    from node.deadlines import get_rule

    html = officer.get("/due").get_data(as_text=True)
    items = _items(html)
    assert items and "2026年" in html
    for item in items:
        assert get_rule(item.split("/")[0]).zh_name in html
    shown = re.sub(r'(value|href)="[^"]*"', "", html)
    assert not any(item.split("/")[0] in shown for item in items)  # no code on screen


def test_done_closes_the_item(village: Village, officer: FlaskClient) -> None:
    html = officer.get("/due").get_data(as_text=True)
    report = _items(html)[0]
    before = len(_items(html))
    sent = officer.post(
        "/due/done", data={"item": report, "done_date": "2026-03-02",
                           "csrf_token": form_token(officer, "/due")},
    )  # fmt: skip
    assert sent.status_code == 302
    after = officer.get("/due").get_data(as_text=True)
    assert "已记录为办结" in after
    # Gone, or (a recurring in-person check) due again half a year later.
    assert report not in _items(after) or _row(after, report) != _row(html, report)
    assert len(_items(after)) <= before


def test_a_bad_item_says_so_and_writes_nothing(village: Village, officer: FlaskClient) -> None:
    store = NodeStore.open(village.data_dir)
    head = store.changelog.head_seq
    store.close()
    officer.post("/due/done", data={"item": "nonsense", "csrf_token": form_token(officer, "/due")})
    assert "事项编号格式" in officer.get("/due").get_data(as_text=True)
    store = NodeStore.open(village.data_dir)
    try:
        assert store.changelog.head_seq == head
    finally:
        store.close()


def test_the_home_page_shows_the_due_panel(officer: FlaskClient) -> None:
    html = officer.get("/home").get_data(as_text=True)
    assert 'id="due-panel"' in html and "待办事项" in html


@pytest.mark.parametrize("role", ["county_statistician", "auditor"])
def test_roles_without_the_right_cannot_close(village: Village, role: str) -> None:
    client = village.app.test_client()
    sign_in(client, role)
    token = form_token(client)
    assert client.post("/due/done", data={"item": "x/y/z", "csrf_token": token}).status_code == 403


def test_done_from_the_terminal(village: Village) -> None:
    runner = CliRunner()
    due = runner.invoke(cli, ["node", "due", "--today", "2026-03-05", "--data-dir",
                              str(village.data_dir)])  # fmt: skip
    assert due.exit_code == 0, due.output
    item = re.search(r"(benefit_in_person_check/benefit/\S+)", due.output)
    assert item is not None
    done = runner.invoke(
        cli,
        [
            "node",
            "done",
            item.group(1),
            "--date",
            "2026-03-02",
            "--data-dir",
            str(village.data_dir),
        ],
        env={"LANG": "zh_CN.UTF-8"},
    )
    assert done.exit_code == 0, done.output
    assert "已记录为办结" in done.output
    again = runner.invoke(cli, ["node", "due", "--today", "2026-03-05", "--data-dir",
                                str(village.data_dir)])  # fmt: skip
    line = next(x for x in due.output.splitlines() if item.group(1) in x)
    later = [x for x in again.output.splitlines() if item.group(1) in x]
    assert not later or later[0][:10] > line[:10]  # closed, or due again later (recurring)


def test_the_cards_open_items_follow_a_write(village: Village, officer: FlaskClient) -> None:
    """The card shares one list of the node's items between writes (card.node_items);
    closing an item must show on the card at once."""
    html = officer.get("/due").get_data(as_text=True)
    item = next(i for i in _items(html) if i.startswith("benefit_in_person_check/"))
    store = NodeStore.open(village.data_dir)
    try:
        benefit = store.record("benefit", item.split("/")[2])
    finally:
        store.close()
    assert benefit is not None
    card = f"/people/{benefit['person_ref']}"
    due_table = re.compile(r'<table class="list" id="due">.*?</table>', re.S)
    before = due_table.search(officer.get(card).get_data(as_text=True))
    assert before is not None
    officer.post("/due/done", data={"item": item, "done_date": "2026-03-02",
                                    "csrf_token": form_token(officer, "/due")})  # fmt: skip
    after = due_table.search(officer.get(card).get_data(as_text=True))
    assert after is None or after.group(0) != before.group(0)
