# SPDX-License-Identifier: Apache-2.0
"""The floating-population exchange end to end on loopback (篇10 第24-25条, SPEC.md §8.11):
a woman from Haizhu (county B) who floated into a village of county A gives birth; the
village records it and syncs; A's merge makes the notification; A pushes it to B's
county node; B's officer reads the inbox (audited) and answers; B pushes the answer;
A's Table 5 counts it sent and answered on time, B's counts it received and answered
on time. Real stores, real servers, real key commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from county_aggregator.reports import build_report, drill_down
from county_aggregator.store import open_merged
from county_aggregator.store_exchange import ExchangeStore, attach_for_reports
from node.deadlines.rules import due_date, statistical_year
from node.identity import load_identity
from node.recording import add_record
from node.store.database import DB_NAME, connect
from node.timeutil import shanghai_today
from tests.county_aggregator.exchange.counties import (
    A_VILLAGE,
    B_VILLAGE,
    Exchange,
    run,
    two_counties,
)
from tests.node.domain.examples import example, floating_in_card

TODAY = shanghai_today()
BIRTH_DAY = (TODAY - timedelta(days=11)).isoformat()  # the certificates are valid from now
PERIOD = f"{statistical_year(TODAY)}Y"  # counted on the day sent, today
DUE = due_date("floating_notification", TODAY - timedelta(days=11)).due.isoformat()


@pytest.fixture
def ex(tmp_path: Path) -> Iterator[Exchange]:
    with two_counties(tmp_path) as pair:
        yield pair


def haizhu_woman(**changes: Any) -> dict[str, Any]:
    return floating_in_card(
        hukou_code=B_VILLAGE, hukou_address="广州市海珠区某街道某村12号",
        floating_place="440105", floating_since="2025-03-01", name="陈流入", spouse_ref=None,
        **changes,
    )  # fmt: skip


def record_birth(ex: Exchange) -> str:
    village = ex.a.villages[A_VILLAGE]
    today = date.fromisoformat(BIRTH_DAY)
    mother = add_record(village, "person", haizhu_woman(), today=today)
    add_record(village, "birth", example("birth", mother_ref=mother, birth_date=BIRTH_DAY,
                                         child_id_number=None), today=today)  # fmt: skip
    for code in (A_VILLAGE, A_VILLAGE[:9]):
        ex.a.client(code).sync_round()
    merged = str(ex.a_dir / "merged.db")
    said = run("county", "merge", "--data-dir", str(ex.a_dir), "--merged", merged)
    assert said.exit_code == 0 and "Floating-population notifications made: 1" in said.output
    return mother


def table5(data_dir: Path, merged: Path) -> Any:
    """Table 5 as ``renkou county report`` reads it: merged.db with the county node's
    exchange records attached."""
    db_key = load_identity(data_dir).db_key
    conn = connect(merged, db_key, readonly=True)
    attach_for_reports(conn, data_dir / DB_NAME, db_key)
    return build_report(conn, "table5", period=PERIOD)


def test_a_birth_is_notified_answered_and_counted(ex: Exchange) -> None:
    """篇10 第24条: the residence place notifies within 5 working days, the hukou place
    answers within 5 of receipt; Table 5 counts notifications sent, received and
    answered on time (domain.md §4)."""
    record_birth(ex)
    status = run("county", "exchange", "status", "--data-dir", str(ex.a_dir)).output
    assert f"to 440105  birth {BIRTH_DAY}  due {DUE}" in status
    assert "陈流入" not in status  # status shows no names

    pushed = run("county", "exchange", "push", "--data-dir", str(ex.a_dir))
    assert pushed.exit_code == 0 and "Sent 1, not sent 0." in pushed.output
    again = run("county", "exchange", "push", "--data-dir", str(ex.a_dir))
    assert "Sent 0, not sent 0." in again.output  # nothing is sent twice

    inbox = run("county", "exchange", "inbox", "--data-dir", str(ex.b_dir), "--actor", "officer-b")
    assert f"from 440104  birth {BIRTH_DAY}" in inbox.output and "陈流入" in inbox.output
    assert "广州市海珠区某街道某村12号" in inbox.output
    (item,) = ExchangeStore(ex.b.db).inbox()
    audited = ex.b.db.execute(
        "SELECT actor, action, kind, record_id FROM audit WHERE action LIKE 'county_exchange%'"
    ).fetchall()
    assert ("officer-b", "county_exchange_inbox", "floating_notification",
            f"received:440104:{item.id}") in audited  # fmt: skip

    answered = run("county", "exchange", "answer", item.id[:8], "--outcome", "updated",
                   "--data-dir", str(ex.b_dir), "--actor", "officer-b")  # fmt: skip
    assert answered.exit_code == 0 and "on time" in answered.output, answered.output
    back = run("county", "exchange", "push", "--data-dir", str(ex.b_dir))
    assert back.exit_code == 0 and "Sent 1, not sent 0." in back.output
    assert "answered: updated, on time" in run(
        "county", "exchange", "status", "--data-dir", str(ex.a_dir)).output  # fmt: skip

    a5 = table5(ex.a_dir, ex.a_dir / "merged.db")
    assert (a5.value(A_VILLAGE, "notices_sent"), a5.value(A_VILLAGE, "notices_on_time")) == (1, 1)
    assert a5.value("440104", "notices_received") == 0
    (record,) = drill_down(a5, A_VILLAGE, "notices_sent")
    assert record.data["direction"] == "sent" and record.data["answered"] == "on_time"

    b_merged = ex.b_dir / "merged.db"
    open_merged(b_merged, key=load_identity(ex.b_dir).db_key).close()
    b5 = table5(ex.b_dir, b_merged)
    assert b5.value(B_VILLAGE, "notices_received") == 1
    assert b5.value(B_VILLAGE, "notices_answered_on_time") == 1
    assert b5.value("440105", "notices_sent") == 0


def test_by_hand_notifications_and_the_report_command(ex: Exchange, tmp_path: Path) -> None:
    """篇10 第24条 ⑦ ⑧: doubtful data and anything else are notified by hand, only about
    a woman the county holds as floating in from another county (the read is audited);
    ``renkou county report table5`` counts the exchange records from the county node's
    database."""
    record_birth(ex)
    woman = haizhu_woman()["id_number"]
    made = run("county", "exchange", "notify", "--id-number", woman, "--kind", "doubtful_data",
               "--details", "婚姻状况与户籍地登记不一致", "--data-dir", str(ex.a_dir),
               "--actor", "officer-a")  # fmt: skip
    assert made.exit_code == 0 and "made, due" in made.output, made.output
    refused = run("county", "exchange", "notify", "--id-number", "440104199001010011",  # no card
                  "--kind", "other", "--details", "x", "--data-dir", str(ex.a_dir))  # fmt: skip
    assert refused.exit_code == 1 and "exchange.not_floating_in" in refused.output
    birth_made = run("county", "exchange", "notify", "--id-number", woman, "--kind", "birth",
                     "--details", "x", "--data-dir", str(ex.a_dir))  # fmt: skip
    assert birth_made.exit_code == 2  # births come from the records, never by hand
    audited = ex.a.county.store.db.execute(
        "SELECT actor, kind, record_id FROM audit WHERE action = 'county_exchange_notify'"
    ).fetchall()
    assert ("officer-a", "person", f"idn:{woman}") in audited

    assert "Sent 2, not sent 0." in run("county", "exchange", "push", "--data-dir",
                                        str(ex.a_dir)).output  # fmt: skip
    kinds = sorted(r.kind for r in ExchangeStore(ex.b.db).inbox())
    assert kinds == ["birth", "doubtful_data"]

    out = tmp_path / "表5.csv"
    said = run("county", "report", "table5", "--period", PERIOD, "--format", "csv",
               "--out", str(out), "--merged", str(ex.a_dir / "merged.db"),
               "--data-dir", str(ex.a_dir))  # fmt: skip
    assert said.exit_code == 0, said.output
    lines = out.read_text("utf-8-sig").splitlines()
    header = next(line.split(",") for line in lines if "发出通报（件）" in line)
    row = next(line.split(",") for line in lines if A_VILLAGE in line)
    assert row[header.index("发出通报（件）")] == "2"
