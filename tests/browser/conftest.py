# SPDX-License-Identifier: Apache-2.0
"""Browser tests: Playwright driving Debian's Chromium, headless, against a real server.

The set-up installs Chromium from the system's package manager when it is missing
(``apt-get install -y chromium fonts-noto-cjk``, as root); a browser is never
downloaded (no ``playwright install``). Only where no Chromium can be installed are the
tests skipped, with :data:`NO_CHROMIUM` as the reason. One browser serves the whole run,
one village server (waitress, as ``renkou node serve`` uses) and one signed-in page
each test module.

Screenshots of the main pages go to ``build/screenshots/`` (or ``$RENKOU_SCREENSHOTS``);
the copies in docs/screenshots/ are taken from there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.server.serving import NodeServer
from tests.node.pages.helpers import ACCOUNTS, PASSWORD, Village, make_village

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",  # date boxes as a Chinese officer's browser shows them (年/月/日)
]
NO_CHROMIUM = (
    "browser tests: no Chromium could be installed "
    "(apt-get install -y chromium fonts-noto-cjk needs root and a reachable package mirror)"
)
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("RENKOU_SCREENSHOTS", ROOT / "build" / "screenshots"))


def _install_chromium() -> bool:
    """apt-get install, once more after an apt-get update if the lists were stale."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium", "fonts-noto-cjk"]
    for steps in ([install], [["apt-get", "update", "-q"], install]):
        if all(subprocess.run(s, env=env, capture_output=True).returncode == 0 for s in steps):
            if os.path.exists(CHROMIUM):
                return True
    return False


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM) and not _install_chromium():
        pytest.skip(NO_CHROMIUM)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Site:
    """A village served on loopback, as an officer's browser reaches it."""

    def __init__(self, village: Village, server: NodeServer) -> None:
        self.village = village
        self.server = server
        self.url = server.url

    def sign_in(self, page, role: str = "village_officer") -> None:  # type: ignore[no-untyped-def]
        sign_in_at(page, self.url, role)


def sign_in_at(page, url: str, role: str = "village_officer") -> None:  # type: ignore[no-untyped-def]
    """Sign in on the node served at ``url`` with the account of ``role`` (ACCOUNTS)."""
    page.goto(url + "/login")
    page.fill("#name", ACCOUNTS[role])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/home")


def serve_village(tmp_path: Path, *, residents: int = 300) -> Iterator[Site]:
    village = make_village(tmp_path, residents=residents)
    server = NodeServer("127.0.0.1", 0, village.app)
    server.start()
    try:
        yield Site(village, server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    yield from serve_village(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def page(browser, site: Site) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """One browser tab for the module, sized like a village office's small screen."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def screenshot(page, name: str, *, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
