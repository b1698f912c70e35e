# SPDX-License-Identifier: Apache-2.0
"""Printing archives what was printed, signed, and audits it (issue 16 item 5, issue 11
item 7); the floating registers, the public notice and the check report slip."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from node.errors import ValidationError
from node.recording import add_record
from node.registers import build_register
from node.registers.filters import mask_name
from node.registers.printing import print_register, print_slip
from node.store import archive
from node.store.store import NodeStore
from protocol import NodeId, SignatureError
from tests.node.domain.examples import example, floating_in_card, woman_card

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 3, tzinfo=UTC)


def open_store(root: Path, code: str = "440104001002") -> NodeStore:
    return NodeStore.init(root / code, NodeId.for_code(code), "测试村")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[NodeStore]:
    opened = open_store(tmp_path)
    yield opened
    opened.close()


def hukou_card(**changes: Any) -> dict[str, Any]:
    return woman_card(
        hukou_code="440104001002", floating_status="resident", floating_since=None,
        floating_place=None, spouse_ref=None, **changes,
    )  # fmt: skip


def csv_rows(output: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(output.decode("utf-8").removeprefix("\ufeff"))))


def test_a_print_is_archived_as_printed_signed_and_audited(store: NodeStore) -> None:
    """Issue 16 item 5, 篇3 第30条: what was printed is what is kept, signed with the
    node's key; a later correction of the record does not change the archive."""
    w = add_record(store, "person", hukou_card(name="王芳"), today=TODAY)
    add_record(store, "marriage", example("marriage", woman_ref=w, marriage_date="2026-11-02"),
               today=TODAY)  # fmt: skip
    printed = print_register(store, "marriages", "2026-11", "csv", actor="李专干",
                             purpose="月度归档", now=NOW)  # fmt: skip
    assert "王芳" in printed.output.decode("utf-8")
    kept = archive.get(store, printed.archive_id)
    assert kept.output == printed.output and kept.actor == "李专干" and kept.keep_until is None
    archive.verify(store, printed.archive_id)
    from node.recording import update_record

    update_record(store, "person", w, {"name": "王芳芳"}, today=TODAY)
    assert archive.get(store, printed.archive_id).output == printed.output
    archive.verify(store, printed.archive_id)
    rows = store.db.execute("SELECT actor, action, kind, record_id FROM audit").fetchall()
    assert ("李专干", "print_register", "marriages", "2026-11") in rows


def test_a_changed_archive_fails_verification(store: NodeStore) -> None:
    printed = print_register(store, "births", "2026-11", "xlsx", actor="专干", purpose="t", now=NOW)
    store.db.execute("UPDATE archives SET output = ? WHERE id = ?", [b"forged", printed.archive_id])
    with pytest.raises(ValueError):
        archive.verify(store, printed.archive_id)
    other = open_store(store.data_dir.parent, "440104001003")
    try:
        store.db.execute(
            "UPDATE archives SET signed = ? WHERE id = ?",
            [archive.get(other, print_register(other, "births", "2026-11", "csv", actor="x",
                                               purpose="t", now=NOW).archive_id).signed,
             printed.archive_id],
        )  # fmt: skip
        with pytest.raises(SignatureError):
            archive.verify(store, printed.archive_id)
    finally:
        other.close()


def test_retention_of_prints_village_and_township(tmp_path: Path) -> None:
    """domain.md 4: the village keeps its registers long-term and its monthly change slips
    2 years; the township keeps half-year and annual reports 10 years, monthly reports
    and registers 5 (篇3 第30条, 篇4 第45条)."""
    village = open_store(tmp_path)
    township = open_store(tmp_path, "440104001")
    try:
        long_term = print_register(village, "births", "2026-11", "csv", actor="x", purpose="t",
                                   now=NOW)  # fmt: skip
        slips = print_register(village, "monthly_change_report", "2026-11", "csv", actor="x",
                               purpose="t", now=NOW)  # fmt: skip
        town = print_register(township, "births", "2026-11", "csv", actor="x", purpose="t",
                              now=NOW)  # fmt: skip
        assert archive.get(village, long_term.archive_id).keep_until is None
        assert archive.get(village, slips.archive_id).keep_until == "2028-11-28"
        assert archive.get(township, town.archive_id).keep_until == "2031-11-28"
        assert archive.keep_years(NodeId.for_code("440104001").role, "x", "2026Y") == 10
        assert archive.due(village, date(2028, 11, 27)) == []
        (due,) = archive.due(village, date(2028, 11, 28))
        assert archive.destroy(village, [due.id], date(2028, 11, 28), actor="主任") == 1
        gone = archive.get(village, due.id)
        assert (gone.content, gone.output, gone.destroyed_at) == (None, None, "2028-11-28")
        archive.verify(village, due.id)  # the signed header stays and still verifies
    finally:
        village.close()
        township.close()


