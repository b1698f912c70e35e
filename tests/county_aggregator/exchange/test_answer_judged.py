# SPDX-License-Identifier: Apache-2.0
"""What a county takes from a peer (REVIEW4 F1, F2, F3, F6). An answer is judged on what we
know: the day our notification was delivered, not the receipt date the answering county
claims; only a notification we delivered can be answered; a notification must name a
hukou village of ours."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from county_aggregator.exchange.answers import answer, reply_due
from county_aggregator.exchange.receive import ExchangeRefused, receive
from county_aggregator.store_exchange import ExchangeStore
from node.deadlines.schedule import YearSchedule
from node.deadlines.workdays import DueDate, WorkCalendar
from node.store.certs import Certs
from node.sync.trust import Trust
from protocol.exchange import Answer
from tests.county_aggregator.exchange.counties import Exchange, now, two_counties
from tests.county_aggregator.exchange.test_defences import NOTICE, _sent, post, sealed


@pytest.fixture
def ex(tmp_path: Path) -> Iterator[Exchange]:
    with two_counties(tmp_path, villages=False) as pair:
        yield pair


def _answer(ex: Exchange, nid: str, said: Answer, today: date) -> Any:
    a, b = ex.a.county.store, ex.b
    return receive(sealed(b, a, said, nid=nid), a.identity, Trust.load(a.db, a.data_dir),
                   ExchangeStore(a.db), WorkCalendar(), now(), today)  # fmt: skip


def test_a_later_claimed_receipt_does_not_make_a_late_answer_on_time(ex: Exchange) -> None:
    """Delivered over HTTP on 2026-09-29 (the peer's 202): due 2026-10-12 whatever
    receipt date the answer claims."""
    store = ExchangeStore(ex.a.county.store.db)
    _sent(store, "3" * 32, "440105")
    _answer(ex, "3" * 32, Answer("updated", "2026-10-20", "2026-10-20"), date(2026, 10, 21))
    got = store.sent("3" * 32)
    assert got is not None and (got.outcome, got.on_time) == ("updated", False)


def test_a_file_delivery_is_received_no_earlier_than_it_was_written(ex: Exchange) -> None:
    """Written to a file on Monday 2026-10-12: an answer claiming receipt on 2026-09-30
    is judged from 2026-10-12 (due 2026-10-19), not from a day before the file existed."""
    store = ExchangeStore(ex.a.county.store.db)
    _sent(store, "5" * 32, "440105", "2026-10-12", "file")
    _answer(ex, "5" * 32, Answer("updated", "2026-09-30", "2026-10-16"), date(2026, 10, 20))
    got = store.sent("5" * 32)
    assert got is not None and (got.outcome, got.on_time) == ("updated", True)


def test_an_answer_to_a_notification_never_delivered_is_refused(ex: Exchange) -> None:
    """§8.11: an answer names a notification the receiver sent; one derived but not yet
    pushed has not been sent (ids are deterministic, so a peer could pre-answer)."""
    store = ExchangeStore(ex.a.county.store.db)
    store.add_notifications([{
        "id": "4" * 32, "to_county": "440105", "kind": "birth", "record_kind": "birth",
        "record_key": "b4", "person_key": "idn:x", "village": "440104001002",
        "event_date": "2026-09-25", "due": "2026-09-30", "body": {"x": 1}, "made": 1,
    }])  # fmt: skip
    with pytest.raises(ExchangeRefused) as refused:
        _answer(ex, "4" * 32, Answer("updated", "2026-09-28", "2026-09-28"), date(2026, 9, 28))
    assert (refused.value.code, refused.value.status) == ("exchange.unknown_notification", 404)
    got = store.sent("4" * 32)
    assert got is not None and (got.outcome, got.sent) == (None, None)


def test_a_notification_about_a_village_not_ours_is_refused(ex: Exchange) -> None:
    """REVIEW4 F6: only the county part was compared. A township not in the official list
    (nor enrolled here) is refused; once the county holds certificates of villages of a
    township, a village of it must be one of them."""
    b = ex.b
    for code in ("440105999999", "440105001000"):
        status, body = post(
            ex.b_server, sealed(ex.a.county.store, b, replace(NOTICE, hukou_code=code))
        )
        assert (status, body["code"]) == (422, "exchange.not_our_village")
    Certs(b.db).keep("village:440105001001", 1, b"enrolled")
    status, body = post(
        ex.b_server, sealed(ex.a.county.store, b, replace(NOTICE, hukou_code="440105001002"))
    )
    assert (status, body["code"]) == (422, "exchange.not_our_village")
    assert ExchangeStore(b.db).inbox() == []
    assert post(ex.b_server, sealed(ex.a.county.store, b, NOTICE))[0] == 202


def test_a_provisional_due_date_follows_the_schedule_published_later(ex: Exchange) -> None:
    """REVIEW4 F3: received Thursday 2027-02-04 before the 2027 schedule was known, the
    answer is due (provisionally) 2027-02-11; the schedule published later (Spring
    Festival 5-12 February) moves it to 2027-02-19, and an answer on 2027-02-16 is on
    time."""
    b = ex.b
    store = ExchangeStore(b.db)
    receive(sealed(ex.a.county.store, b, NOTICE), b.identity, Trust.load(b.db, b.data_dir),
            store, WorkCalendar(), now(), date(2027, 2, 4))  # fmt: skip
    (item,) = store.inbox()
    guess = reply_due(item, WorkCalendar())
    assert (guess.due, guess.provisional) == (date(2027, 2, 11), True)
    holidays = frozenset(date(2027, 2, d) for d in range(5, 13))
    known = WorkCalendar([YearSchedule(2027, holidays, frozenset(), date(2026, 12, 1), "county")])
    assert reply_due(item, known) == DueDate(date(2027, 2, 19), False)
    assert answer(store, item, "updated", "", "", "officer", date(2027, 2, 16), known) is True
    assert store.inbox()[0].outcome == "updated"
