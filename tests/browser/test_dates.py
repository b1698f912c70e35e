# SPDX-License-Identifier: Apache-2.0
"""Dates in a browser set to English: the boxes still take and show 2026年3月5日 (and ISO),
because they are text boxes the page reads, not the browser's own date picker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from node.store.store import NodeStore
from tests.browser.conftest import Site, screenshot


@pytest.fixture(scope="module")
def english_page(browser, site: Site) -> Iterator[object]:  # type: ignore[no-untyped-def]  # playwright's types are not installed
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def _woman(site: Site) -> str:
    store = NodeStore.open(site.village.data_dir)
    try:
        return next(
            rid
            for rid, d in store.records("person")
            if d["card_type"] == "woman" and "1985" < str(d["birth_date"]) < "1998"
        )
    finally:
        store.close()


def test_dates_typed_and_shown_the_chinese_way_in_an_english_browser(  # type: ignore[no-untyped-def]  # playwright's types are not installed
    english_page, site: Site
) -> None:
    page = english_page
    rid = _woman(site)
    site.sign_in(page)
    assert page.evaluate("navigator.language") == "en-US"
    page.goto(f"{site.url}/people/{rid}")
    page.click("text=登记出生")
    page.wait_for_selector("form.record-form")
    assert page.get_attribute("#in-birth_date", "type") == "text"
    page.check("input[name=child_sex][value=M]")
    page.fill("#in-birth_date", "2026年2月21日")
    page.fill("#in-birth_order", "1")
    page.fill("#in-birth_place", "博罗县人民医院")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{site.url}/people/{rid}")
    assert "2026年2月21日" in page.inner_text("#events")
    page.click("text=更正信息卡")
    page.wait_for_selector("form.record-form")
    shown = page.input_value("#in-birth_date")
    assert "年" in shown and "月" in shown and shown.endswith("日")
    screenshot(page, "13-dates-in-an-english-browser")
