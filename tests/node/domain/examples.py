# SPDX-License-Identifier: Apache-2.0
"""One valid example per record kind, and helpers to derive invalid ones from them.

Bad records are derived from a good one with one field changed (style guide item 21), so
a test that expects one problem sees exactly that one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from node.domain.resident_id import make_resident_id

TODAY = date(2026, 11, 28)
MOTHER_BIRTH = date(1990, 5, 17)
MOTHER_ID = make_resident_id("440104", MOTHER_BIRTH, 12, "F")
HUSBAND_ID = make_resident_id("440106", date(1988, 3, 2), 31, "M")
CHILD_ID = make_resident_id("440104", date(2026, 3, 9), 8, "F")
DELETE = object()


def changed(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``record`` with fields replaced, or removed when set to ``DELETE``."""
    out = {**record, **changes}
    return {k: v for k, v in out.items() if v is not DELETE}


def woman_card(birth: date = MOTHER_BIRTH, **changes: Any) -> dict[str, Any]:
    """A woman's information card whose ID number agrees with ``birth``: her hukou and
    her home in the test village 440104001002, not floating."""
    card = {
        "card_type": "woman",
        "id_number": make_resident_id("440104", birth, 12, "F"),
        "name": "张秀英",
        "sex": "F",
        "birth_date": birth.isoformat(),
        "ethnicity": "汉族",
        "hukou_code": "440104001002",
        "hukou_address": "广州市越秀区洪桥街道某社区1号",
        "residence_code": "440104001002",
        "residence_address": "广州市越秀区洪桥街道某路2号",
        "marital_status": "married",
        "first_marriage_date": "2015-10-01",
        "spouse_ref": "p-000002",
        "phone": "13800000000",
        "floating_status": "resident",
        "floating_since": None,
        "floating_place": None,
    }
    return changed(card, **changes)


def floating_in_card(birth: date = MOTHER_BIRTH, **changes: Any) -> dict[str, Any]:
    """The card of a woman who floated into the test village from Tianhe (another county)
    in 2019: her hukou is there (流入)."""
    floating = {
        "hukou_code": "440106001001",
        "hukou_address": "广州市天河区五山街道某社区1号",
        "floating_status": "flowed_in",
        "floating_since": "2019-03-01",
        "floating_place": "440106",
    }
    return woman_card(birth, **{**floating, **changes})


