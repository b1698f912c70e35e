# SPDX-License-Identifier: Apache-2.0
"""Moving a person into another household (or a new one) is an audited correction."""

from __future__ import annotations

import re
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
    # A member, not a head: a head may not leave a household of others without one.
    mover, card = next((rid, d) for rid, d in people if d["household_relation"] != "head")
    other = next(d for _, d in people if d["hukou_address"] != card["hukou_address"])
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


def _people(village) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]  # helpers' Village
    store = NodeStore.open(village.data_dir)
    try:
        return list(store.records("person"))
    finally:
        store.close()


def test_the_card_names_the_head_and_each_members_relationship(tmp_path: Path) -> None:
    village = make_village(tmp_path, residents=80)
    people = _people(village)
    heads = {d["hukou_address"]: (rid, d) for rid, d in people if d["household_relation"] == "head"}
    member, card = next(
        (rid, d)
        for rid, d in people
        if d["household_relation"] == "spouse" and d["hukou_address"] in heads
    )
    head_id, head = heads[card["hukou_address"]]
    client = village.app.test_client()
    sign_in(client)
    html = client.get(f"/people/{member}").get_data(as_text=True)
    named = re.search(r'id="household-head">.*?</p>', html, re.S)
    assert named is not None and str(head["name"]) in named.group(0)
    assert f"/people/{head_id}" in named.group(0)
    row = re.search(rf'<tr><td><a href="/people/{head_id}">.*?</tr>', html, re.S)
    assert row is not None and "户主" in row.group(0)  # the head's row says 户主
    assert "与户主关系" in html and "配偶" in html  # her own card's fact
    own = client.get(f"/people/{head_id}").get_data(as_text=True)
    assert re.search(r'id="household-head">\s*户主：\s*本人', own)


def test_a_second_head_is_refused_and_the_head_changes_in_one_edit(tmp_path: Path) -> None:
    """One head per household (node/households.py): the form refuses a second head,
    naming the household's head, and with the former head's new relation it changes
    the head, both cards in one edit."""
    village = make_village(tmp_path, residents=80)
    people = _people(village)
    heads = {d["hukou_address"]: rid for rid, d in people if d["household_relation"] == "head"}
    mover, card = next((rid, d) for rid, d in people if d["household_relation"] != "head")
    target = next(a for a in sorted(heads) if a != card["hukou_address"])
    head = dict(people)[heads[target]]
    client = village.app.test_client()
    sign_in(client)
    form = client.get(f"/households/{mover}/move").get_data(as_text=True)
    assert '<select id="relation"' in form and ">户主<" in form and ">head<" not in form
    assert '<select id="former_relation"' in form
    token = form_token(client, f"/households/{mover}/move")
    refused = client.post(
        f"/households/{mover}/move",
        data={"address": target, "relation": "head", "csrf_token": token},
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "已有户主" in html and str(head["name"]) in html
    assert dict(_people(village))[mover] == card  # nothing written
    changed = client.post(
        f"/households/{mover}/move",
        data={
            "address": target,
            "relation": "head",
            "former_relation": "spouse",
            "csrf_token": token,
        },
    )
    assert changed.status_code == 302
    after = client.get(f"/people/{mover}").get_data(as_text=True)
    assert "不再是该户户主" in after and str(head["name"]) in after
    saved = dict(_people(village))
    assert (saved[mover]["hukou_address"], saved[mover]["household_relation"]) == (target, "head")
    assert saved[heads[target]]["household_relation"] == "spouse"
    wrong = client.post(
        f"/households/{mover}/move",
        data={"address": target, "relation": "boss", "csrf_token": token},
    )
    assert wrong.status_code == 400 and "户主" in wrong.get_data(as_text=True)


def test_closing_the_head_of_a_household_of_others_is_refused(tmp_path: Path) -> None:
    village = make_village(tmp_path, residents=80)
    people = _people(village)
    addresses = [d["hukou_address"] for _, d in people]
    head, card = next(
        (rid, d)
        for rid, d in people
        if d["household_relation"] == "head" and addresses.count(d["hukou_address"]) > 1
    )
    client = village.app.test_client()
    sign_in(client)
    token = form_token(client, f"/households/{head}/move")
    closed = client.post(
        f"/records/person/{head}/close", data={"csrf_token": token, "reason": "moved_away"}
    )
    assert closed.status_code == 302
    page = client.get(f"/people/{head}").get_data(as_text=True)
    assert "的户的户主" in page and str(card["hukou_address"]) in page and "请先更换户主" in page
    assert dict(_people(village))[head].get("_retired") is None


def test_the_cards_audit_says_why_it_was_read_in_chinese(tmp_path: Path) -> None:
    village = make_village(tmp_path, residents=40)
    rid = _people(village)[0][0]
    officer = village.app.test_client()
    sign_in(officer)
    officer.get(f"/households/{rid}/move")
    officer.get(f"/records/person/{rid}/edit")
    html = officer.get(f"/people/{rid}").get_data(as_text=True)
    assert "打开迁户表单" in html and "打开更正表单" in html
    assert "household form" not in html and "correction form" not in html
