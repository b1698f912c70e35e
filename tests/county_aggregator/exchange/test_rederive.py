# SPDX-License-Identifier: Apache-2.0
"""What is not sent yet follows the merged records (REVIEW4 F5, F7): a corrected card
never sends her data to the county it named before, a withdrawn event is not notified,
and one birth is one notification whatever its merged key becomes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from county_aggregator.exchange.derive import derive_notifications
from county_aggregator.exchange.manual import notify_by_hand
from county_aggregator.store import open_merged
from county_aggregator.store_exchange import ExchangeStore
from node.deadlines.workdays import WorkCalendar
from tests.county_aggregator.exchange.counties import Exchange, run, two_counties
from tests.county_aggregator.exchange.test_defences import _merged_with, _put, _woman, init_db

V = "440104001002"
PID = "440105199001010021"
BIRTH = {"mother_ref": f"idn:{PID}", "birth_date": "2026-11-20", "child_sex": "F",
         "birth_order": 2}  # fmt: skip


def _derive(
    rows: list[tuple[str, str, str, dict[str, Any]]], store: ExchangeStore, day: int
) -> int:
    return derive_notifications(_merged_with(rows), store, "440104", WorkCalendar(),
                                date(2026, 11, 20 + day), day)  # fmt: skip


def _queued(store: ExchangeStore) -> list[tuple[str, str, str]]:
    return [(s.to_county, s.body["hukou_code"], s.body["name"])
            for s in store.sent_all(unsent_only=True)]  # fmt: skip


def test_a_corrected_hukou_county_is_notified_and_the_wrong_one_never_is(tmp_path: Path) -> None:
    store = ExchangeStore(init_db(tmp_path))
    wrong = ("person", f"idn:{PID}", V, _woman(PID, "married", "1990-01-01", "440105001001"))
    assert _derive([wrong, ("birth", "village:440104001002/b9", V, BIRTH)], store, 1) == 1
    right = _woman(PID, "married", "1990-01-01", "440106001001")
    right["name"] = "某更正"
    fixed = ("person", f"idn:{PID}", V, right)
    assert _derive([fixed, ("birth", "village:440104001002/b9", V, BIRTH)], store, 2) == 1
    assert _queued(store) == [("440106", "440106001001", "某更正")]


def test_a_changed_card_is_sent_as_it_is_now(tmp_path: Path) -> None:
    store = ExchangeStore(init_db(tmp_path))
    card = _woman(PID, "married", "1990-01-01")
    _derive([("person", f"idn:{PID}", V, card), ("birth", "b9", V, BIRTH)], store, 1)
    card = dict(card, name="某更正", residence_address="新路")
    assert _derive([("person", f"idn:{PID}", V, card), ("birth", "b9", V, BIRTH)], store, 2) == 0
    (s,) = store.sent_all(unsent_only=True)
    assert (s.body["name"], s.body["residence_address"]) == ("某更正", "新路")


def test_a_withdrawn_event_or_a_woman_who_no_longer_qualifies_is_not_notified(
    tmp_path: Path,
) -> None:
    store = ExchangeStore(init_db(tmp_path))
    card = ("person", f"idn:{PID}", V, _woman(PID, "married", "1990-01-01"))
    _derive([card, ("birth", "b9", V, BIRTH)], store, 1)
    _derive([card], store, 2)  # the birth withdrawn as entered in error
    assert store.sent_all() == []
    _derive([card, ("birth", "b9", V, BIRTH)], store, 3)
    local = dict(card[3], hukou_code="440104002001")  # she was never from another county
    _derive([("person", f"idn:{PID}", V, local), ("birth", "b9", V, BIRTH)], store, 4)
    assert store.sent_all() == []


def test_a_sent_notification_is_never_changed_and_a_new_county_gets_its_own(
    tmp_path: Path,
) -> None:
    store = ExchangeStore(init_db(tmp_path))
    card = _woman(PID, "married", "1990-01-01", "440105001001")
    _derive([("person", f"idn:{PID}", V, card), ("birth", "b9", V, BIRTH)], store, 1)
    (first,) = store.sent_all()
    store.mark_sent(first.id, 1, "2026-11-21", "http")
    moved = dict(card, hukou_code="440106001001")
    _derive([("person", f"idn:{PID}", V, moved), ("birth", "b9", V, BIRTH)], store, 2)
    assert {(s.to_county, s.body["hukou_code"], s.sent is None) for s in store.sent_all()} == {
        ("440105", "440105001001", False), ("440106", "440106001001", True)}  # fmt: skip


def test_a_hand_made_notification_follows_her_card(tmp_path: Path) -> None:
    store = ExchangeStore(init_db(tmp_path))
    card = _woman(PID, "married", "1990-01-01", "440105001001")
    merged = _merged_with([("person", f"idn:{PID}", V, card)])
    day = date(2026, 11, 20)
    notify_by_hand(merged, store, "440104", PID, "doubtful_data", day, "婚姻状况存疑",
                   WorkCalendar(), 1)  # fmt: skip
    moved = dict(card, hukou_code="440106001001")
    _derive([("person", f"idn:{PID}", V, moved)], store, 2)
    assert _queued(store) == [("440106", "440106001001", card["name"])]
    _derive([("person", f"idn:{PID}", V, dict(moved, floating_status="local"))], store, 3)
    assert store.sent_all() == []


def test_one_birth_is_one_notification_when_its_merged_key_changes(tmp_path: Path) -> None:
    """F5: a birth another place recorded too takes the smallest local key of its group."""
    store = ExchangeStore(init_db(tmp_path))
    card = ("person", f"idn:{PID}", V, _woman(PID, "married", "1990-01-01"))
    assert _derive([card, ("birth", "village:440104001002/b9", V, BIRTH)], store, 1) == 1
    (first,) = store.sent_all()
    store.mark_sent(first.id, 1, "2026-11-21", "http")
    assert _derive([card, ("birth", "village:440104001001/b1", V, BIRTH)], store, 2) == 0
    twin = dict(BIRTH, birth_order=3)
    assert _derive([card, ("birth", "village:440104001001/b1", V, BIRTH),
                    ("birth", "village:440104001001/b2", V, twin)], store, 3) == 1  # fmt: skip
    assert len(store.sent_all()) == 2


def test_export_re_derives_from_merged_db_as_it_is_now(tmp_path: Path) -> None:
    """The county may push long after the merge: a birth withdrawn since is not sent."""
    with two_counties(tmp_path, villages=False) as ex:
        _export_after_withdrawal(ex, tmp_path)


def _export_after_withdrawal(ex: Exchange, tmp_path: Path) -> None:
    a_store = ExchangeStore(ex.a.county.store.db)
    merged = open_merged(ex.a_dir / "merged.db", key=ex.a.county.store.identity.db_key)
    card = ("person", f"idn:{PID}", V, _woman(PID, "married", "1990-01-01"))
    _put(merged, [card, ("birth", "b9", V, BIRTH)])
    derive_notifications(merged, a_store, "440104", WorkCalendar(), date(2026, 11, 21), 1)
    assert len(a_store.sent_all()) == 1
    with merged.atomic():
        merged.execute("UPDATE merged_records SET retired = 2 WHERE kind = 'birth'")
    merged.conn.close()
    out = tmp_path / "usb"
    exported = run("county", "exchange", "export", "--out", str(out), "--data-dir", str(ex.a_dir))
    assert exported.exit_code == 0, exported.output
    assert (list(out.glob("*.rkx")), a_store.sent_all()) == ([], [])
