# SPDX-License-Identifier: Apache-2.0
"""A township officer reviews its villages' month in the browser (node/pages/review.py).

A county on loopback (tests/node/sync/network.py): two villages write their month, the
township relays it and the county confirms it, which takes the township's wrap out of
each batch; the township's reviewer then signs in on the township's own pages, finds
last month empty, picks this month, sees each village's changes (a birth named through
its mother's card), and narrows them to one village. Every record shown is an audit row
naming the reviewer, each time it is shown; and no ID number, address, phone, child's
name or complaint ever reaches the page (node/review/fields.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from node.pages.accounts import add_operator
from node.recording import add_record
from node.registers.model import parse_month
from node.store.accounts import OperatorStore
from node.store.review import month_of
from node.store.store import NodeStore
from node.timeutil import SHANGHAI
from tests.browser.conftest import screenshot, sign_in_at
from tests.node.domain.examples import CHILD_ID, example, woman_card
from tests.node.pages.helpers import ACCOUNTS, PASSWORD
from tests.node.sync.faults import no_sleep
from tests.node.sync.network import County, SimClock, loopback_county

T, V1, V2 = "440104001", "440104001002", "440104001003"
REVIEWER = ACCOUNTS["township_reviewer"]
MOTHER, OTHER = woman_card(spouse_ref=None), woman_card(
    date(1992, 5, 1), name="陈红", spouse_ref=None, hukou_code=V2, residence_code=V2,
    hukou_address="广州市越秀区北京街道某巷3号", residence_address="广州市越秀区北京街道某巷3号",
    phone="13700000000",
)  # fmt: skip
NEVER_SHOWN = (
    MOTHER["id_number"], MOTHER["phone"], MOTHER["hukou_address"], "洪桥街道",
    OTHER["id_number"], OTHER["phone"], "北京街道", "李小梅", CHILD_ID, "药具", "王某",
)  # fmt: skip
"""ID numbers, phones and addresses of both women, the child's name and ID number, a
complaint's subject and reporter: the review needs none of them."""


@dataclass
class Month:
    """The county, and the ids of the records its villages wrote this month."""

    county: County
    ids: dict[str, str]


@pytest.fixture
def written(tmp_path: Path, chromium_path: str) -> Iterator[Month]:
    """Two villages' month relayed by their township and confirmed by the county."""
    clock = SimClock()
    with loopback_county(tmp_path, {T: [V1, V2]}, clock=clock) as c:
        today = datetime.fromtimestamp(clock() / 1000, SHANGHAI).date()
        village = c.villages[V1]
        mother = add_record(village, "person", MOTHER, today=today)
        ids = {
            "mother": f"{V1}/{mother}",
            "birth": f"{V1}/"
            + add_record(village, "birth", example("birth", mother_ref=mother), today=today),
            "other": f"{V2}/" + add_record(c.villages[V2], "person", OTHER, today=today),
        }
        add_record(village, "complaint", example("complaint"), today=today)
        for code in (V1, V2):
            c.client(code, sleep=no_sleep).sync_round()
        assert c.client(T, sleep=no_sleep).sync_round().unwrapped == 2  # the county's ack
        accounts = OperatorStore(c.towns[T].store.db)
        for role, name in ACCOUNTS.items():
            add_operator(accounts, name, role, PASSWORD, clock())
        yield Month(c, ids)


def review_audit(town: NodeStore) -> list[tuple[str, str, str]]:
    """The audit rows the review left, in order: who, which record, why."""
    rows = town.db.execute(
        "SELECT actor, kind, record_id, purpose FROM audit WHERE action = 'review' ORDER BY rowid"
    )
    return [(actor, f"{kind} {record}", purpose) for actor, kind, record, purpose in rows]


def test_a_township_officer_reviews_the_villages_month(page_of, written: Month) -> None:  # type: ignore[no-untyped-def]
    county, ids = written.county, written.ids
    town, url = county.towns[T].store, county.towns[T].url
    assert county.clock is not None
    month = month_of(county.clock())
    page = page_of()
    sign_in_at(page, url, "township_reviewer")
    page.click("header >> text=各村变更审核")
    page.wait_for_selector("#review-empty")  # last month: nothing was written then
    assert month not in page.inner_text("#review-empty")
    assert review_audit(town) == []

    shown = f"{int(month[:4])}年{int(month[5:])}月"  # the box speaks Chinese, not "March 2026"
    assert page.input_value("#month") != shown
    page.fill("#month", shown)
    page.click("text=查看该月")
    page.wait_for_selector("table.review")
    assert page.input_value("#month") == shown
    sections = page.locator("main section.card h2").all_inner_texts()
    assert sections == [f"村 {V1}，{month}：2 条变更", f"村 {V2}，{month}：1 条变更"]
    rows = page.locator("table.review tbody tr").all_inner_texts()
    assert any("出生" in r and "张秀英（" in r and "孩次：2" in r for r in rows), rows
    assert any("陈红" in r and "新增" in r for r in rows), rows
    html = page.content()
    assert [value for value in NEVER_SHOWN if value in html] == []
    purpose = f"township review {parse_month(month).month}"
    shown_all = review_audit(town)
    assert sorted(shown_all) == sorted(
        [
            (REVIEWER, f"person {ids['mother']}", purpose),
            (REVIEWER, f"birth {ids['birth']}", purpose),
            (REVIEWER, f"person {ids['other']}", purpose),
        ]
    )
    screenshot(page, "16-township-review")

    page.select_option("#village", V2)
    page.click("text=查看该月")
    page.wait_for_url(f"**village={V2}*")
    assert page.locator("main section.card h2").all_inner_texts() == [f"村 {V2}，{month}：1 条变更"]
    assert page.input_value("#village") == V2 and "张秀英" not in page.inner_text("main")
    assert review_audit(town)[len(shown_all) :] == [(REVIEWER, f"person {ids['other']}", purpose)]


@pytest.fixture
def page_of(browser):  # type: ignore[no-untyped-def]
    """New tabs of one browser context (closed after the test): the township's screen."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        yield context.new_page
    finally:
        context.close()
