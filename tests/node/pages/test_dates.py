# SPDX-License-Identifier: Apache-2.0
"""Dates on the pages and in the terminal: typed as 2026年3月5日 or ISO, whatever the
browser's language, and shown the Chinese way (issue 15, item 1)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from deploy.cli import cli
from node.domain.schemas.fields import IsoDate
from node.pages.forms import build_form, coerce
from node.store.store import NodeStore
from node.timeutil import read_written_date, written_date_iso
from tests.node.pages.helpers import Village, form_token, make_village, sign_in


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("2026-03-05", "2026-03-05"),
        ("2026-3-5", "2026-03-05"),
        ("2026年3月5日", "2026-03-05"),
        ("2026 年 3 月 5 日", "2026-03-05"),
        ("２０２６年３月５日", "2026-03-05"),  # full-width, as a Chinese input method types
        ("2026/3/5", "2026-03-05"),
        ("2026.03.05", "2026-03-05"),
        ("2026年2月30日", "2026-02-30"),  # no such day: the schema says so
        ("3月5日", None),
        ("20260305", None),
        ("2026年3月", None),
        ("yesterday", None),
    ],
)
def test_written_dates(typed: str, iso: str | None) -> None:
    assert iso == written_date_iso(typed)


def test_a_day_that_does_not_exist_is_no_date() -> None:
    assert read_written_date("2026年3月5日") == date(2026, 3, 5)
    assert read_written_date("2026年2月30日") is None


def test_a_form_takes_the_chinese_form_and_shows_it() -> None:
    assert coerce(IsoDate(label="日期"), "2026年3月5日") == "2026-03-05"
    assert coerce(IsoDate(label="日期"), "3月5日") == "3月5日"  # left for the schema to refuse
    fields, _ = build_form("death", {"death_date": "2026-03-05"})
    shown = next(f for f in fields if f.name == "death_date")
    assert shown.widget == "date" and shown.value == "2026年3月5日"


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Village:
    return make_village(tmp_path_factory.mktemp("dates"), residents=120)


@pytest.fixture
def officer(village: Village) -> FlaskClient:
    client = village.app.test_client()
    sign_in(client)
    return client


def _mother(village: Village) -> str:
    store = NodeStore.open(village.data_dir)
    try:
        return next(
            rid
            for rid, d in store.records("person")
            if d["card_type"] == "woman" and str(d["birth_date"]) < "1996"
        )
    finally:
        store.close()


def test_the_date_box_is_text_not_the_browsers_picker(officer: FlaskClient) -> None:
    html = officer.get("/records/new/death").get_data(as_text=True)
    box = re.search(r'<input id="in-death_date"[^>]*>', html)
    assert box is not None and 'type="text"' in box.group(0)
    assert 'type="date"' not in html and "2026年3月5日" in html


def test_a_birth_typed_the_chinese_way_is_saved_as_that_day(
    village: Village, officer: FlaskClient
) -> None:
    mother = _mother(village)
    form = {
        "mother_ref": mother,
        "child_sex": "M",
        "birth_date": "2026年2月27日",
        "birth_order": "1",
        "birth_place": "博罗县人民医院",
        "csrf_token": form_token(officer, f"/records/new/birth?for={mother}"),
    }
    saved = officer.post("/records/new/birth", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    store = NodeStore.open(village.data_dir)
    try:
        births = [d for _rid, d in store.records("birth") if d["mother_ref"] == mother]
    finally:
        store.close()
    assert "2026-02-27" in {b["birth_date"] for b in births}


def test_an_unreadable_date_says_how_to_write_it(village: Village, officer: FlaskClient) -> None:
    mother = _mother(village)
    form = {
        "mother_ref": mother,
        "child_sex": "M",
        "birth_date": "2月27日",
        "birth_order": "1",
        "birth_place": "博罗县人民医院",
        "csrf_token": form_token(officer, f"/records/new/birth?for={mother}"),
    }
    refused = officer.post("/records/new/birth", data=form)
    assert refused.status_code == 400
    field = re.search(r'id="field-birth_date".*?</div>', refused.get_data(as_text=True), re.S)
    assert field is not None and "2026年3月5日 或 2026-03-05" in field.group(0)
    assert 'value="2月27日"' in field.group(0)


def test_done_on_the_due_page_takes_a_chinese_date(village: Village, officer: FlaskClient) -> None:
    html = officer.get("/due").get_data(as_text=True)
    assert re.search(r'name="done_date" value="\d{4}年\d{1,2}月\d{1,2}日"', html)
    item = re.findall(r'name="item" value="([^"]+)"', html)[0]
    token = form_token(officer, "/due")
    officer.post("/due/done", data={"item": item, "done_date": "3月2日", "csrf_token": token})
    assert "2026年3月5日 或 2026-03-05" in officer.get("/due").get_data(as_text=True)
    officer.post("/due/done", data={"item": item, "done_date": "2026年3月2日",
                                    "csrf_token": token})  # fmt: skip
    assert "已记录为办结" in officer.get("/due").get_data(as_text=True)


def test_the_terminal_takes_a_chinese_date(village: Village) -> None:
    runner = CliRunner()
    due = runner.invoke(cli, ["node", "due", "--today", "2026年3月5日", "--data-dir",
                              str(village.data_dir)])  # fmt: skip
    assert due.exit_code == 0, due.output
    assert "项待办" in due.output
