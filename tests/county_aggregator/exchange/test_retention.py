# SPDX-License-Identifier: Apache-2.0
"""The exchange tables keep her data no longer than her card, nor past retention
(REVIEW4 F9, SPEC §8.11): the bodies are erased from the database file, what Table 5
counts stays."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from county_aggregator.exchange.derive import derive_notifications
from county_aggregator.exchange.manual import notify_by_hand
from county_aggregator.store_exchange import ExchangeStore
from node.deadlines.workdays import WorkCalendar
from tests.county_aggregator.exchange.counties import run, two_counties
from tests.county_aggregator.exchange.test_defences import (
    NOTICE,
    _merged_with,
    _woman,
    init_db,
    post,
    sealed,
)

V = "440104001002"
PID = "440105199001010021"
BIRTH = {"mother_ref": f"idn:{PID}", "birth_date": "2026-11-20", "child_sex": "F",
         "birth_order": 1}  # fmt: skip


def _file_holds(path: Path, *texts: str) -> bool:
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return any(t.encode() in raw for t in texts)


def _answered(store: ExchangeStore, day: str) -> str:
    (s,) = store.sent_all()
    store.mark_sent(s.id, 1, day, "http")
    store.record_answer(s.id, "updated", day, day, day, True, {"note": "某021 已更新"}, 2)
    return s.id


def test_erasing_her_card_erases_her_exchange_data(tmp_path: Path) -> None:
    db = init_db(tmp_path)
    store = ExchangeStore(db)
    card = _woman(PID, "married", "1990-01-01")
    rows: list[tuple[str, str, str, dict[str, Any]]] = [
        ("person", f"idn:{PID}", V, card), ("birth", "b1", V, BIRTH)]  # fmt: skip
    derive_notifications(_merged_with(rows), store, "440104", WorkCalendar(), date(2026, 11, 21), 1)
    nid = _answered(store, "2026-11-21")
    assert _file_holds(Path(str(db.conn.execute("PRAGMA database_list").fetchone()[2])), PID)
    erased = _merged_with(rows)
    erased.execute("UPDATE merged_records SET retired = 'retention' WHERE kind = 'person'")
    derive_notifications(erased, store, "440104", WorkCalendar(), date(2026, 11, 22), 2)
    got = store.sent(nid)
    assert got is not None and (got.body, got.outcome, got.on_time) == ({}, "updated", True)
    assert not _file_holds(tmp_path / "exchange.db", PID, card["name"], card["hukou_address"])


def test_rows_past_the_retention_period_keep_only_what_table_5_counts(tmp_path: Path) -> None:
    """Kept for the statistical year and the next (Table 5 of it reported), then erased."""
    store = ExchangeStore(init_db(tmp_path))
    card = ("person", f"idn:{PID}", V, _woman(PID, "married", "1990-01-01"))
    derive_notifications(_merged_with([card, ("birth", "b1", V, BIRTH)]), store, "440104",
                         WorkCalendar(), date(2026, 11, 21), 1)  # fmt: skip
    nid = _answered(store, "2026-11-21")
    derive_notifications(_merged_with([card]), store, "440104", WorkCalendar(),
                         date(2027, 12, 1), 2)  # fmt: skip
    assert store.sent(nid) is not None and store.sent(nid).body != {}  # type: ignore[union-attr]
    derive_notifications(_merged_with([card]), store, "440104", WorkCalendar(),
                         date(2029, 1, 10), 3)  # fmt: skip
    got = store.sent(nid)
    assert got is not None and (got.body, got.outcome, got.village) == ({}, "updated", V)
    answer = store.db.execute("SELECT answer FROM exchange_sent").fetchone()[0]
    assert answer is None and not _file_holds(tmp_path / "exchange.db", PID, "某021")
    assert json.loads(store.db.execute("SELECT body FROM exchange_sent").fetchone()[0]) == {}


def test_an_unsent_notification_past_retention_is_withdrawn_not_emptied(tmp_path: Path) -> None:
    """An empty body must never be left to seal at the next push."""
    store = ExchangeStore(init_db(tmp_path))
    card = ("person", f"idn:{PID}", V, _woman(PID, "married", "1990-01-01"))
    notify_by_hand(_merged_with([card]), store, "440104", PID, "other", date(2025, 3, 3),
                   "户籍地址存疑", WorkCalendar(), 1)  # fmt: skip
    derive_notifications(_merged_with([card]), store, "440104", WorkCalendar(),
                         date(2026, 11, 21), 2)  # fmt: skip
    assert store.sent_all() == []


def test_the_inbox_lists_an_erased_notification_without_her_data(tmp_path: Path) -> None:
    with two_counties(tmp_path, villages=False) as ex:
        assert post(ex.b_server, sealed(ex.a.county.store, ex.b, NOTICE))[0] == 202
        assert ExchangeStore(ex.b.db).erase_bodies([f"idn:{NOTICE.id_number}"], "2000-01-01") == 1
        listed = run("county", "exchange", "inbox", "--all", "--data-dir", str(ex.b_dir))
        assert listed.exit_code == 0, listed.output
        assert NOTICE.id_number not in listed.output and NOTICE.name not in listed.output
        assert "保存期满" in listed.output or "erased" in listed.output
