# SPDX-License-Identifier: Apache-2.0
"""Signing in and out in a real browser, in Chinese."""

from __future__ import annotations

from tests.browser.conftest import Site, screenshot
from tests.node.pages.helpers import ACCOUNTS


def test_sign_in_with_a_wrong_then_the_right_password(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    page.goto(site.url + "/")
    assert page.url == site.url + "/login"
    assert page.title().startswith("登录")
    screenshot(page, "01-sign-in")
    page.fill("#name", ACCOUNTS["village_officer"])
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "账号或密码不正确" in page.inner_text(".alert")
    site.sign_in(page)
    assert "村计生专干" in page.inner_text("header")
    assert "2026年3月5日" in page.inner_text("main")
    screenshot(page, "02-home")


def test_sign_out_leads_back_to_sign_in(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    site.sign_in(page)
    page.click("text=退出登录")
    page.wait_for_url(site.url + "/login")
    page.goto(site.url + "/home")
    assert page.url.startswith(site.url + "/login")
