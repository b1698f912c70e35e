# SPDX-License-Identifier: Apache-2.0
"""Record, correct and close through the generated forms: Chinese labels and codes,
field errors next to the field, nothing written on error, corrections with base versions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from node.domain.records import RECORD_KINDS
from node.pages.forms import build_form
from node.store.store import NodeStore
from tests.node.pages.helpers import Village, form_token, make_village, sign_in


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Village:
    return make_village(tmp_path_factory.mktemp("records"), residents=200)


@pytest.fixture
def officer(village: Village) -> FlaskClient:
    client = village.app.test_client()
    sign_in(client)
    return client


def _store(village: Village) -> NodeStore:
    return NodeStore.open(village.data_dir)


def _mother(village: Village) -> tuple[str, dict[str, object]]:
    store = _store(village)
    try:
        return next(
            (rid, d)
            for rid, d in store.records("person")
            if d["card_type"] == "woman" and str(d["birth_date"]) < "1996"
        )
    finally:
        store.close()


def _head(village: Village) -> int:
    store = _store(village)
    try:
        return store.changelog.head_seq
    finally:
        store.close()


@pytest.mark.parametrize("kind", sorted(RECORD_KINDS))
def test_every_kind_has_a_form_with_chinese_labels_and_no_english_codes(
    officer: FlaskClient, kind: str
) -> None:
    page = officer.get(f"/records/new/{kind}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    fields, _ = build_form(kind, {})
    for f in fields:
        assert re.search(r"[\u4e00-\u9fff]", f.label), f"{kind}.{f.name} has no Chinese label"
        for code, label in f.choices:
            assert re.search(r"[\u4e00-\u9fff]", label), f"{kind}.{f.name}={code} shows a code"
            assert f">{code}<" not in html and f"> {code}</label>" not in html


def test_the_person_form_offers_sex_as_radio_buttons_in_chinese(officer: FlaskClient) -> None:
    html = officer.get("/records/new/person").get_data(as_text=True)
    assert 'type="radio" name="sex" value="F"> 女' in html
    assert 'type="radio" name="sex" value="M"> 男' in html
    assert '<select id="in-marital_status"' in html  # five choices: a drop-down


def test_a_birth_with_an_error_shows_it_next_to_the_field_and_writes_nothing(
    village: Village, officer: FlaskClient
) -> None:
    mother, _ = _mother(village)
    form = {
        "mother_ref": mother,
        "child_sex": "F",
        "birth_date": "2026-02-30",  # no such day
        "birth_order": "1",
        "birth_place": "博罗县人民医院",
        "csrf_token": form_token(officer, f"/records/new/birth?for={mother}"),
    }
    before = _head(village)
    refused = officer.post("/records/new/birth", data=form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    field = re.search(r'id="field-birth_date".*?</div>', html, re.S)
    assert field is not None and "不是有效的日期" in field.group(0)
    assert 'value="博罗县人民医院"' in html  # what was typed is kept
    assert _head(village) == before
    form["birth_date"] = "2026-02-28"
    saved = officer.post("/records/new/birth", data=form)
    assert saved.status_code == 302 and saved.headers["Location"] == f"/people/{mother}"
    assert _head(village) == before + 1
    card = officer.get(f"/people/{mother}").get_data(as_text=True)
    assert "已保存" in card and "2026年2月28日" in card


def test_a_safeguard_refusal_is_a_422_with_the_rule_in_chinese(
    village: Village, officer: FlaskClient
) -> None:
    mother, _ = _mother(village)
    form = {
        "person_ref": mother,
        "method": "iud_insertion",
        "chosen_date": "2026-02-01",
        "procedure_date": "2026-02-02",
        "provider": "镇卫生院",
        "informed_consent": "false",
        "csrf_token": form_token(officer),
    }
    refused = officer.post("/records/new/contraceptive_procedure", data=form)
    assert refused.status_code == 422
    assert "知情选择" in refused.get_data(as_text=True)


def test_required_fields_left_empty_say_so(officer: FlaskClient) -> None:
    refused = officer.post("/records/new/person", data={"csrf_token": form_token(officer)})
    assert refused.status_code == 400
    assert refused.get_data(as_text=True).count("此项必填") >= 8


def test_correcting_a_card_writes_only_the_changed_field_with_its_base_version(
    village: Village, officer: FlaskClient
) -> None:
    rid, data = _mother(village)
    edit = officer.get(f"/records/person/{rid}/edit").get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d+)"', edit)
    assert seen is not None
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    form.update(phone="13800000000", seen=seen.group(1), csrf_token=form_token(officer))
    saved = officer.post(f"/records/person/{rid}/edit", data=form)
    assert saved.status_code == 302
    store = _store(village)
    try:
        entry = list(store.entries(store.changelog.head_seq))[0]
        from protocol import decode_payload

        (op,) = decode_payload(entry.payload or b"")
        assert list(op.fields) == ["phone"] and op.fields["phone"][0] == "13800000000"
        assert op.fields["phone"][1] > 0  # the base version this node held
        audit = store.db.execute("SELECT actor, action FROM audit ORDER BY rowid DESC").fetchone()
        assert audit == ("王芳", "correct")
    finally:
        store.close()
    history = officer.get(f"/people/{rid}").get_data(as_text=True)
    assert "13800000000" in history and "王芳" in history


def test_a_correction_of_a_card_changed_meanwhile_is_refused(
    village: Village, officer: FlaskClient
) -> None:
    rid, data = _mother(village)
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    form.update(phone="13900000000", seen="1", csrf_token=form_token(officer))
    before = _head(village)
    refused = officer.post(f"/records/person/{rid}/edit", data=form)
    assert refused.status_code == 400 and "已被修改" in refused.get_data(as_text=True)
    assert _head(village) == before


def test_closing_a_card_needs_a_reason(village: Village, tmp_path: Path) -> None:
    fresh = make_village(tmp_path, residents=30)
    client = fresh.app.test_client()
    sign_in(client)
    store = _store(fresh)
    try:  # not a head: a head may not leave a household of others without one
        rid = next(r for r, d in store.records("person") if d["household_relation"] != "head")
    finally:
        store.close()
    token = form_token(client)
    assert (
        client.post(f"/records/person/{rid}/close", data={"csrf_token": token}).status_code == 302
    )
    store = _store(fresh)
    try:
        assert store.record("person", rid)["_retired"] is None  # type: ignore[index]  # found above
    finally:
        store.close()
    client.post(f"/records/person/{rid}/close", data={"csrf_token": token, "reason": "moved_away"})
    store = _store(fresh)
    try:
        assert store.record("person", rid)["_retired"] == "moved_away"  # type: ignore[index]  # found above
    finally:
        store.close()
    assert "已注销：户口迁出" in client.get(f"/people/{rid}").get_data(as_text=True)


@pytest.mark.parametrize("role", ["township_reviewer", "auditor", "county_admin"])
def test_only_the_village_officer_may_write(village: Village, role: str) -> None:
    rid, _ = _mother(village)
    client = village.app.test_client()
    sign_in(client, role)
    token = form_token(client)
    before = _head(village)
    assert client.get("/records/new/birth").status_code == 403
    assert client.post(f"/records/person/{rid}/edit", data={"csrf_token": token}).status_code == 403
    assert (
        client.post(f"/records/person/{rid}/close", data={"csrf_token": token}).status_code == 403
    )
    assert _head(village) == before


def test_a_kept_store_writes_after_the_head_another_connection_moved(
    village: Village, officer: FlaskClient
) -> None:
    """The pages keep stores open between requests (node/pages/pool.py); a write made
    meanwhile by the CLI must not make the next page write reuse a seq."""
    from datetime import date

    from node.recording import add_record

    rid, data = _mother(village)
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    token = form_token(officer)
    officer.post(f"/records/person/{rid}/edit", data={**form, "phone": "13700000001",
                                                      "csrf_token": token})  # fmt: skip
    store = _store(village)
    try:  # another connection writes: the page's kept store now has an old head
        receipt = {"item": "condom", "quantity": 10, "received_date": "2026-03-01",
                   "source": "县计生服务站"}  # fmt: skip
        add_record(store, "supply_receipt", receipt, today=date(2026, 3, 5))
        head = store.changelog.head_seq
    finally:
        store.close()
    saved = officer.post(
        f"/records/person/{rid}/edit", data={**form, "phone": "13700000002", "csrf_token": token}
    )
    assert saved.status_code == 302
    assert _head(village) == head + 1
    store = _store(village)
    try:
        assert store.verify_log() == head + 1
    finally:
        store.close()
