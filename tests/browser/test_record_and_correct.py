# SPDX-License-Identifier: Apache-2.0
"""Add a birth through the generated form (a field error in Chinese, then fixed), and
correct a card; both show up on the card, with the officer's name in its history."""

from __future__ import annotations

from node.store.store import NodeStore
from tests.browser.conftest import Site, screenshot


def _mother(site: Site) -> tuple[str, dict[str, object]]:
    store = NodeStore.open(site.village.data_dir)
    try:
        return next(
            (rid, d)
            for rid, d in store.records("person")
            if d["card_type"] == "woman" and "1985" < str(d["birth_date"]) < "1998"
        )
    finally:
        store.close()


def test_add_a_birth_with_a_field_error_then_fixed(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    rid, _mother_card = _mother(site)
    site.sign_in(page)
    page.goto(f"{site.url}/people/{rid}")
    page.click("text=登记出生")
    page.wait_for_selector("form.record-form")
    assert page.input_value("#in-mother_ref") == rid
    page.check("input[name=child_sex][value=F]")
    page.fill("#in-birth_date", "2026-02-20")
    page.fill("#in-birth_order", "0")
    page.fill("#in-birth_place", "博罗县人民医院")
    page.click("button:has-text('保存')")
    error = page.inner_text("#field-birth_order .error")
    assert error == "应在1到15之间"
    assert "未保存" in page.inner_text("#form-errors")
    assert page.input_value("#in-birth_place") == "博罗县人民医院"
    screenshot(page, "05-birth-form-error")
    page.fill("#in-birth_order", "1")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{site.url}/people/{rid}")
    assert "已保存：出生" in page.inner_text("main")
    assert "2026年2月20日" in page.inner_text("#events")


def test_correct_a_card(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    rid, card = _mother(site)
    site.sign_in(page)
    page.goto(f"{site.url}/people/{rid}")
    page.click("text=更正信息卡")
    page.wait_for_selector("form.record-form")
    assert page.input_value("#in-name") == card["name"]
    screenshot(page, "06-correct-card")
    page.fill("#in-phone", "13912345678")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{site.url}/people/{rid}")
    assert "更正已保存" in page.inner_text("main")
    assert "13912345678" in page.inner_text("#facts")
    history = page.inner_text("#history")
    assert "王芳" in history and "13912345678" in history
