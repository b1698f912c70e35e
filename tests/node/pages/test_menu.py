# SPDX-License-Identifier: Apache-2.0
"""The header's pages (node/pages/menu.py) and what `renkou demo` lists from them.

The demo prints, for each kind of node, the demo accounts and the pages each opens there;
a new user must reach every one of them: each page listed opens (200) for each account
listed beside it, on a node of that kind, signed in with the demo password, and the
header offers that account exactly the pages listed for it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from flask import Flask

from node.pages.demo_accounts import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_ROLES,
    add_demo_accounts,
    demo_pages,
)
from node.pages.menu import MENU
from node.server import create_app
from node.store.store import NodeStore
from protocol import NodeId
from protocol import Role as NodeRole
from tests.node.pages.helpers import csrf_token

CODES = {
    NodeRole.VILLAGE: "441322119001",
    NodeRole.TOWNSHIP: "441322119",
    NodeRole.COUNTY: "441322",
}
_NAV = re.compile(r'<nav class="main"[^>]*>(.*?)</nav>', re.S)


def demo_node(root: Path, kind: NodeRole) -> Flask:
    """A node of ``kind`` with the demo's accounts, and its app (pages and all)."""
    code = CODES[kind]
    store = NodeStore.init(root / code, NodeId.for_code(code), f"节点{code}")
    try:
        add_demo_accounts(store, time.time_ns() // 1_000_000)
    finally:
        store.close()
    return create_app({"RENKOU_DATA_DIR": str(store.data_dir)})


def test_every_menu_address_is_its_views_address(tmp_path: Path) -> None:
    app = demo_node(tmp_path, NodeRole.VILLAGE)
    with app.test_request_context():
        from flask import url_for

        assert [(i.endpoint, url_for(i.endpoint)) for i in MENU] == [
            (i.endpoint, i.path) for i in MENU
        ]


@pytest.mark.parametrize("kind", list(NodeRole), ids=lambda k: k.name.lower())
def test_every_page_the_demo_lists_opens_for_the_accounts_it_names(
    tmp_path: Path, kind: NodeRole
) -> None:
    app = demo_node(tmp_path, kind)
    listed = demo_pages(kind)
    assert listed, kind
    for role in DEMO_ROLES[kind]:
        name = DEMO_ACCOUNTS[role]
        client = app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        signed = client.post(
            "/login", data={"name": name, "password": DEMO_PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 302 and signed.headers["Location"].endswith("/home"), name
        mine = [path for _label, path, who in listed if name in who]
        for path in mine:
            assert client.get(path).status_code == 200, (kind, name, path)
        nav = _NAV.search(client.get("/home").get_data(as_text=True))
        assert nav is not None
        assert re.findall(r'<a href="([^"]+)"', nav.group(1)) == mine, (kind, name)
        for path in {i.path for i in MENU} - set(mine):
            assert client.get(path).status_code != 200, (kind, name, path)


def test_the_township_lists_its_review_and_its_status() -> None:
    """The pages the demo must name on a township (and the county's status)."""
    township = {path: who for _label, path, who in demo_pages(NodeRole.TOWNSHIP)}
    assert township["/review"] == ["reviewer"]
    assert township["/sync-status"] == ["reviewer", "admin", "auditor"]
    county = {path: who for _label, path, who in demo_pages(NodeRole.COUNTY)}
    assert set(county) == {"/home", "/sync-status"}
    assert "/review" not in {path for _label, path, _who in demo_pages(NodeRole.VILLAGE)}
