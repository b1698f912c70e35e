# SPDX-License-Identifier: Apache-2.0
"""Finding a person and opening her card: what is shown, what is audited, who may."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from node.store.store import NodeStore
from tests.node.pages.helpers import Village, form_token, make_village, sign_in


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Village:
    return make_village(tmp_path_factory.mktemp("people"), residents=250)


@pytest.fixture(scope="module")
def person(village: Village) -> tuple[str, dict[str, object]]:
    """A woman's card with a name of two or more characters."""
    store = NodeStore.open(village.data_dir)
    try:
        for rid, data in store.records("person"):
            if data["card_type"] == "woman" and len(str(data["name"])) >= 2:
                return rid, data
    finally:
        store.close()
    raise AssertionError("the generated village has no woman's card")


@pytest.fixture
def officer(village: Village) -> Iterator[FlaskClient]:
    client = village.app.test_client()
    sign_in(client)
    yield client


def _results(client: FlaskClient, **query: str) -> str:
    """Search as the form does: POST, then the results page it redirects to."""
    sent = client.post("/people", data={**query, "csrf_token": form_token(client, "/people")})
    assert sent.status_code == 302
    location = sent.headers["Location"]
    for value in query.values():  # nothing searched for is ever in a URL
        assert value not in location
    response = client.get(location)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _ids(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="/people/([A-Za-z0-9.]+)\?via=', html)))


def _audit(village: Village) -> list[tuple[str, str, str, str, str]]:
    store = NodeStore.open(village.data_dir)
    try:
        return store.db.execute(
            "SELECT actor, action, kind, record_id, purpose FROM audit ORDER BY rowid"
        ).fetchall()
    finally:
        store.close()


def test_search_by_name(officer: FlaskClient, person: tuple[str, dict[str, object]]) -> None:
    rid, data = person
    assert rid in _ids(_results(officer, q=str(data["name"])))


def test_search_by_pinyin_initials(
    officer: FlaskClient, person: tuple[str, dict[str, object]]
) -> None:
    from pypinyin import Style, lazy_pinyin

    rid, data = person
    initials = "".join(lazy_pinyin(str(data["name"]), style=Style.FIRST_LETTER))
    assert rid in _ids(_results(officer, q=initials))
    assert rid in _ids(_results(officer, q=initials.upper()))


def test_search_by_id_number_full_or_last_digits(
    officer: FlaskClient, person: tuple[str, dict[str, object]]
) -> None:
    rid, data = person
    number = str(data["id_number"])
    assert _ids(_results(officer, q=number)) == [rid]
    assert rid in _ids(_results(officer, q=number[-6:]))
    assert rid in _ids(_results(officer, q=number[-4:].lower()))


def test_search_by_household_and_group(
    officer: FlaskClient, person: tuple[str, dict[str, object]]
) -> None:
    from node.pages.people_index import group_of

    rid, data = person
    address = str(data["hukou_address"])
    house = address[address.index("村") + 1 :]  # "3组45号"
    assert rid in _ids(_results(officer, household=house))
    group = group_of(address)
    assert group and rid in _ids(_results(officer, group=group, q=str(data["name"])))
    other = "1" if group != "1" else "2"
    assert rid not in _ids(_results(officer, group=other, q=str(data["name"])))


def test_results_tell_people_apart_and_show_nothing_more(
    officer: FlaskClient, person: tuple[str, dict[str, object]]
) -> None:
    rid, data = person
    html = _results(officer, q=str(data["id_number"]))
    assert str(data["birth_date"])[:4] in html and "女" in html
    shown = html.replace(f'value="{data["id_number"]}"', "")  # the search box keeps the query
    for private in ("id_number", "phone", "hukou_address", "birth_date"):
        assert str(data[private]) not in shown, private


def test_nothing_found_says_what_to_try(officer: FlaskClient) -> None:
    assert "没有找到" in _results(officer, q="没有这个名字的人")


def test_another_officers_search_cannot_be_replayed(
    village: Village, officer: FlaskClient, person: tuple[str, dict[str, object]]
) -> None:
    sent = officer.post(
        "/people", data={"q": person[1]["name"], "csrf_token": form_token(officer, "/people")}
    )
    reviewer = village.app.test_client()
    sign_in(reviewer, "township_reviewer")
    assert reviewer.get(sent.headers["Location"]).status_code == 404


def test_opening_a_card_is_audited_with_the_search_that_led_there(
    village: Village, officer: FlaskClient, person: tuple[str, dict[str, object]]
) -> None:
    rid, data = person
    html = _results(officer, q=str(data["name"]))
    link = re.search(rf'href="(/people/{re.escape(rid)}\?via=\d+)"', html)
    assert link is not None
    card = officer.get(link.group(1))
    assert card.status_code == 200
    page = card.get_data(as_text=True)
    assert str(data["id_number"]) in page and "信息卡查看记录" in page
    rows = _audit(village)
    search = [r for r in rows if r[1] == "search"][-1]
    assert search[0] == "王芳" and json.loads(search[4])["q"] == data["name"]
    read = rows[-1]
    assert read[:4] == ("王芳", "read", "person", rid)
    assert read[4].startswith("search #") and read[4].endswith(f": {data['name']}")
    assert "从查找" in page


def test_a_card_opened_without_a_search_is_audited_too(
    village: Village, officer: FlaskClient, person: tuple[str, dict[str, object]]
) -> None:
    rid, _ = person
    assert officer.get(f"/people/{rid}?via=999999").status_code == 200
    assert _audit(village)[-1] == ("王芳", "read", "person", rid, "opened directly")


def test_the_card_shows_history_household_and_events(
    officer: FlaskClient, person: tuple[str, dict[str, object]]
) -> None:
    rid, data = person
    page = officer.get(f"/people/{rid}").get_data(as_text=True)
    assert 'id="history"' in page and "建立信息卡" in page
    assert "同户人员" in page and "婚育等事件" in page and "接受的服务" in page
    born = str(data["birth_date"])
    assert f"{int(born[:4])}年{int(born[5:7])}月{int(born[8:])}日" in page


@pytest.mark.parametrize("role", ["county_statistician", "county_admin", "auditor"])
def test_a_role_without_the_right_cannot_search_or_open_a_card(
    village: Village, person: tuple[str, dict[str, object]], role: str
) -> None:
    rid, data = person
    client = village.app.test_client()
    sign_in(client, role)
    before = len(_audit(village))
    opened = client.get(f"/people/{rid}")
    token = form_token(client)
    searched = client.post("/people", data={"q": str(data["name"]), "csrf_token": token})
    assert opened.status_code == searched.status_code == client.get("/people").status_code == 403
    assert str(data["name"]) not in opened.get_data(as_text=True)
    assert len(_audit(village)) == before  # nothing was read, so nothing to audit
    assert "查找人员" not in client.get("/home").get_data(as_text=True)


def test_searches_beyond_the_hours_cap_are_refused_then_allowed_again(tmp_path: Path) -> None:
    """Walking the register name by name is stopped at the cap (a 429 page in Chinese,
    the refused search not run); the cap is per operator and per hour."""
    village = make_village(tmp_path / "cap")
    village.app.config["RENKOU_SEARCHES_PER_HOUR"] = 3
    officer = village.app.test_client()
    sign_in(officer)

    def search(client: FlaskClient, q: str) -> object:
        return client.post("/people", data={"q": q, "csrf_token": form_token(client, "/people")})

    for name in ("张三", "李四", "王五"):
        assert search(officer, name).headers["Location"].startswith("/people?s=")
    refused = search(officer, "赵六")
    assert refused.status_code == 429
    assert "过去一小时内您已查找 3 次，已达上限" in refused.get_data(as_text=True)
    searches = [r for r in _audit(village) if r[1] == "search"]
    assert [json.loads(r[4])["q"] for r in searches] == ["张三", "李四", "王五"]
    reviewer = village.app.test_client()
    sign_in(reviewer, "township_reviewer")
    assert search(reviewer, "赵六").headers["Location"].startswith("/people?s=")
    village.clock.advance(3601)
    sign_in(officer)  # the session ended while idle
    assert search(officer, "赵六").headers["Location"].startswith("/people?s=")


def test_the_township_reviewer_may_read_cards(
    village: Village, person: tuple[str, dict[str, object]]
) -> None:
    client = village.app.test_client()
    sign_in(client, "township_reviewer")
    assert client.get(f"/people/{person[0]}").status_code == 200


@pytest.mark.parametrize("bad", ["NOPE999", "x" * 80, "P1%00", "-P1"])
def test_an_unknown_or_malformed_card_id_is_a_404_page(officer: FlaskClient, bad: str) -> None:
    response = officer.get(f"/people/{bad}")
    assert response.status_code == 404
    assert "text/html" in response.headers["Content-Type"]


def test_the_index_follows_new_cards(tmp_path: Path) -> None:
    from node.pages.people_index import PeopleIndex
    from node.recording import add_record
    from tests.bench.bench_store import _cards

    village = make_village(tmp_path)
    store = NodeStore.open(village.data_dir)
    try:
        index = PeopleIndex()
        index.refresh(store)
        assert len(index) == 0
        card = next(_cards(1))
        from datetime import date

        rid = add_record(store, "person", {**card, "name": "曾小单"}, today=date(2026, 3, 1))
        index.refresh(store)
        assert [h.record_id for h in index.search("zxd")] == [rid]
        assert [h.record_id for h in index.search("cxs")] == [rid]  # 曾 and 单 read two ways
        assert [h.record_id for h in index.search("zengxiao")] == [rid]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("address", "group"),
    [("上南村3组45号", "3"), ("上南村十二组8号", "12"), ("上南村二十组", "20"), ("上南村", "")],
)
def test_group_of_an_address(address: str, group: str) -> None:
    from node.pages.people_index import group_of

    assert group_of(address) == group
