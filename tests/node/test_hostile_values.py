# SPDX-License-Identifier: Apache-2.0
"""Hostile values go in and come back intact: through the CLI, the store and the pages'
search (issue 17 item 1, "parameterised SQL everywhere, and a test with hostile values").

Quotes, ``'); DROP TABLE``, SQL comments and LIKE wildcards are values like any other:
stored as written, found by search, and every table still there. What the rules refuse
(a NUL, a lone surrogate, text over a field's length) is refused with the field's
message and nothing is written. tests/test_sql_values.py is the structural half: no
value is ever spliced into SQL text.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape

from deploy.cli import cli
from node.domain.resident_id import make_resident_id
from node.domain.schemas.people import ADDRESS_LENGTH, NAME_LENGTH
from node.recording import add_record
from node.store import lookup
from node.store.store import NodeStore
from tests.node.domain.examples import woman_card
from tests.node.pages.helpers import form_token, make_village, sign_in

HOSTILE = (
    "O'Brien 欧'阳",
    "'); DROP TABLE records; --",
    'x" OR "1"="1',
    "x' OR '1'='1' --",
    "%_! 百分号\\反斜杠",
    "张' || (SELECT phone FROM records) || '",
    "); DELETE FROM audit; SELECT ('",
    "<b>王</b>\"'`",
)
TODAY = date(2026, 11, 28)
BORN = date(1990, 5, 17)


def _card(i: int, name: str, /, **changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "spouse_ref": None,
        "id_number": make_resident_id("440104", BORN, 10 + 2 * i, "F"),
        "name": name,
        "hukou_address": f"广州市越秀区{name}1号",
        "residence_address": f"{name}路2号",
    }
    return woman_card(**{**fields, **changes})


def _tables(store: NodeStore) -> list[str]:
    return [r[0] for r in store.db.execute("SELECT name FROM sqlite_master ORDER BY name")]


def _by_name(store: NodeStore) -> dict[str, dict[str, object]]:
    return {str(data["name"]): data for _, data in store.records("person")}


@pytest.fixture
def village(tmp_path: Path) -> Path:
    data = tmp_path / "village"
    result = CliRunner().invoke(
        cli, ["node", "init", "--code", "440104001002", "--name", "测试村", "--data-dir", str(data)]
    )
    assert result.exit_code == 0, result.output
    return data


def _add(village: Path, tmp_path: Path, cards: list[dict[str, object]]):  # type: ignore[no-untyped-def]  # click Result
    path = tmp_path / "cards.json"
    path.write_text(json.dumps(cards), encoding="utf-8")
    return CliRunner().invoke(
        cli,
        ["node", "add", "person", "--file", str(path), "--today", TODAY.isoformat(),
         "--data-dir", str(village)],
    )  # fmt: skip


def test_hostile_values_written_through_the_cli_read_back_intact(
    village: Path, tmp_path: Path
) -> None:
    assert all(len(h) <= NAME_LENGTH for h in HOSTILE)
    longest = ("'\"" * ADDRESS_LENGTH)[:ADDRESS_LENGTH]  # exactly as long as allowed
    cards = [_card(i, h) for i, h in enumerate(HOSTILE)]
    cards.append(_card(len(HOSTILE), "李四", hukou_address=longest))
    store = NodeStore.open(village)
    before = _tables(store)
    store.close()

    result = _add(village, tmp_path, cards)

    assert result.exit_code == 0, result.output
    store = NodeStore.open(village)
    try:
        assert _tables(store) == before
        held = _by_name(store)
        assert sorted(held) == sorted([*HOSTILE, "李四"])
        for card in cards:
            kept = held[str(card["name"])]
            for field in ("name", "hukou_address", "residence_address", "id_number"):
                assert kept[field] == card[field], field
    finally:
        store.close()


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", "张\x00秀英", "text_control_char"),
        ("name", "张\ud800秀英", "text_control_char"),  # a lone surrogate, from a \u escape
        ("hukou_address", "'" * (ADDRESS_LENGTH + 1), "text_too_long"),
        ("name", "'); DROP TABLE records; --" + "x" * NAME_LENGTH, "text_too_long"),
    ],
    ids=["nul", "lone-surrogate", "address-too-long", "name-too-long"],
)
def test_what_the_rules_refuse_is_refused_naming_the_field_and_nothing_is_written(
    village: Path, tmp_path: Path, field: str, value: str, code: str
) -> None:
    store = NodeStore.open(village)
    head = store.changelog.head_seq
    store.close()
    result = _add(village, tmp_path, [_card(0, "王五", **{field: value})])
    assert result.exit_code == 1, result.output
    assert code in result.output and field in result.output
    store = NodeStore.open(village)
    try:
        assert list(store.records("person")) == []
        assert store.changelog.head_seq == head
    finally:
        store.close()


def test_hostile_values_written_through_the_store_read_back_intact(village: Path) -> None:
    """Below the rules (a value that came from another node): NUL, quotes and statements
    up to the payload bound are stored as written; a lone surrogate cannot be encoded,
    and a payload over the bound is refused, before anything is written."""
    store = NodeStore.open(village)
    try:
        before = _tables(store)
        values = {
            "nul": "a\x00'b\x00",
            "long": "');--" * 12_000,
            **{f"h{i}": h for i, h in enumerate(HOSTILE)},
        }
        rid = store.new_id("person")
        store.write([store.upsert_op("person", rid, values)])
        kept = store.record("person", rid)
        assert {k: kept[k] for k in values} == values
        for hostile in HOSTILE:  # a hostile id or reference finds nothing, harms nothing
            assert store.record("person", hostile) is None
            assert lookup.RecordLookup(store.db).naming("pregnancy", "person_ref", hostile) == []
            assert lookup.stock_movements(store.db, hostile) == []
        head = store.changelog.head_seq
        for refused in ("\ud800", "'" * 70_000):
            with pytest.raises(ValueError):
                store.write([store.upsert_op("person", store.new_id("person"), {"name": refused})])
        assert store.changelog.head_seq == head
        assert [r for r, _ in store.records("person")] == [rid]
        assert _tables(store) == before
    finally:
        store.close()


def test_the_pages_search_takes_hostile_values_as_values(tmp_path: Path) -> None:
    """Each hostile name is found by searching for it, shown escaped, and kept intact in
    the search's audit row; searching for SQL drops nothing."""
    village = make_village(tmp_path)
    store = NodeStore.open(village.data_dir)
    try:
        ids = {
            h: add_record(store, "person", _card(i, h), today=TODAY) for i, h in enumerate(HOSTILE)
        }
        before = _tables(store)
    finally:
        store.close()
    client = village.app.test_client()
    sign_in(client)
    for hostile, rid in ids.items():
        sent = client.post(
            "/people", data={"q": hostile, "csrf_token": form_token(client, "/people")}
        )
        assert sent.status_code == 302
        page = client.get(sent.headers["Location"])
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert rid in re.findall(r'href="/people/([A-Za-z0-9.]+)\?via=', html), hostile
        assert escape(hostile) in html
        if escape(hostile) != hostile:
            assert hostile not in html
    store = NodeStore.open(village.data_dir)
    try:
        searched = [
            json.loads(purpose)["q"]
            for (purpose,) in store.db.execute(
                "SELECT purpose FROM audit WHERE action = 'search' ORDER BY rowid"
            )
        ]
        assert searched == list(HOSTILE)
        assert _tables(store) == before
        assert len(list(store.records("person"))) == len(HOSTILE)
    finally:
        store.close()
