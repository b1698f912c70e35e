# SPDX-License-Identifier: Apache-2.0
"""Open items and their deadlines (domain.md section 3): listed until done, closed by
recording what was done."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from node.closing import close_item
from node.deadlines import WorkCalendar
from node.errors import ValidationError
from node.open_items import Due, open_items
from node.recording import add_record
from node.store.store import NodeStore
from protocol import NodeId
from tests.node.domain.examples import example, floating_in_card, woman_card
from tests.node.registers.sample import FakeClock

VILLAGE = NodeId.for_code("440104001002")
TODAY = date(2026, 11, 28)


@pytest.fixture
def clock() -> FakeClock:
    clock = FakeClock()
    clock.set("2026-03-10T02:00:00Z")  # the village PC was installed in March 2026
    return clock


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[NodeStore]:
    opened = NodeStore.init(tmp_path / "v", VILLAGE, "测试村", clock=clock)
    yield opened
    opened.close()


def items(store: NodeStore, today: date) -> dict[str, Due]:
    listed = open_items(store, today, WorkCalendar(), actor="专干", purpose="test")
    return {d.item_id: d for d in listed}


def resident(store: NodeStore, **changes: Any) -> str:
    card = woman_card(
        hukou_code="440104001002", floating_status="resident", floating_since=None,
        floating_place=None, spouse_ref=None, **changes,
    )  # fmt: skip
    return add_record(store, "person", card, today=TODAY)


def test_on_1_april_the_march_report_is_due_on_2_april(store: NodeStore) -> None:
    """Issue 16 item 3, 篇3 第29条: the village sends the month's change report by the 2nd
    of the next month; on 1 April it is March's report that is due (2 April), and it
    stays listed, overdue, until its sending is recorded."""
    april_1 = date(2026, 4, 1)
    listed = items(store, april_1)
    march = listed["monthly_change_report/report/2026-03"]
    assert march.item.due.due == date(2026, 4, 2)
    assert march.zh_name == "村月变更报告单报乡镇" and march.person == ""
    assert "monthly_change_report/report/2026-04" in listed  # April's, due 2 May
    later = items(store, date(2026, 6, 15))
    assert later["monthly_change_report/report/2026-03"].item.is_overdue(
        datetime(2026, 6, 15, 4, tzinfo=UTC)
    )
    close_item(
        store, "monthly_change_report/report/2026-03", april_1, "洪桥街道计生办",
        actor="专干", today=april_1,
    )  # fmt: skip
    assert "monthly_change_report/report/2026-03" not in items(store, date(2026, 6, 15))
    assert "monthly_change_report/report/2026-04" in items(store, date(2026, 6, 15))


def test_listing_names_people_and_is_audited(store: NodeStore) -> None:
    """PIPL: the list shows names, so listing it leaves an audit row."""
    w = resident(store)
    add_record(store, "birth_registration",
               example("birth_registration", mother_ref=w, registered_date="2026-11-20",
                       forwarded_date=None, township_registered_date=None),
               today=TODAY)  # fmt: skip
    (reg,) = [d for d in items(store, TODAY).values() if d.kind == "birth_registration"]
    assert reg.person == "张秀英" and reg.owner == "village"
    rows = store.db.execute("SELECT actor, action FROM audit").fetchall()
    assert ("专干", "list_open_items") in rows


def test_birth_registration_is_a_service_without_an_opinion_step(store: NodeStore) -> None:
    """Issue 16 item 4, 篇3 第11条: passed to the township within 5 working days; no
    "village opinion within 3 days" (that belonged to second-child approval); the
    father's name is optional, so an unmarried mother registers too."""
    mother = resident(store, marital_status="unmarried", first_marriage_date=None)
    data = example(
        "birth_registration", mother_ref=mother, father_name=None, father_id_number=None,
        registered_date="2025-09-29", forwarded_date=None, township_registered_date=None,
    )  # fmt: skip
    rid = add_record(store, "birth_registration", data, today=TODAY)
    listed = [d for d in items(store, date(2025, 9, 30)).values() if d.record_id == rid]
    assert [d.rule for d in listed] == ["birth_registration_to_township"]
    # 2025-09-29 + 5 working days: 9-30, then after the National Day holiday 10-09,
    # 10-10, the make-up Saturday 10-11 and 10-13.
    assert listed[0].item.due.due == date(2025, 10, 13)
    close_item(store, listed[0].item_id, date(2025, 10, 9), None, actor="专干", today=TODAY)
    (township,) = [d for d in items(store, date(2025, 10, 9)).values() if d.record_id == rid]
    assert (township.rule, township.owner) == ("birth_registration_township_report", "township")
    assert store.record("birth_registration", rid)["forwarded_date"] == "2025-10-09"


def test_floating_womans_registration_chain(store: NodeStore) -> None:
    """Issue 16 item 4, 篇10 第15条: at the residence place the village checks with the
    hukou place and passes it on within 5 working days, the township registers within 10
    and tells the hukou place within 10."""
    mother = add_record(store, "person", floating_in_card(spouse_ref=None), today=TODAY)
    data = example(
        "birth_registration", mother_ref=mother, registered_date="2026-11-02",
        forwarded_date=None, township_registered_date=None,
    )  # fmt: skip
    rid = add_record(store, "birth_registration", data, today=TODAY)

    def step(day: date) -> Due:
        (due,) = [d for d in items(store, day).values() if d.record_id == rid]
        return due

    first = step(date(2026, 11, 2))
    assert first.rule == "floating_birth_registration_to_township"
    assert first.item.due.due == date(2026, 11, 9)  # 5 working days from Monday 2 Nov
    close_item(store, first.item_id, date(2026, 11, 6), None, actor="专干", today=TODAY)
    held = store.record("birth_registration", rid)
    assert held["hukou_checked_date"] == held["forwarded_date"] == "2026-11-06"
    second = step(date(2026, 11, 6))
    assert (second.rule, second.owner) == ("floating_birth_registration_township", "township")
    assert second.item.due.due == date(2026, 11, 20)  # 10 working days
    close_item(store, second.item_id, date(2026, 11, 13), None, actor="专干", today=TODAY)
    third = step(date(2026, 11, 13))
    assert third.rule == "floating_birth_registration_notify_hukou"
    assert third.item.due.due == date(2026, 11, 27)
    close_item(store, third.item_id, date(2026, 11, 20), None, actor="专干", today=TODAY)
    assert not [d for d in items(store, TODAY).values() if d.record_id == rid]