EXAMPLES: dict[str, dict[str, Any]] = {
    "person": floating_in_card(),
    "marriage": {
        "woman_ref": "p-000001",
        "husband_name": "李建国",
        "husband_id_number": HUSBAND_ID,
        "marriage_date": "2015-10-01",
        "first_marriage": True,
        "registered_at": "越秀区民政局婚姻登记处",
    },
    "pregnancy": {
        "woman_ref": "p-000001",
        "registered_date": "2026-07-20",
        "last_menstrual_date": "2026-06-01",
        "expected_date": "2027-03-08",
        "care_place": "越秀区妇幼保健院",
    },
    "birth": {
        "mother_ref": "p-000001",
        "child_name": "李小梅",
        "child_sex": "F",
        "birth_date": "2026-03-09",
        "birth_order": 2,
        "birth_place": "广州市妇女儿童医疗中心",
        "weight_g": 3250,
        "child_id_number": CHILD_ID,
    },
    "birth_registration": {
        "mother_ref": "p-000001",
        "father_name": "李建国",
        "father_id_number": HUSBAND_ID,
        "child_order": 2,
        "registered_date": "2025-09-01",
        "hukou_checked_date": None,
        "forwarded_date": "2025-09-05",
        "township_registered_date": "2025-09-10",
        "hukou_notified_date": None,
        "certificate_no": "440104-2025-0123",
    },
    "death": {"person_ref": "p-000003", "death_date": "2026-02-14", "place": "家中"},
    "move": {
        "person_ref": "p-000001",
        "direction": "in",
        "move_date": "2026-03-01",
        "from_code": "440106001001",
        "to_code": "440104001002",
        "address": "广州市越秀区洪桥街道某路2号",
        "reason": "work",
    },
    "contraceptive_procedure": {
        "person_ref": "p-000001",
        "method": "iud_insertion",
        "chosen_date": "2026-05-02",
        "procedure_date": "2026-05-10",
        "provider": "北京街道社区卫生服务中心",
        "informed_consent": True,
    },
    "health_check": {
        "person_ref": "p-000001",
        "check_type": "reproductive_health",
        "scheduled_date": "2026-12-10",
        "done_date": None,
        "place": "北京街道社区卫生服务中心",
        "requires_return_to_hukou": False,
        "result_summary": None,
    },
    "follow_up": {
        "person_ref": "p-000001",
        "procedure_ref": "cp-000001",
        "visit_date": "2026-06-10",
        "method_in_use": "iud",
        "notes": "情况良好",
    },
    "supply_receipt": {
        "item": "condom",
        "quantity": 500,
        "received_date": "2026-01-05",
        "source": "越秀区药具管理站",
    },
    "supply_handout": {
        "person_ref": None,
        "item": "condom",
        "quantity": 10,
        "handout_date": "2026-01-06",
    },
    "benefit": {
        "person_ref": "p-000004",
        "programme": "reward_support",
        "change": "new",
        "effective_date": "2027-01-01",
        "checked_in_person_date": "2026-10-15",
        "annual_amount": 960,
        "application_ref": None,
    },
    "benefit_application": {
        "person_ref": "p-000004",
        "programme": "reward_support",
        "applied_date": "2026-09-01",
        "village_reviewed_date": "2026-09-10",
        "village_result": "passed",
        "notice_from": "2026-09-11",
        "notice_until": "2026-09-18",
        "township_reviewed_date": "2026-09-25",
        "township_result": "passed",
        "certificate_no": "奖扶2026-0017",
        "certificate_date": "2026-10-08",
        "annual_amount": 960,
    },
    "benefit_check": {
        "person_ref": "p-000004",
        "programme": "reward_support",
        "checked_date": "2026-10-15",
        "result": "confirmed",
        "checker": "李专干",
    },
    "marital_change": {
        "person_ref": "p-000001",
        "marital_status": "divorced",
        "change_date": "2026-04-01",
    },
    "floating": {
        "person_ref": "p-000001",
        "event": "flow_out",
        "event_date": "2026-03-01",
        "place_code": "440306",
        "address": "深圳市宝安区某街道某路3号",
        "reason": "work",
    },
    "check_report_slip": {
        "person_ref": "p-000001",
        "slip_no": "越秀-2026-0031",
        "check_date": "2026-06-15",
        "check_place": "北京街道社区卫生服务中心",
        "method_in_use": "iud",
        "check_result": "normal",
        "issued_date": "2026-06-15",
        "issuer": "北京街道计生办",
    },
    "report_submission": {
        "report": "monthly_change_report",
        "period": "2026-10",
        "sent_date": "2026-11-02",
        "sent_to": "洪桥街道计生办",
    },
    "complaint": {
        "category": "complaint",
        "received_date": "2026-11-02",
        "channel": "phone",
        "subject": "药具发放",
        "content": "询问免费药具的领取地点。",
        "reporter": {"name": "王某", "phone": "13900000000", "id_number": None},
        "first_contact_officer": "李专干",
        "handled_date": "2026-11-03",
        "answered_date": "2026-11-05",
        "status": "answered",
    },
    "only_child_certificate": {
        "parent_ref": "p-000005",
        "child_name": "陈晓",
        "child_birth_date": "2008-04-01",
        "certificate_no": "粤越0012345",
        "issued_date": "2012-06-01",
    },
}


def example(kind: str, **changes: Any) -> dict[str, Any]:
    """The example of ``kind`` with ``changes`` applied."""
    return changed(EXAMPLES[kind], **changes)
