# SPDX-License-Identifier: Apache-2.0
"""Registers list the live records of a month, joined to the cards they name."""

from __future__ import annotations

import pytest

from node.errors import ValidationError
from node.registers import REGISTERS, build_register, register_names
from node.registers.definitions import RegisterDef, _check, rec
from node.registers.labels import SEALED_FIELDS
from tests.node.registers.sample import REPORTER_NAME, REPORTER_PHONE, Village

MARCH = "2026-03"

# Hand-counted from conftest.village: records dated in March 2026, live.
EXPECTED_COUNTS = {
    "marriages": 2,  # 03-10 and 03-31; not 02-27, not 04-01, not the retired 03-15
    "pregnancies": 1,  # 03-05; not 04-02
    "births": 2,
    "birth_registrations": 1,
    "procedures": 1,  # 03-12; not 02-10
    "certificates": 1,
    "deaths": 1,
    "health_checks": 2,  # done 03-03 and 03-02; the one not done yet is not listed
    "follow_ups": 1,
    "supplies": 3,  # 03-05, 03-20 (anonymous), 03-21; not the retired 03-11
    "benefits": 2,  # Li new 03-01, Chen stopped 03-15
    "benefit_notice": 0,  # no application in the sample
    "floating_women": 0,  # nobody floated in March
    "check_slips": 0,
    "complaints": 1,
}
ANNUAL = {"floating_births": "2026Y"}


def period_of(name: str) -> str:
    return ANNUAL.get(name, MARCH)


def test_every_register_of_domain_md_is_defined() -> None:
    assert sorted([*EXPECTED_COUNTS, *ANNUAL]) == sorted(register_names())


@pytest.mark.parametrize("name", list(EXPECTED_COUNTS))
def test_row_counts_for_march(village: Village, name: str) -> None:
    register = build_register(village.store.db, name, MARCH)
    assert EXPECTED_COUNTS[name] == len(register.rows)
    assert list(range(1, len(register.rows) + 1)) == [r["no"] for r in register.rows]
    assert "序号" == register.columns[0].heading
    assert ("记录编号" == register.columns[-1].heading) is not REGISTERS[name].public
    assert all(set(r) == {c.key for c in register.columns} for r in register.rows)


def test_register_metadata(village: Village) -> None:
    register = build_register(village.store.db, "marriages", MARCH)
    assert ("新婚登记册", "测试村", MARCH) == (register.title, register.village, register.month)
    assert "测试村新婚登记册（2026年3月）" == register.full_title


def test_marriages_join_the_woman_card_and_translate(village: Village) -> None:
    rows = build_register(village.store.db, "marriages", MARCH).rows
    assert [village.ids["m_march"], village.ids["m_last_day"]] == [r["record_id"] for r in rows]
    first = rows[0]
    assert "王芳" == first["name"]
    assert "440104199504020021" == first["id_number"]
    assert "1995-04-02" == first["birth_date"]
    assert "广州市越秀区王芳户籍街1号" == first["hukou_address"]
    assert "广州市越秀区王芳居住路2号" == first["residence_address"]
    assert "已婚" == first["marital_status"]
    assert "是" == first["first_marriage"]
    assert "未婚" == rows[1]["marital_status"]


def test_headings_are_chinese(village: Village) -> None:
    headings = build_register(village.store.db, "marriages", MARCH).headings
    assert headings[:4] == ["序号", "女方姓名", "女方身份证号码", "出生日期"]
    assert "婚姻状况" in headings and "结婚登记日期" in headings


def test_births_in_date_order_with_sex_and_order(village: Village) -> None:
    rows = build_register(village.store.db, "births", MARCH).rows
    assert [("王芳", "王小红", "女", 1), ("李娜", "李小明", "男", 2)] == [
        (r["name"], r["child_name"], r["child_sex"], r["birth_order"]) for r in rows
    ]
    assert "" == rows[0]["weight_g"]  # not recorded: an empty cell, not "None"
    assert 3300 == rows[1]["weight_g"]