def test_complaint_followed_until_answered_tip_off_within_5_working_days(
    store: NodeStore,
) -> None:
    """Issue 16 item 10, 篇4 第18条: a complaint is followed by its first-contact officer
    until answered (no date, never dropped); a tip-off is investigated within 5 working
    days. The reporter is sealed in both (tests/node/test_recording.py)."""
    base = {"reporter": None, "handled_date": None, "answered_date": None, "status": "received"}
    complaint = add_record(store, "complaint",
                           example("complaint", **base, received_date="2026-03-02"),
                           today=TODAY)  # fmt: skip
    tip = add_record(store, "complaint",
                     example("complaint", **base, category="tip_off", received_date="2026-11-20"),
                     today=TODAY)  # fmt: skip
    listed = items(store, TODAY)
    followed = listed[f"complaint_follow_up/complaint/{complaint}"]
    assert not followed.item.has_due_date and followed.zh_name == "信访：首问责任人跟踪至答复"
    tip_item = listed[f"tip_off_investigation/complaint/{tip}"]
    assert tip_item.item.due.due == date(2026, 11, 27)
    close_item(store, tip_item.item_id, date(2026, 11, 26), None, actor="专干", today=TODAY)
    close_item(store, followed.item_id, date(2026, 11, 27), "李专干", actor="专干", today=TODAY)
    after = items(store, TODAY)
    assert followed.item_id not in after and tip_item.item_id not in after
    answered = store.record("complaint", complaint)
    assert (answered["status"], answered["first_contact_officer"]) == ("answered", "李专干")


def test_benefit_workflow_items(store: NodeStore) -> None:
    """Issue 16 item 7, 篇3 第12条 / 篇4 第16条: the township reviews within 5 working days
    after the village's review and public notice; a certified recipient's change is
    recorded in the month; she is checked in person every six months (overdue flagged)."""
    w = resident(store, card_type="family", name="王桂兰",
                 birth=date(1960, 1, 1), marital_status="married")  # fmt: skip
    app = example(
        "benefit_application", person_ref=w, township_reviewed_date=None, township_result=None,
        certificate_no=None, certificate_date=None, annual_amount=None,
    )  # fmt: skip
    aid = add_record(store, "benefit_application", app, today=TODAY)
    review = items(store, date(2026, 9, 20))[f"benefit_recipient_change/benefit_application/{aid}"]
    # The notice ended Friday 18 September; the make-up Sunday 20 September counts.
    assert review.owner == "township" and review.item.due.due == date(2026, 9, 24)
    with pytest.raises(ValidationError):
        close_item(store, review.item_id, date(2026, 9, 23), None, actor="专干", today=TODAY)
    close_item(store, review.item_id, date(2026, 9, 23), "passed", actor="专干", today=TODAY)
    from node.recording import update_record

    update_record(store, "benefit_application", aid,
                  {"certificate_no": "奖扶2026-0017", "certificate_date": "2026-10-08",
                   "annual_amount": 960}, today=TODAY)  # fmt: skip
    in_month = items(store, date(2026, 10, 9))[f"benefit_change_in_month/benefit_application/{aid}"]
    assert in_month.item.due.due == date(2026, 10, 31) and in_month.person == "王桂兰"
    bid = close_item(store, in_month.item_id, date(2026, 10, 9), None, actor="专干", today=TODAY)
    assert store.record("benefit", bid)["annual_amount"] == 960
    check = items(store, TODAY)[f"benefit_in_person_check/benefit/{bid}"]
    assert check.item.due.due == date(2027, 4, 9)
    assert check.item.is_overdue(datetime(2027, 4, 12, 4, tzinfo=UTC))
    close_item(store, check.item_id, date(2026, 11, 20), None, actor="李专干", today=TODAY)
    assert items(store, TODAY)[check.item_id].item.due.due == date(2027, 5, 20)


def test_a_recipients_death_is_a_change_to_record_in_the_month(store: NodeStore) -> None:
    """篇3 第12条, 篇4 第16条: payments to the dead stop: her death is an open item until the
    'died' change is recorded."""
    w = resident(store, card_type="family", name="王桂兰",
                 birth=date(1960, 1, 1))  # fmt: skip
    add_record(store, "benefit", example("benefit", person_ref=w, effective_date="2026-01-01"),
               today=TODAY)  # fmt: skip
    death = add_record(store, "death", example("death", person_ref=w, death_date="2026-11-03"),
                       today=TODAY)  # fmt: skip
    item = items(store, TODAY)[f"benefit_change_in_month/death/{death}"]
    assert item.item.due.due == date(2026, 11, 30)
    close_item(store, item.item_id, date(2026, 11, 3), None, actor="专干", today=TODAY)
    assert not [d for d in items(store, TODAY).values() if d.rule.startswith("benefit")]


@pytest.mark.parametrize("bad", ["nope", "a/b", "a/b/c/d", "//"])
def test_malformed_item_ids(store: NodeStore, bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        close_item(store, bad, TODAY, None, actor="专干", today=TODAY)
    assert caught.value.problems[0].field == "item"
