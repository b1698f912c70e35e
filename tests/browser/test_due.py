# SPDX-License-Identifier: Apache-2.0
"""Close a due item from the list: it disappears and the page says it was recorded."""

from __future__ import annotations

from tests.browser.conftest import Site, screenshot


def test_close_a_due_item(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    site.sign_in(page)
    assert page.is_visible("#due-panel")
    page.click("header >> text=待办事项")
    page.wait_for_selector("#due-list")
    screenshot(page, "11-due")
    row = page.locator("#due-list tr", has_text="本人核验").first
    item = row.locator("input[name=item]").get_attribute("value")
    was_due = row.locator("td").first.inner_text()
    row.locator("button", has_text="办结").click()
    page.wait_for_selector("text=已记录为办结")
    same = page.locator(f"#due-list tr:has(input[value='{item}'])")
    # Closed: gone, or (a six-monthly in-person check) due again half a year on.
    assert same.count() == 0 or same.locator("td").first.inner_text() != was_due
