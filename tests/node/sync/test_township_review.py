# SPDX-License-Identifier: Apache-2.0
"""Issue 13, item 1: the township's monthly review, and the review data it keeps.

A township checks its villages' monthly changes (domain.md §2, 篇4 第44条), but it may
open a village's batch only until the county acknowledges it (SPEC.md §6.3.2), normally
in its next round. Before it takes its wrap out it copies what the review needs into its
review store (node/store/review.py), only the fields node/review/fields.py lists, never
a complaint, and keeps it only for the review window (the current and the previous
month): deleted at every round and at start-up, its pages zeroed and the WAL emptied.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.errors import NodeError
from node.recording import add_record
from node.review import fields as review_fields
from node.review import intake
from node.review.intake import changes_of
from node.review.listing import review_month
from node.store.database import DB_NAME
from node.store.review import (
    ADDED,
    MODIFIED,
    RETIRED,
    ReviewStore,
    first_month,
    month_of,
    month_start_ms,
    review_months,
)
from node.store.store import NodeStore
from node.timeutil import SHANGHAI
from tests.node.domain.examples import CHILD_ID, example, woman_card
from tests.node.sync.faults import no_sleep
from tests.node.sync.network import County, SimClock, loopback_county

T, V = "440104001", "440104001002"
NAME, ID_NUMBER, PHONE = "张秀英", woman_card()["id_number"], "13800000000"
NOT_FOR_REVIEW = (ID_NUMBER, PHONE, "洪桥街道", "李小梅", CHILD_ID, "药具", "王某")
"""Values the village writes that the review needs not (an ID number, a phone, an
address, the child's name and ID number) or must never see (a complaint's subject and
its reporter)."""
LATER = 70 * 24 * 3600 * 1000
"""Seventy days: whatever the day, the month of now is then two months on or more."""


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def county(tmp_path: Path, clock: SimClock) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V]}, clock=clock) as c:
        yield c


def sync(county: County, code: str) -> Any:
    return county.client(code, sleep=no_sleep).sync_round()


def this_month(clock: SimClock) -> str:
    return month_of(clock())


def write_month(county: County, clock: SimClock) -> dict[str, str]:
    """A woman's card, her child's birth and a complaint, written in the village today."""
    village = county.villages[V]
    today = datetime.fromtimestamp(clock() / 1000, SHANGHAI).date()
    woman = add_record(village, "person", woman_card(spouse_ref=None), today=today)
    birth = add_record(village, "birth", example("birth", mother_ref=woman), today=today)
    complaint = add_record(village, "complaint", example("complaint"), today=today)
    return {"woman": woman, "birth": birth, "complaint": complaint}


def kept_rows(store: NodeStore) -> list[tuple[str, str, dict[str, Any]]]:
    rows = store.db.execute("SELECT kind, record_id, fields FROM review_changes ORDER BY seq")
    return [(kind, rid, json.loads(fields)) for kind, rid, fields in rows]


def review_count(store: NodeStore) -> int:
    return ReviewStore(store.db).count()


def test_the_township_reviews_a_villages_month_after_the_county_confirmed_it(
    county: County, clock: SimClock
) -> None:
    """The county acknowledges the batch in the township's round, which takes the
    township's wrap out: the township can no longer open it, yet its review of the
    village's month lists the card and the birth, with the mother's name."""
    ids = write_month(county, clock)
    sync(county, V)
    assert sync(county, T).unwrapped == 1
    town = county.towns[T].store
    (shown,) = review_month(town, this_month(clock), actor="审核员", now_ms=clock())
    assert shown.village == V
    by_id = {row["record_id"]: row for row in shown.rows}
    assert set(by_id) == {ids["woman"], ids["birth"]}  # the complaint is not reviewed
    assert by_id[ids["woman"]]["name"] == NAME and by_id[ids["woman"]]["action"] == "新增"
    assert by_id[ids["birth"]]["name"] == NAME  # named through the mother's card
    assert "孩次：2" in by_id[ids["birth"]]["changes"]
    assert "婴儿性别：女" in by_id[ids["birth"]]["changes"]


def test_a_batch_the_county_checked_is_copied_as_the_strict_decoder_reads_it(
    county: County, clock: SimClock
) -> None:
    """Once the county has acknowledged a batch (it checked every payload strictly),
    the relay's copy only parses the payloads (intake._parsed_ops, half the cost of a
    change): change for change the copy is what the strict path reads, for new cards,
    an update, a retirement, the epoch start and a complaint left out."""
    ids = write_month(county, clock)
    village = county.villages[V]
    village.write([village.upsert_op("person", ids["woman"], {"marital_status": "widowed"})])
    village.write([village.retire_op("birth", ids["birth"], "duplicate")])
    strict = list(changes_of(village.entries(), clock()))
    assert list(changes_of(village.entries(), clock(), intake._parsed_ops)) == strict
    assert [c.action for c in strict] == [ADDED, ADDED, MODIFIED, RETIRED]
    sync(county, V)
    assert sync(county, T).unwrapped == 1
    assert ReviewStore(county.towns[T].store.db).changes(V, this_month(clock)) == strict


def test_the_review_command_lists_each_villages_changes_in_chinese(
    county: County, clock: SimClock
) -> None:
    """`renkou node review --month` on the township's data dir, after the county's ack."""
    write_month(county, clock)
    sync(county, V)
    sync(county, T)
    town = county.towns[T].store
    month = this_month(clock)
    args = ["node", "review", "--month", month, "--data-dir", str(town.data_dir)]
    result = CliRunner().invoke(cli, args, env={"LANG": "zh_CN.UTF-8"})
    assert result.exit_code == 0, result.output
    assert f"村 {V}，{month}：2 条变更" in result.output
    assert NAME in result.output and "出生" in result.output
    assert not any(value in result.output for value in NOT_FOR_REVIEW)
    old = month_before(first_month(clock(), 2))
    refused = CliRunner().invoke(
        cli, ["node", "review", "--month", old, "--data-dir", str(town.data_dir)]
    )
    assert refused.exit_code != 0 and "审核保留期" in refused.output


def month_before(month: str) -> str:
    """The month before ``month`` ('YYYY-MM')."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def test_complaints_and_fields_the_review_needs_not_never_reach_the_review_table(
    county: County, clock: SimClock
) -> None:
    """Only the kinds and fields node/review/fields.py lists are kept: no complaint
    (its content is the first-contact officer's, 篇4 第18条), no ID number, phone,
    address, child's name or birth weight; and nothing of them in the table's text."""
    ids = write_month(county, clock)
    sync(county, V)
    sync(county, T)
    town = county.towns[T].store
    rows = kept_rows(town)
    assert {kind for kind, _rid, _f in rows} == {"person", "birth"}
    assert ids["complaint"] not in {rid for _k, rid, _f in rows}
    for kind, _rid, fields in rows:
        assert set(fields) <= review_fields.REVIEW_FIELDS[kind], kind
    dump = str(town.db.execute("SELECT * FROM review_changes").fetchall())
    assert not any(value in dump for value in NOT_FOR_REVIEW)