def test_floating_women_register_and_roster(store: NodeStore) -> None:
    """Issue 16 item 8, domain.md 2: the women who floated in (residence place) or out
    (hukou place) in the month, and those floating at its end."""
    out = add_record(store, "person", hukou_card(name="外出女"), today=TODAY)
    add_record(store, "floating", example("floating", person_ref=out, event_date="2026-11-03"),
               today=TODAY)  # fmt: skip
    add_record(store, "person", floating_in_card(name="外来女", birth=date(1993, 3, 3),
                                           floating_since="2026-11-10", spouse_ref=None),
               today=TODAY)  # fmt: skip
    register = build_register(store.db, "floating_women", "2026-11")
    events = [(r["name"], r["event"]) for r in register.rows]
    assert ("外出女", "流出（户籍在本村，外出居住）") in events
    assert ("外来女", "流入（户籍在外地，来本村居住）") in events
    (roster,) = register.sections
    assert {(r["name"], r["event"]) for r in roster.rows} == {
        ("外出女", "流出"),
        ("外来女", "流入"),
    }
    assert build_register(store.db, "floating_women", "2026-10").rows == []


def test_annual_register_of_births_to_floating_women(store: NodeStore) -> None:
    """Issue 16 item 8, 篇10 第23条: births whose mother floated in and lived here then."""
    card = floating_in_card(floating_since="2025-11-01", spouse_ref=None)
    floater = add_record(store, "person", card, today=TODAY)
    local = add_record(store, "person", hukou_card(birth=date(1992, 2, 2)), today=TODAY)
    add_record(store, "birth", example("birth", mother_ref=floater, birth_date="2026-03-09"),
               today=TODAY)  # fmt: skip
    add_record(store, "birth", example("birth", mother_ref=local, birth_date="2026-04-01",
                                       child_id_number=None), today=TODAY)  # fmt: skip
    register = build_register(store.db, "floating_births", "2026Y")
    assert register.full_title == "测试村流动人口子女出生登记册（2026统计年度）"
    assert [(r["name"], r["birth_date"]) for r in register.rows] == [("张秀英", "2026-03-09")]
    with pytest.raises(ValidationError):
        build_register(store.db, "floating_births", "2026-03")


def test_public_notice_masks_names_and_shows_no_health_data(store: NodeStore) -> None:
    """Issue 16 item 7, domain.md 5: 公示 lists applicants with masked names (张*华), the
    programme and the notice period: no ID number, no health data, no record id."""
    w = add_record(store, "person", hukou_card(name="张秀华", card_type="family",
                                               birth=date(1960, 1, 1)), today=TODAY)  # fmt: skip
    add_record(store, "benefit_application",
               example("benefit_application", person_ref=w, programme="special_support"),
               today=TODAY)  # fmt: skip
    printed = print_register(store, "benefit_notice", "2026-09", "csv", actor="x",
                             purpose="公示", now=NOW)  # fmt: skip
    rows = csv_rows(printed.output)
    assert rows[1] == ["序号", "姓名", "性别", "扶助项目", "公示开始日期", "公示结束日期"]
    assert rows[2] == ["1", "张*华", "女", "计划生育家庭特别扶助", "2026-09-11", "2026-09-18"]
    text = printed.output.decode("utf-8")
    assert "张秀华" not in text and woman_card(birth=date(1960, 1, 1))["id_number"] not in text


@pytest.mark.parametrize(
    ("name", "masked"), [("张华", "张*"), ("张秀华", "张*华"), ("欧阳秀华", "欧**华"), ("", "")]
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_check_report_slip_prints_with_its_stub(store: NodeStore, tmp_path: Path) -> None:
    """Issue 16 item 8, 篇10 第23条: the free slip and its stub, with the same number."""
    floater = add_record(store, "person", floating_in_card(spouse_ref=None), today=TODAY)
    slip = add_record(store, "check_report_slip", example("check_report_slip", person_ref=floater),
                      today=TODAY)  # fmt: skip
    printed = print_slip(store, slip, "xlsx", actor="专干", purpose="出具", now=NOW)
    path = tmp_path / "slip.xlsx"
    path.write_bytes(printed.output)
    cells = [c.value for r in openpyxl.load_workbook(path).worksheets[0].iter_rows() for c in r]
    assert cells.count("越秀-2026-0031") == 2  # on the slip and on the stub
    assert any("存根" in str(v) for v in cells) and any("免费" in str(v) for v in cells)
    assert archive.get(store, printed.archive_id).name == "check_slip"
    screen = print_slip(store, slip, "screen", actor="专干", purpose="查看", now=NOW)
    assert "避孕节育情况报告单" in screen.text


def test_the_roster_flags_an_overdue_in_person_check(store: NodeStore) -> None:
    """Issue 16 item 7, 篇4 第16条: every recipient is checked in person twice a year (it
    stops payments to the dead); the roster shows the amount and flags an overdue check."""
    old = add_record(store, "person", hukou_card(name="王桂兰", card_type="family",
                                                 birth=date(1960, 1, 1)), today=TODAY)  # fmt: skip
    add_record(store, "benefit", example("benefit", person_ref=old, effective_date="2026-01-01",
                                         checked_in_person_date=None), today=TODAY)  # fmt: skip
    add_record(store, "benefit_check", example("benefit_check", person_ref=old,
                                               checked_date="2026-02-10"), today=TODAY)  # fmt: skip

    def roster(month: str) -> dict[str, Any]:
        (row,) = build_register(store.db, "benefits", month).sections[0].rows
        return row

    on_time = roster("2026-07")
    assert (on_time["annual_amount"], on_time["check_due"], on_time["note"]) == (
        960,
        "2026-08-10",
        "",
    )
    assert roster("2026-08")["note"] == "逾期未进行本人核验"  # not checked by 08-10
