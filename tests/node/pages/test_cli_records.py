# SPDX-License-Identifier: Apache-2.0
"""``renkou node add`` reads what a village PC writes (BOM, GBK, many cards, 女) and
``renkou node edit`` corrects a record as the correction form does."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.domain.resident_id import make_resident_id
from node.store.store import NodeStore
from tests.node.domain.examples import woman_card


@pytest.fixture
def village(tmp_path: Path) -> Path:
    data = tmp_path / "village"
    result = CliRunner().invoke(
        cli, ["node", "init", "--code", "440104001002", "--name", "测试村", "--data-dir", str(data)]
    )
    assert result.exit_code == 0, result.output
    return data


def _add(village: Path, path: Path, *extra: str):  # type: ignore[no-untyped-def]  # click Result
    return CliRunner().invoke(
        cli,
        ["node", "add", "person", "--file", str(path), "--today", "2026-11-28",
         "--data-dir", str(village), *extra],
    )  # fmt: skip


def _cards(n: int) -> list[dict[str, object]]:
    born = date(1990, 5, 17)
    return [
        woman_card(
            spouse_ref=None,
            id_number=make_resident_id("440104", born, 10 + 2 * i, "F"),
            name=f"张秀{i}",
        )
        for i in range(n)
    ]


def _count(village: Path) -> int:
    store = NodeStore.open(village)
    try:
        return sum(1 for _ in store.records("person"))
    finally:
        store.close()


@pytest.mark.parametrize(
    ("encoding", "note"), [("utf-8", False), ("utf-8-sig", False), ("gbk", True)]
)
def test_a_card_saved_by_notepad_is_read(
    village: Path, tmp_path: Path, encoding: str, note: bool
) -> None:
    path = tmp_path / "card.json"
    path.write_bytes(json.dumps(_cards(1)[0], ensure_ascii=False).encode(encoding))
    result = _add(village, path)
    assert result.exit_code == 0, result.output
    assert ("按 GBK 读取" in result.output) is note
    store = NodeStore.open(village)
    try:
        assert [d["name"] for _, d in store.records("person")] == ["张秀0"]
    finally:
        store.close()


def test_chinese_names_of_coded_values_are_accepted(village: Path, tmp_path: Path) -> None:
    card = {**_cards(1)[0], "sex": "女", "marital_status": "已婚", "card_type": "育龄妇女"}
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    result = _add(village, path)
    assert result.exit_code == 0, result.output
    store = NodeStore.open(village)
    try:
        ((_, stored),) = list(store.records("person"))
        assert (stored["sex"], stored["marital_status"]) == ("F", "married")
    finally:
        store.close()


@pytest.mark.parametrize("layout", ["array", "lines"])
def test_many_cards_in_one_file_one_process(village: Path, tmp_path: Path, layout: str) -> None:
    cards = _cards(30)
    path = tmp_path / "cards.json"
    text = (
        json.dumps(cards, ensure_ascii=False)
        if layout == "array"
        else "\n".join(json.dumps(c, ensure_ascii=False) for c in cards)
    )
    path.write_text(text, encoding="utf-8")
    result = _add(village, path)
    assert result.exit_code == 0, result.output
    assert result.output.split() == [f"P{i}" for i in range(1, 31)]
    assert _count(village) == 30


def test_a_bad_card_among_many_writes_nothing_and_names_its_row(
    village: Path, tmp_path: Path
) -> None:
    cards = _cards(5)
    cards[3]["birth_date"] = "1990-02-30"
    path = tmp_path / "cards.json"
    path.write_text(json.dumps(cards, ensure_ascii=False), encoding="utf-8")
    result = _add(village, path)
    assert result.exit_code == 1
    assert "#4 birth_date: 不是有效的日期" in result.output
    assert _count(village) == 0
    kept = _add(village, path, "--keep-good")
    assert kept.exit_code == 1 and "4 条已登记，1 条被拒" in kept.output
    assert _count(village) == 4


def test_add_help_lists_kinds_fields_codes_and_an_example() -> None:
    result = CliRunner().invoke(cli, ["node", "add", "--help"])
    assert result.exit_code == 0
    for text in ("person 人员信息卡", "sex*(性别: F=女 M=男)", "birth 出生", "mother_ref*(母亲",
                 '"card_type": "woman"', "GBK"):  # fmt: skip
        assert text in result.output


def test_edit_corrects_a_field_with_its_base_version(village: Path, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text(json.dumps(_cards(1)[0], ensure_ascii=False), encoding="utf-8")
    assert _add(village, path).exit_code == 0
    result = CliRunner().invoke(
        cli,
        ["node", "edit", "P1", "--set", "phone=13912345678", "--set", "marital_status=离婚",
         "--today", "2026-11-28", "--data-dir", str(village)],
        env={"LANG": "zh_CN.UTF-8"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "更正已保存" in result.output
    store = NodeStore.open(village)
    try:
        card = store.record("person", "P1")
        assert card is not None
        assert (card["phone"], card["marital_status"]) == ("13912345678", "divorced")
        (op,) = __import__("protocol").decode_payload(list(store.entries(3))[0].payload)
        assert sorted(op.fields) == ["marital_status", "phone"]
        assert op.fields["marital_status"][1] == 2  # based on the version written at seq 2
    finally:
        store.close()


@pytest.mark.parametrize(
    ("assignment", "says"),
    [("nickname=阿英", "没有这个字段"), ("birth_date=1990-02-30", "不是有效的日期")],
)
def test_edit_refuses_bad_input_and_writes_nothing(
    village: Path, tmp_path: Path, assignment: str, says: str
) -> None:
    path = tmp_path / "card.json"
    path.write_text(json.dumps(_cards(1)[0], ensure_ascii=False), encoding="utf-8")
    _add(village, path)
    result = CliRunner().invoke(
        cli, ["node", "edit", "P1", "--set", assignment, "--data-dir", str(village)]
    )
    assert result.exit_code == 1 and says in result.output
    store = NodeStore.open(village)
    try:
        assert store.changelog.head_seq == 2
    finally:
        store.close()


def test_the_example_card_of_the_help_is_valid() -> None:
    from datetime import date

    from node.cli.card_files import EXAMPLE
    from node.domain.records import validate_record
    from node.pages.forms import plain_codes

    card = plain_codes("person", json.loads(EXAMPLE))
    assert validate_record("person", card, today=date(2026, 3, 5))["household_relation"] == "head"
