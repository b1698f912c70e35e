# SPDX-License-Identifier: Apache-2.0
"""Moving a person into another household (or a new one) is an audited correction."""

from __future__ import annotations

from pathlib import Path

from node.store.store import NodeStore
from tests.node.pages.helpers import form_token, make_village, sign_in


def test_move_into_another_household_then_into_a_new_one(tmp_path: Path) -> None:
    village = make_village(tmp_path, residents=80)
    store = NodeStore.open(village.data_dir)
    try:
        people = list(store.records("person"))
    finally:
        store.close()
    (mover, card), other = (
        people[0],
        next(d for _, d in people if d["hukou_address"] != people[0][1]["hukou_address"]),
    )
    client = village.app.test_client()
    sign_in(client)
    page = client.get(f"/households/{mover}/move").get_data(as_text=True)
    assert str(card["hukou_address"]) in page
    token = form_token(client, f"/households/{mover}/move")
    moved = client.post(
        f"/households/{mover}/move", data={"address": other["hukou_address"], "csrf_token": token}
    )
    assert moved.status_code == 302
    after = client.get(f"/people/{mover}").get_data(as_text=True)
    assert "已迁入" in after and str(other["name"]) in after  # now in her household
    assert "王芳" in after  # the history names who moved her
    new = client.post(
        f"/households/{mover}/move", data={"address": "上南村9组999号", "csrf_token": token}
    )
    assert new.status_code == 302
    assert "已在该地址登记为新的一户" in client.get(f"/people/{mover}").get_data(as_text=True)
    refused = client.post(f"/households/{mover}/move", data={"address": "", "csrf_token": token})
    assert refused.status_code == 400 and "不能为空白" in refused.get_data(as_text=True)
