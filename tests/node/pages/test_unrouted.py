# SPDX-License-Identifier: Apache-2.0
"""An address no route knows: a person typing it gets the pages' Chinese error page; a
peer calling the sync API keeps its one JSON error shape (issue 15: "the demo's URLs
answer a JSON 404")."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.node.pages.helpers import make_village, sign_in


@pytest.mark.parametrize("path", ["/nowhere", "/registers/births/print/print", "/people/P1/x"])
def test_an_unknown_page_is_a_chinese_page(tmp_path: Path, path: str) -> None:
    village = make_village(tmp_path)
    client = village.app.test_client()
    sign_in(client)
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert "没有这个页面或记录" in html and "requested URL" not in html


def test_an_unknown_sync_address_keeps_the_json_shape(tmp_path: Path) -> None:
    village = make_village(tmp_path)
    answer = village.app.test_client().get("/sync/v1/nowhere")
    assert answer.status_code == 404 and answer.mimetype == "application/json"
    assert answer.get_json()["code"] == "http_404"
