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


def test_a_second_head_is_refused_then_the_head_changes(page, site: Site) -> None:  # type: ignore[no-untyped-def]  # playwright's types are not installed
    """One head per household: the form names the household's head when refused, and
    with the former head's new relation it changes the head, both cards in one edit."""
    people = _people(site)
    heads = {d["hukou_address"]: d for _, d in people if d["household_relation"] == "head"}
    rid, card = next(
        (r, d)
        for r, d in people
        if d["household_relation"] not in ("head", None) and d["hukou_address"] in heads
    )
    target = next(a for a in sorted(heads) if a != card["hukou_address"])  # type: ignore[type-var]  # addresses are str
    site.sign_in(page)
    page.goto(f"{site.url}/households/{rid}/move")
    page.select_option("#relation", label="户主")
    page.fill("#address", str(target))
    page.click("button:has-text('保存')")
    error = page.inner_text(".error")
    assert "已有户主" in error and str(heads[target]["name"]) in error
    screenshot(page, "15-household-second-head")
    page.select_option("#relation", label="户主")
    page.select_option("#former_relation", label="配偶")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{site.url}/people/{rid}")
    assert "不再是该户户主" in page.inner_text("main")
    assert "本人" in page.inner_text("#household-head")
