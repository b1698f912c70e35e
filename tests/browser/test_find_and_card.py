# SPDX-License-Identifier: Apache-2.0
"""Find a person by name and by pinyin initials, open her card, see the view audited."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

from node.store.store import NodeStore
from tests.browser.conftest import Site, screenshot


def _a_woman(site: Site) -> tuple[str, dict[str, object]]:
    store = NodeStore.open(site.village.data_dir)
    try:
        return next(
            (rid, data)
            for rid, data in store.records("person")
            if data["card_type"] == "woman" and len(str(data["name"])) == 3
        )
    finally:
        store.close()


def test_find_by_name_and_by_pinyin_then_open_the_card(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    rid, data = _a_woman(site)
    name = str(data["name"])
    site.sign_in(page)
    page.fill("#q", name)
    page.click("form[role=search] button[type=submit]")
    assert name in page.inner_text("#results")
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
    page.fill("#q", initials)
    page.click("form[role=search] button[type=submit]")
    assert name in page.inner_text("#results")
    assert str(data["id_number"]) not in page.inner_text("main")
    screenshot(page, "03-search-results")
    page.click(f"#results a[href^='/people/{rid}?']")
    page.wait_for_selector("#facts")
    assert str(data["id_number"]) in page.inner_text("#facts")
    audit = page.inner_text("#audit")
    assert "王芳" in audit and "查看" in audit and f"从查找“{initials}”打开" in audit
    assert "建立信息卡" in page.inner_text("#history")
    screenshot(page, "04-card")