def test_a_sealed_field_is_never_kept_even_if_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sealed field (a complainant's identity, SPEC §10.6) is left out whatever the
    list says: the list is not the only guard."""
    monkeypatch.setitem(
        review_fields.REVIEW_FIELDS, "complaint", frozenset({"category", "reporter"})
    )
    kept = review_fields.review_fields("complaint", {"category": "complaint", "reporter": "x"})
    assert kept == {"category": "complaint"}


def test_every_review_read_writes_an_audit_row(county: County, clock: SimClock) -> None:
    """Like a card read at the village: one row per record shown, naming the village's
    record, who reviewed and why."""
    ids = write_month(county, clock)
    sync(county, V)
    sync(county, T)
    town = county.towns[T].store
    before = town.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    review_month(town, this_month(clock), actor="审核员", now_ms=clock())
    rows = town.db.execute(
        "SELECT actor, action, kind, record_id, purpose FROM audit ORDER BY rowid"
    ).fetchall()[before:]
    month = this_month(clock)
    assert sorted(rows) == sorted(
        [
            ("审核员", "review", "person", f"{V}/{ids['woman']}", f"township review {month}"),
            ("审核员", "review", "birth", f"{V}/{ids['birth']}", f"township review {month}"),
        ]
    )


def test_the_review_sees_a_batch_the_county_has_not_confirmed_yet(
    county: County, clock: SimClock
) -> None:
    """Between the village's round and the township's, the review opens the batch it
    still may open and keeps what it needs: nothing waits for the county."""
    ids = write_month(county, clock)
    sync(county, V)
    town = county.towns[T].store
    assert review_count(town) == 0
    (shown,) = review_month(town, this_month(clock), actor="审核员", now_ms=clock())
    assert {row["record_id"] for row in shown.rows} == {ids["woman"], ids["birth"]}
    sync(county, T)  # the wrap goes; the rows kept are not kept twice
    assert review_count(town) == 2


def test_changes_past_the_review_window_are_deleted_in_the_next_round(
    county: County, clock: SimClock
) -> None:
    """Seventy days on, the month has left the window: the township's next round
    deletes its changes and empties the WAL they were deleted through."""
    write_month(county, clock)
    sync(county, V)
    sync(county, T)
    town = county.towns[T].store
    assert review_count(town) == 2
    clock.advance(LATER)
    sync(county, T)
    assert review_count(town) == 0
    assert (town.data_dir / (DB_NAME + "-wal")).stat().st_size == 0


def test_changes_past_the_review_window_are_deleted_at_start_up(
    county: County, clock: SimClock
) -> None:
    """A township PC switched off for two months deletes them the moment a command or
    the server opens its store, before any round."""
    write_month(county, clock)
    sync(county, V)
    sync(county, T)
    town = county.towns[T].store
    clock.advance(LATER)
    reopened = NodeStore.open(town.data_dir, clock=clock)
    try:
        assert review_count(reopened) == 0
    finally:
        reopened.close()


def test_a_villages_months_past_the_window_are_never_taken(county: County, clock: SimClock) -> None:
    """A village offline for two months sends its old changes at last: the county gets
    them, the township's review keeps none of them."""
    village = county.villages[V]
    write_month(county, clock)
    assert len(list(changes_of(village.entries(), clock()))) == 2  # the card, the birth
    clock.advance(LATER)
    assert list(changes_of(village.entries(), clock())) == []  # never even written
    sync(county, V)
    assert sync(county, T).unwrapped == 1
    assert review_count(county.towns[T].store) == 0


def test_the_window_is_two_months_by_default_and_bounded() -> None:
    """``RENKOU_REVIEW_MONTHS``: 1 to 3 months; anything else is refused, not stretched."""
    assert review_months({}) == 2
    assert review_months({"RENKOU_REVIEW_MONTHS": "3"}) == 3
    for bad in ("0", "4", "12", "-1", "two", "２"):
        with pytest.raises(NodeError) as exc:
            review_months({"RENKOU_REVIEW_MONTHS": bad})
        assert exc.value.code == "review_months"
    march = int(datetime(2026, 3, 15, tzinfo=SHANGHAI).timestamp() * 1000)
    assert first_month(march, 2) == "2026-02"
    assert first_month(march, 3) == "2026-01"
    january = int(datetime(2026, 1, 1, 0, 30, tzinfo=SHANGHAI).timestamp() * 1000)
    assert month_of(january) == "2026-01" and first_month(january, 2) == "2025-12"


def test_a_stolen_township_pc_holding_review_data_reveals_no_personal_data(
    county: County, clock: SimClock
) -> None:
    """The review store is in the township's encrypted node.db: its files, without the
    operator's passphrase, show neither the name it keeps for the review nor anything
    else the village wrote."""
    write_month(county, clock)
    sync(county, V)
    sync(county, T)
    served = county.towns[T]
    assert any(f.get("name") == NAME for _k, _r, f in kept_rows(served.store))
    served.stop()
    served.store.close()
    files = b"".join(p.read_bytes() for p in served.store.data_dir.rglob("*") if p.is_file())
    for secret in (NAME, *NOT_FOR_REVIEW):
        for encoding in ("utf-8", "utf-16-le", "gb18030"):
            assert secret.encode(encoding) not in files, (secret, encoding)


def test_a_review_window_set_wrong_stops_the_node_with_a_message(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``RENKOU_REVIEW_MONTHS=12`` would keep a year: the store does not open, and the
    command says what is wrong, in Chinese, instead of keeping it."""
    town = county.towns[T].store
    monkeypatch.setenv("RENKOU_REVIEW_MONTHS", "12")
    args = ["node", "review", "--month", "2026-03", "--data-dir", str(town.data_dir)]
    result = CliRunner().invoke(cli, args, env={"LANG": "zh_CN.UTF-8"})
    assert result.exit_code != 0 and "审核保留期应为 1 到 3 个月" in result.output


def test_a_name_shown_from_a_card_of_another_month_is_audited_too(
    county: County, clock: SimClock
) -> None:
    """REVIEW4 F8: the card is written this month, the birth next month; the review of
    next month names the mother from her card, so that card's read is an audit row too."""
    village = county.villages[V]
    today = datetime.fromtimestamp(clock() / 1000, SHANGHAI).date()
    woman = add_record(village, "person", woman_card(spouse_ref=None), today=today)
    sync(county, V)
    sync(county, T)
    clock.advance(month_start_ms(month_after(this_month(clock))) - clock() + 3_600_000)
    later = datetime.fromtimestamp(clock() / 1000, SHANGHAI).date()
    birth = add_record(village, "birth", example("birth", mother_ref=woman), today=later)
    sync(county, V)
    sync(county, T)
    town = county.towns[T].store
    (shown,) = review_month(town, this_month(clock), actor="审核员", now_ms=clock())
    assert [(row["record_id"], row["name"]) for row in shown.rows] == [(birth, NAME)]
    audited = town.db.execute(
        "SELECT kind, record_id FROM audit WHERE action = 'review' ORDER BY kind"
    ).fetchall()
    assert audited == [("birth", f"{V}/{birth}"), ("person", f"{V}/{woman}")]


def month_after(month: str) -> str:
    """The month after ``month`` ('YYYY-MM')."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