def test_follow_up_shows_the_procedure_it_follows(village: Village) -> None:
    (row,) = build_register(village.store.db, "follow_ups", MARCH).rows
    assert ("宫内节育器", "放置宫内节育器", "2026-03-12") == (
        row["method_in_use"],
        row["procedure_method"],
        row["procedure_date"],
    )
    assert "随访备注" not in row.values()  # free-text notes stay off the register


def test_health_checks_by_done_date_without_results(village: Village) -> None:
    register = build_register(village.store.db, "health_checks", MARCH)
    assert ["陈静", "王芳"] == [r["name"] for r in register.rows]
    assert "未见异常" not in [v for r in register.rows for v in r.values()]


def test_anonymous_hand_out_has_empty_name(village: Village) -> None:
    rows = build_register(village.store.db, "supplies", MARCH).rows
    assert [("李娜", "避孕套", 5), ("", "避孕套", 3), ("王芳", "口服避孕药", 2)] == [
        (r["name"], r["item"], r["quantity"]) for r in rows
    ]


def test_complaints_never_show_the_reporter(village: Village) -> None:
    register = build_register(village.store.db, "complaints", MARCH)
    printed = repr(register)
    assert REPORTER_NAME not in printed and REPORTER_PHONE not in printed
    assert not any("举报" in h or "信访人" in h for h in register.headings)
    assert "来电" == register.rows[0]["channel"]
    assert "已答复" == register.rows[0]["status"]


def test_no_definition_reads_a_sealed_field() -> None:
    for definition in REGISTERS.values():
        for column in definition.columns:
            assert column.field not in SEALED_FIELDS.get(definition.kind, ())


def test_a_definition_printing_a_sealed_field_is_refused() -> None:
    bad = RegisterDef("leak", "泄露", "complaint", "received_date", (rec("reporter", "信访人"),))
    with pytest.raises(ValueError, match="sealed"):
        _check((bad,))


def test_month_boundaries_are_calendar_dates(village: Village) -> None:
    db = village.store.db
    assert [village.ids["m_feb"]] == [
        r["record_id"] for r in build_register(db, "marriages", "2026-02").rows
    ]
    assert [village.ids["m_april"]] == [
        r["record_id"] for r in build_register(db, "marriages", "2026-04").rows
    ]


def test_an_empty_month_is_an_empty_register(village: Village) -> None:
    register = build_register(village.store.db, "deaths", "2025-07")
    assert [] == register.rows
    assert "死亡日期" in register.headings


@pytest.mark.parametrize(
    ("name", "month", "fields"),
    [
        ("weddings", MARCH, ["register"]),
        ("marriages", "2026-3", ["month"]),
        ("marriages", "2026-13", ["month"]),
        ("marriages", "2026-00", ["month"]),
        ("marriages", "２０２６-０３", ["month"]),  # full-width digits
        ("marriages", "March", ["month"]),
        ("marriages", None, ["month"]),
        ("", "", ["register", "month"]),
    ],
)
def test_bad_arguments_are_bilingual_validation_errors(
    village: Village, name: str, month: str, fields: list[str]
) -> None:
    with pytest.raises(ValidationError) as exc:
        build_register(village.store.db, name, month)
    assert fields == [p.field for p in exc.value.problems]
    assert all(p.zh and p.en for p in exc.value.problems)
    assert "invalid_input" == exc.value.code


def test_building_writes_nothing(village: Village) -> None:
    db = village.store.db
    before = (village.store.records_hash(), db.execute("SELECT count(*) FROM audit").fetchone())
    for name in register_names():
        build_register(db, name, period_of(name))
    after = (village.store.records_hash(), db.execute("SELECT count(*) FROM audit").fetchone())
    assert before == after


def test_building_is_deterministic(village: Village) -> None:
    for name in register_names():
        period = period_of(name)
        assert build_register(village.store.db, name, period) == build_register(
            village.store.db, name, period
        )
