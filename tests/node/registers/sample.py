# SPDX-License-Identifier: Apache-2.0
"""A small village written straight through the store, with hand-countable March data.

Records are written with ``store.write`` and no validation (the validation module is
written in parallel and the registers must not depend on it); each record is dated so
that the expected rows of every register for March can be counted by reading this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from node.store.store import NodeStore
from protocol import NodeId

VILLAGE = NodeId.for_code("440104001002")
REPORTER_NAME = "赵举报"
REPORTER_PHONE = "13912345678"


def utc_ms(iso: str) -> int:
    """Milliseconds since the epoch of an ISO instant written in UTC ('...Z')."""
    return int(
        datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000
    )


@dataclass
class FakeClock:
    """The wall clock the store's change log reads, set by the test."""

    ms: int = field(default_factory=lambda: utc_ms("2026-01-01T00:00:00Z"))

    def __call__(self) -> int:
        return self.ms

    def set(self, iso: str) -> None:
        self.ms = utc_ms(iso)


def add(store: NodeStore, kind: str, **fields: Any) -> str:
    """Write one new record of ``kind`` as its own entry; return its id."""
    record_id = store.new_id(kind)
    store.write([store.upsert_op(kind, record_id, fields)])
    return record_id


def card(name: str, id_number: str, sex: str = "F", **extra: Any) -> dict[str, Any]:
    return {
        "card_type": "woman" if sex == "F" else "family",
        "name": name,
        "id_number": id_number,
        "sex": sex,
        "birth_date": f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
        "hukou_address": f"广州市越秀区{name}户籍街1号",
        "residence_address": f"广州市越秀区{name}居住路2号",
        "marital_status": "married",
        **extra,
    }


@dataclass
class Village:
    store: NodeStore
    ids: dict[str, str]


