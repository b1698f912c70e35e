# SPDX-License-Identifier: Apache-2.0
"""Services of a month: checks, procedures and follow-ups, supplies, benefits, complaints.

Everything here is a service a person chose and received (domain.md section 5): checks
are offered every two years and taken up by most women, procedures carry informed
consent, floating women are checked where they live, never sent back to the hukou place,
and hand-outs only ever come out of stock already received.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from node.synth import rates
from node.synth.dates import between, days
from node.synth.plan import Person, Village

PROVIDERS = ("镇卫生院", "县妇幼保健院", "县人民医院")
RESULTS: tuple[tuple[str, int], ...] = (
    ("未见异常", 80), ("轻度宫颈炎，已建议治疗", 8), ("阴道炎，已开药", 6),
    ("乳腺增生，建议复查", 4), ("子宫肌瘤，建议定期随访", 2),
)  # fmt: skip
NOTES = ("情况良好", "无不适", "已告知注意事项", "按时复查", "无并发症")
COMPLAINTS = (
    ("生育登记办理进度咨询", "询问生育登记何时办好，需要带哪些材料。"),
    ("奖励扶助金发放咨询", "询问今年奖励扶助金的发放时间和金额。"),
    ("免费药具领取", "反映自助发放机缺货，希望尽快补充。"),
    ("健康检查预约", "希望调整免费健康检查的时间，方便下班后前往。"),
    ("服务态度", "反映办事时工作人员解释不够耐心。"),
    ("独生子女父母奖励咨询", "询问独生子女父母奖励的申领条件。"),
    ("流动人口证明办理", "在外务工，询问婚育情况证明如何办理。"),
)
CHANNELS: tuple[tuple[str, int], ...] = (
    ("visit", 40),
    ("phone", 35),
    ("letter", 5),
    ("online", 20),
)
REMOVALS = {"iud": "iud_removal", "implant": "implant_removal"}


def plan_procedure(
    v: Village, woman: Person, procedure: str, when: date, after: str, *, follow: bool = True
) -> None:
    """A procedure chosen and received, then the follow-up visits after it (篇4 第36条)."""
    subject = woman.spouse if procedure == "male_sterilisation" else woman
    assert subject is not None
    woman.method, woman.method_since = after, when
    if after != "none":
        # No pregnancy while the visits after this procedure are still to come.
        woman.next_conception = max(woman.next_conception, when + days(400))
    data: dict[str, Any] = {"person_ref": subject.key, "method": procedure, "procedure_date": when}
    data.update(chosen_date=when - days(v.rng.randint(0, 14)), informed_consent=True)
    key = v.add("contraceptive_procedure", when, {**data, "provider": v.rng.choice(PROVIDERS)},
                [subject, woman])  # fmt: skip
    if key is None:
        return
    woman.procedure = key
    for offset in rates.FOLLOW_UP_DAYS if follow else ():
        visit = when + days(offset + v.rng.randint(-3, 3))
        data = {"person_ref": woman.key, "procedure_ref": key, "visit_date": visit}
        data.update(method_in_use=after, notes=v.rng.choice(NOTES))
        v.add("follow_up", visit, data, [woman])


def card_women(v: Village, on: date) -> Iterator[Person]:
    """Women on women's cards who are alive, born and still 15-49 on ``on``."""
    for p in v.people:
        if p.card == "woman" and p.key is not None and p.present(on) and p.age(on) <= 49:
            yield p


def clinic(v: Village, p: Person) -> str:
    """Checks happen where the woman lives (篇10 第20条), never back at the hukou place."""
    return "现居住地社区卫生服务中心" if p.floating == "flowed_out" else v.places.clinic


def health_checks(v: Village, month: int, lo: date, hi: date) -> None:
    """Reproductive-health checks offered every two years, and the odd gynaecological one."""
    for p in card_women(v, lo):
        if (month - p.phase) % rates.REPRODUCTIVE_CHECK_CYCLE_MONTHS == 0:
            check(v, p, "reproductive_health", between(v.rng, lo, hi - days(1)))
        elif v.chance(rates.GYNAECOLOGICAL_CHECK_MONTHLY):
            check(v, p, "gynaecological", between(v.rng, lo, hi - days(1)))


def check(v: Village, p: Person, kind: str, scheduled: date) -> None:
    """A check offered on ``scheduled``; most are done within days, the rest stay offered."""
    if not p.present(scheduled):
        return
    done = scheduled + days(v.rng.randint(0, 10)) if v.chance(rates.CHECK_TAKEN_UP) else None
    if done is not None and (done >= v.end or not p.present(done)):
        done = None
    data: dict[str, Any] = {"person_ref": p.key, "check_type": kind, "scheduled_date": scheduled}
    data.update(place=clinic(v, p), requires_return_to_hukou=False)
    if done is not None:
        data.update(done_date=done, result_summary=v.rng.choices(*zip(*RESULTS, strict=True))[0])
    v.add("health_check", done or scheduled, data, [p])


def follow_ups(v: Village, month: int, lo: date, hi: date) -> None:
    """A yearly visit to every married woman using a method (篇4 第36条)."""
    for p in card_women(v, lo):
        if not p.currently_married or p.method == "none" or (month - p.phase) % 12:
            continue
        visit = between(v.rng, lo, hi - days(1))
        if p.method_since <= visit and p.present(visit):
            data = {"person_ref": p.key, "visit_date": visit, "method_in_use": p.method}
            v.add("follow_up", visit, {**data, "notes": v.rng.choice(NOTES)}, [p])


def procedures(v: Village, lo: date, hi: date) -> None:
    """Methods people change outside a pregnancy: removals at 45+, switches after two children."""
    for p in card_women(v, lo):
        day = between(v.rng, lo, hi - days(1))
        if not p.currently_married or p.method_since > day or not p.present(day):
            continue
        if p.method == "iud" and p.age(day) >= 45 and v.chance(rates.IUD_REMOVAL_45_MONTHLY):
            plan_procedure(v, p, "iud_removal", day, "none", follow=False)
        elif p.method == "implant" and v.chance(rates.IMPLANT_REMOVAL_MONTHLY):
            plan_procedure(v, p, "implant_removal", day, "condom", follow=False)
        elif p.method in ("condom", "none", "pill_injection") and len(p.children) >= 2:
            if v.chance(rates.METHOD_SWITCH_MONTHLY):
                switch(v, p, day)


def switch(v: Village, p: Person, day: date) -> None:
    options = [("iud", 60), ("implant", 15), ("female_sterilisation", 15)]
    if p.spouse is not None and p.spouse.present(day) and p.spouse.died is None:
        options.append(("male_sterilisation", 10))
    method = v.rng.choices(*zip(*options, strict=True))[0]
    procedure = {"iud": "iud_insertion", "implant": "implant_insertion"}.get(method, method)
    plan_procedure(v, p, procedure, day, method)
