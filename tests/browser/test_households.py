# SPDX-License-Identifier: Apache-2.0
"""A household on the card: its head (户主) and each member's relationship to the head,
and moving a person into another household as its head (issue 15, item 5)."""

from __future__ import annotations

from node.store.store import NodeStore
from tests.browser.conftest import Site, screenshot


def _people(site: Site) -> list[tuple[str, dict[str, object]]]:
    store = NodeStore.open(site.village.data_dir)
    try:
        return list(store.records("person"))
    finally:
        store.close()


def test_the_head_of_household_shown_and_set(page, site: Site) -> None:  # type: ignore[no-untyped-def]  # playwright's types are not installed
    people = _people(site)
    heads = {d["hukou_address"]: d for _, d in people if d["household_relation"] == "head"}
    rid, card = next(
        (r, d)
        for r, d in people
        if d["household_relation"] == "child" and d["hukou_address"] in heads
    )
    site.sign_in(page)
    page.goto(f"{site.url}/people/{rid}")
    assert str(heads[card["hukou_address"]]["name"]) in page.inner_text("#household-head")
    assert "户主" in page.inner_text("#household")
    assert "子女" in page.inner_text("#facts")
    screenshot(page, "14-household")
    page.click("text=迁入其他户")
    page.select_option("#relation", label="户主")
    page.fill("#address", "上南村9组77号")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{site.url}/people/{rid}")
    assert "新的一户" in page.inner_text("main")
    assert "本人" in page.inner_text("#household-head")
    assert "户主" in page.inner_text("#facts")