def build_village(store: NodeStore) -> Village:
    """The sample village; ``ids`` names every record by its role in the tests."""
    s, ids = store, {}
    ids["wang"] = add(s, "person", **card("王芳", "440104199504020021"))
    ids["li"] = add(s, "person", **card("李娜", "440104199208150042"))
    ids["chen"] = add(s, "person", **card("陈静", "440104200001010063", marital_status="unmarried"))
    ids["zhang"] = add(s, "person", **card("张伟", "440104195003030011", sex="M"))

    def marriage(who: str, day: str) -> str:
        return add(
            s,
            "marriage",
            woman_ref=ids[who],
            husband_name="丈夫" + who,
            husband_id_number="440104199001010017",
            marriage_date=day,
            first_marriage=True,
            registered_at="越秀区民政局",
        )

    ids["m_march"] = marriage("wang", "2026-03-10")
    ids["m_feb"] = marriage("li", "2026-02-27")
    ids["m_last_day"] = marriage("chen", "2026-03-31")
    ids["m_april"] = marriage("chen", "2026-04-01")
    ids["m_retired"] = marriage("li", "2026-03-15")
    s.write([s.retire_op("marriage", ids["m_retired"], "entered_in_error")])

    add(
        s,
        "pregnancy",
        woman_ref=ids["wang"],
        registered_date="2026-03-05",
        last_menstrual_date="2026-01-20",
        expected_date="2026-10-27",
        care_place="区妇幼保健院",
    )
    add(
        s, "pregnancy", woman_ref=ids["li"], registered_date="2026-04-02", care_place="区妇幼保健院"
    )

    ids["b_second"] = add(
        s,
        "birth",
        mother_ref=ids["li"],
        child_name="李小明",
        child_sex="M",
        birth_date="2026-03-20",
        birth_order=2,
        birth_place="市一医院",
        weight_g=3300,
    )
    ids["b_first"] = add(
        s,
        "birth",
        mother_ref=ids["wang"],
        child_name="王小红",
        child_sex="F",
        birth_date="2026-03-01",
        birth_order=1,
        birth_place="市一医院",
    )

    add(
        s,
        "birth_registration",
        mother_ref=ids["li"],
        father_name="刘强",
        child_order=2,
        registered_date="2026-03-02",
        village_opinion_date="2026-03-03",
    )

    ids["c_march"] = add(
        s,
        "contraceptive_procedure",
        person_ref=ids["wang"],
        method="iud_insertion",
        chosen_date="2026-03-01",
        procedure_date="2026-03-12",
        provider="区妇幼保健院",
        informed_consent=True,
    )
    add(
        s,
        "contraceptive_procedure",
        person_ref=ids["li"],
        method="iud_removal",
        chosen_date="2026-02-01",
        procedure_date="2026-02-10",
        provider="区妇幼保健院",
        informed_consent=True,
    )

    add(
        s,
        "only_child_certificate",
        parent_ref=ids["li"],
        child_name="李大宝",
        child_birth_date="2015-06-01",
        certificate_no="YX2026-001",
        issued_date="2026-03-18",
    )
    add(s, "death", person_ref=ids["zhang"], death_date="2026-03-25", place="家中")

    add(
        s,
        "health_check",
        person_ref=ids["wang"],
        check_type="reproductive_health",
        scheduled_date="2026-03-01",
        done_date="2026-03-03",
        place="镇卫生院",
        requires_return_to_hukou=False,
        result_summary="未见异常",
    )
    add(
        s,
        "health_check",
        person_ref=ids["li"],
        check_type="gynaecological",
        scheduled_date="2026-03-20",
        place="镇卫生院",
    )
    add(
        s,
        "health_check",
        person_ref=ids["chen"],
        check_type="reproductive_health",
        scheduled_date="2026-02-25",
        done_date="2026-03-02",
        place="镇卫生院",
    )

    add(
        s,
        "follow_up",
        person_ref=ids["wang"],
        procedure_ref=ids["c_march"],
        visit_date="2026-03-28",
        method_in_use="iud",
        notes="随访备注",
    )

    for item, qty, day in (
        ("condom", 100, "2026-02-01"),
        ("pill", 30, "2026-03-03"),
        ("condom", 50, "2026-03-10"),
        ("condom", 20, "2026-04-02"),
    ):
        add(s, "supply_receipt", item=item, quantity=qty, received_date=day, source="区计生站")
    for who, item, qty, day in (
        ("wang", "condom", 10, "2026-02-15"),
        ("li", "condom", 5, "2026-03-05"),
        (None, "condom", 3, "2026-03-20"),
        ("wang", "pill", 2, "2026-03-21"),
        ("li", "condom", 7, "2026-04-01"),
    ):
        add(
            s,
            "supply_handout",
            person_ref=ids[who] if who else None,
            item=item,
            quantity=qty,
            handout_date=day,
        )
    ids["h_retired"] = add(
        s, "supply_handout", item="condom", quantity=1000, handout_date="2026-03-11"
    )
    s.write([s.retire_op("supply_handout", ids["h_retired"], "entered_in_error")])

    add(
        s,
        "benefit",
        person_ref=ids["zhang"],
        programme="reward_support",
        change="new",
        effective_date="2026-01-05",
    )
    ids["e_li"] = add(
        s,
        "benefit",
        person_ref=ids["li"],
        programme="reward_support",
        change="new",
        effective_date="2026-03-01",
        checked_in_person_date="2026-03-01",
    )
    add(
        s,
        "benefit",
        person_ref=ids["chen"],
        programme="special_support",
        change="new",
        effective_date="2025-12-01",
    )
    add(
        s,
        "benefit",
        person_ref=ids["chen"],
        programme="special_support",
        change="stopped",
        effective_date="2026-03-15",
    )

    ids["complaint"] = add(
        s,
        "complaint",
        received_date="2026-03-08",
        channel="phone",
        subject="咨询生育登记",
        content="=询问二孩登记需要哪些材料",
        status="answered",
        answered_date="2026-03-09",
        reporter={"name": REPORTER_NAME, "phone": REPORTER_PHONE},
    )
    return Village(store, ids)
