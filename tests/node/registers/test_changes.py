# SPDX-License-Identifier: Apache-2.0
"""The monthly change report lists every change of the month from the log (篇4 第44条)."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.errors import ValidationError
from node.registers import build_monthly_change_report, build_register, render_csv
from node.registers.changes import SEALED_NOTE
from node.store.store import NodeStore
from protocol.clock import COUNTER_BITS
from tests.node.registers.sample import (
    REPORTER_NAME,
    REPORTER_PHONE,
    FakeClock,
    Village,
    add,
    card,
    utc_ms,
)


@pytest.fixture
def history(store: NodeStore, clock: FakeClock) -> dict[str, str]:
    """Entries at known instants around the March 2026 boundaries (Shanghai = UTC+8)."""
    ids: dict[str, str] = {}
    clock.set("2026-02-28T15:00:00Z")  # 23:00 on 28 Feb in Shanghai: February
    ids["wang"] = add(
        store, "person", **card("王芳", "440104199504020021", marital_status="unmarried")
    )
    clock.set("2026-02-28T16:30:00Z")  # 00:30 on 1 March in Shanghai: March
    store.write(
        [
            store.upsert_op(
                "person",
                ids["wang"],
                {"marital_status": "married", "first_marriage_date": "2026-02-27"},
            )
        ]
    )
    clock.set("2026-03-10T02:00:00Z")
    ids["marriage"] = add(
        store,
        "marriage",
        woman_ref=ids["wang"],
        husband_name="刘强",
        marriage_date="2026-02-27",
        first_marriage=True,
        registered_at="越秀区民政局",
    )
    clock.set("2026-03-15T02:00:00Z")
    ids["complaint"] = add(
        store,
        "complaint",
        received_date="2026-03-15",
        channel="visit",
        subject="咨询",
        content="询问证明办理",
        status="received",
        reporter={"name": REPORTER_NAME, "phone": REPORTER_PHONE},
    )
    clock.set("2026-03-16T02:00:00Z")
    store.write(
        [
            store.upsert_op(
                "complaint", ids["complaint"], {"reporter": {"name": REPORTER_NAME + "乙"}}
            )
        ]
    )
    clock.set("2026-03-20T02:00:00Z")
    store.write([store.retire_op("marriage", ids["marriage"], "entered_in_error")])
    clock.set("2026-03-31T15:59:59Z")  # 23:59:59 on 31 March in Shanghai: March
    ids["li"] = store.new_id("person")
    ids["benefit"] = store.new_id("benefit")
    store.write(
        [
            store.upsert_op("person", ids["li"], card("李娜", "440104199208150042")),
            store.upsert_op(
                "benefit",
                ids["benefit"],
                {
                    "person_ref": ids["li"],
                    "programme": "reward_support",
                    "change": "new",
                    "effective_date": "2026-03-31",
                },
            ),
        ]
    )
    clock.set("2026-03-31T17:00:00Z")  # 01:00 on 1 April in Shanghai: April
    ids["chen"] = add(store, "person", **card("陈静", "440104200001010063"))
    return ids


def test_every_change_of_march_with_its_action(store: NodeStore, history: dict[str, str]) -> None:
    report = build_monthly_change_report(store.db, "2026-03")
    assert ("月变更报告单", "测试村", "2026-03") == (report.title, report.village, report.month)
    got = [(r["seq"], r["kind"], r["record_id"], r["name"], r["action"]) for r in report.rows]
    assert [
        (3, "人员信息卡", history["wang"], "王芳", "修改"),
        (4, "婚姻", history["marriage"], "王芳", "新增"),
        (7, "婚姻", history["marriage"], "王芳", "注销"),
        (8, "人员信息卡", history["li"], "李娜", "新增"),
    ] == got
    assert list(range(1, 5)) == [r["no"] for r in report.rows]
    assert [
        "序号",
        "日志序号",
        "变更时间",
        "记录类别",
        "记录编号",
        "姓名",
        "变更内容",
        "变更类型",
    ] == (report.headings)


def test_report_covers_exactly_the_log_entries_of_the_month(
    store: NodeStore, history: dict[str, str]
) -> None:
    start, end = utc_ms("2026-02-28T16:00:00Z"), utc_ms("2026-03-31T16:00:00Z")
    in_month = [
        seq
        for seq, hlc in store.db.execute("SELECT seq, hlc FROM log ORDER BY seq")
        if start <= hlc >> COUNTER_BITS < end
    ]
    report = build_monthly_change_report(store.db, "2026-03")
    complaint = {5, 6}  # the complaint's two entries: not a demographic change
    assert [s for s in in_month if s not in complaint] == sorted({r["seq"] for r in report.rows})


def test_only_demographic_changes_are_reported(store: NodeStore, history: dict[str, str]) -> None:
    """Issue 16 item 6, 篇3 第29条 / 篇4 第44条: the monthly change report lists marriage,
    pregnancy, birth, contraception, population and hukou changes; never a complaint (its
    content belongs to the first-contact officer, 篇4 第18条) nor a stock receipt or a
    benefit change."""
    receipt = add(store, "supply_receipt", item="condom", quantity=5, received_date="2026-03-31",
                  source="区药具站")  # fmt: skip
    report = build_monthly_change_report(store.db, "2026-04")
    kinds = {r["kind"] for r in report.rows}
    assert "人员信息卡" in kinds
    assert not kinds & {"信访举报", "药具入库", "奖励扶助对象变更"}
    assert receipt not in {r["record_id"] for r in report.rows}
    march = build_monthly_change_report(store.db, "2026-03")
    assert history["complaint"] not in {r["record_id"] for r in march.rows}
    assert history["benefit"] not in {r["record_id"] for r in march.rows}
    assert "询问证明办理" not in repr(march)


def test_old_values_come_from_replaying_the_log(store: NodeStore, history: dict[str, str]) -> None:
    first = build_monthly_change_report(store.db, "2026-03").rows[0]
    assert "婚姻状况：未婚→已婚；初婚日期：2026-02-27" == first["changes"]
    assert "2026-03-01 00:30:00" == first["time"]


def test_new_record_lists_its_fields_and_names_references(
    store: NodeStore, history: dict[str, str]
) -> None:
    row = build_monthly_change_report(store.db, "2026-03").rows[1]
    assert row["changes"].startswith(f"女方：王芳（{history['wang']}）；男方姓名：刘强")
    assert "是否初婚：是" in row["changes"]
    retired = build_monthly_change_report(store.db, "2026-03").rows[2]
    assert "注销原因：录入错误" == retired["changes"]


def test_the_reporter_never_appears(store: NodeStore, history: dict[str, str]) -> None:
    report = build_monthly_change_report(store.db, "2026-03")
    printed = repr(report)
    for secret in (REPORTER_NAME, REPORTER_PHONE, "reporter", "举报", "信访人", "来访"):
        assert secret not in printed
    assert SEALED_NOTE not in printed


def test_shanghai_month_boundaries(store: NodeStore, history: dict[str, str]) -> None:
    """An entry at 2026-03-31T17:00Z is 01:00 on 1 April in Shanghai: an April change."""
    february = build_monthly_change_report(store.db, "2026-02").rows
    april = build_monthly_change_report(store.db, "2026-04").rows
    assert [(2, "新增", "王芳")] == [(r["seq"], r["action"], r["name"]) for r in february]
    assert [(9, "新增", "陈静", "2026-04-01 01:00:00")] == [
        (r["seq"], r["action"], r["name"], r["time"]) for r in april
    ]


def test_install_entry_is_not_a_change(store: NodeStore) -> None:
    assert [] == build_monthly_change_report(store.db, "2026-01").rows


def test_bad_month(store: NodeStore) -> None:
    with pytest.raises(ValidationError) as exc:
        build_monthly_change_report(store.db, "2026/03")
    assert ["month"] == [p.field for p in exc.value.problems]


def test_village_report_never_shows_the_reporter(village: Village, tmp_path: Path) -> None:
    """The whole sample village, every register and the report, rendered: no reporter."""
    report = build_monthly_change_report(village.store.db, "2026-01")
    # The fixture writes every entry on 1 January, one op each; the install entry is no change,
    # and neither are complaints, stock and benefits (not demographic).
    assert report.rows and not any(r["kind"] == "信访举报" for r in report.rows)
    path = tmp_path / "all.csv"
    with path.open("w", encoding="utf-8", newline="") as fp:
        render_csv(report, fp)
        for name in ("complaints", "supplies", "benefits"):
            render_csv(build_register(village.store.db, name, "2026-03"), fp)
    text = path.read_text(encoding="utf-8")
    assert REPORTER_NAME not in text and REPORTER_PHONE not in text


def test_procedure_reference_shows_method_and_date(village: Village) -> None:
    rows = build_monthly_change_report(village.store.db, "2026-01").rows
    (follow_up,) = [r for r in rows if r["kind"] == "随访"]
    expected = f"相关手术：放置宫内节育器 2026-03-12（{village.ids['c_march']}）"
    assert expected in follow_up["changes"]
