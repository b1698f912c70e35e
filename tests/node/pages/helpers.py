# SPDX-License-Identifier: Apache-2.0
"""A village node with one account per role, its pages app, and signing in through them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from node.pages.accounts import Role, add_operator
from node.server import create_app
from node.store.accounts import OperatorStore
from node.store.store import NodeStore
from protocol import NodeId

VILLAGE = "441322119001"
PASSWORD = "村里的密码123"
START_MS = 1_772_668_800_000  # 2026-03-05 08:00 Asia/Shanghai
ACCOUNTS = {
    Role.VILLAGE_OFFICER.value: "王芳",
    Role.TOWNSHIP_REVIEWER.value: "李明",
    Role.COUNTY_STATISTICIAN.value: "陈静",
    Role.COUNTY_ADMIN.value: "赵强",
    Role.AUDITOR.value: "刘洋",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """The app's clock (UTC ms), moved by tests instead of sleeping."""

    def __init__(self, ms: int = START_MS) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@dataclass
class Village:
    data_dir: Path
    app: Flask
    clock: Clock


def make_village(root: Path, *, residents: int = 0, seed: int = 3) -> Village:
    """A village node with an account per role (names in ACCOUNTS, password PASSWORD)."""
    store = NodeStore.init(root / "village", NodeId.for_code(VILLAGE), "上南村")
    try:
        if residents:
            from datetime import date

            from node.synth import generate_village

            generate_village(
                store, residents=residents, months=6, seed=seed, start=date(2025, 9, 1)
            )
        ops = OperatorStore(store.db)
        for role, name in ACCOUNTS.items():
            add_operator(ops, name, role, PASSWORD, START_MS)
    finally:
        store.close()
    clock = Clock()
    app = create_app({"RENKOU_DATA_DIR": str(store.data_dir), "RENKOU_NOW_MS": clock})
    return Village(store.data_dir, app, clock)


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, role: str = "village_officer", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"name": ACCOUNTS[role], "password": password, "csrf_token": token}
    )


def form_token(client: FlaskClient, path: str = "/home") -> str:
    return csrf_token(client.get(path).get_data(as_text=True))
