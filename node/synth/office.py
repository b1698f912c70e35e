# SPDX-License-Identifier: Apache-2.0
"""The office's own registers in a month: supplies, benefit changes, complaints, certificates.

Supplies are received at the start of the month for the month's expected demand (plus a
margin) and handed out afterwards, so the stock ledger balances the way 篇4 第35条 asks
and no hand-out is ever refused for want of stock.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from node.synth import rates
from node.synth.dates import add_months, between, days
from node.synth.plan import Person, Village
from node.synth.services import CHANNELS, COMPLAINTS, card_women

SOURCES = ("县计生药具管理站", "乡镇计生办")


def supplies(v: Village, month: int, lo: date, hi: date) -> None:
    """Receipts on the month's first days, then hand-outs to users and the dispenser."""
    handouts: list[tuple[Person | None, str, int]] = []
    for p in card_women(v, lo):
        if not p.currently_married or p.floating == "flowed_out" or p.method_since > lo:
            continue
        if p.method == "condom" and (month + p.phase) % 3 == 0:
            handouts.append((p, "condom", v.rng.choice((20, 30, 30, 40))))
        elif p.method == "pill_injection" and p.pill_item == "pill":
            handouts.append((p, "pill", v.rng.randint(1, 3)))
        elif p.method == "pill_injection" and (month + p.phase) % 3 == 0:
            handouts.append((p, "injection", 1))
    for _ in range(v.rng.randint(1, 3)):
        handouts.append((None, "condom", v.rng.randint(20, 60)))
    if v.chance(0.3):
        handouts.append((None, "spermicide", v.rng.randint(2, 5)))
    receive(v, lo, handouts)
    for person, item, quantity in handouts:
        day = between(v.rng, lo + days(2), hi - days(1))
        if person is not None and not person.present(day):
            continue
        data = {"person_ref": person.key if person else None, "item": item}
        if v.add("supply_handout", day, {**data, "quantity": quantity, "handout_date": day},
                 [person] if person else []) is not None:  # fmt: skip
            v.stock[item] -= quantity


def receive(v: Village, lo: date, handouts: list[tuple[Person | None, str, int]]) -> None:
    demand: dict[str, int] = {}
    for _, item, quantity in handouts:
        demand[item] = demand.get(item, 0) + quantity
    for item, need in demand.items():
        lot = 100 if item == "condom" else 10
        short = need + need // 4 - v.stock.get(item, 0)
        if short <= 0:
            continue
        quantity = -(-short // lot) * lot
        day = lo + days(v.rng.randint(0, 1))
        data = {"item": item, "quantity": quantity, "received_date": day}
        if v.add("supply_receipt", day, {**data, "source": v.rng.choice(SOURCES)}) is not None:
            v.stock[item] = v.stock.get(item, 0) + quantity


def benefits(v: Village, lo: date, hi: date) -> None:
    """New recipients: reward support from 60 (about one in eight), special support rarely."""
    effective = add_months(date(lo.year, lo.month, 1), 1)
    for p in v.people:
        if not p.native or p.benefit is not None:
            continue
        birthday = date(p.birth.year + rates.BENEFIT_AGE, p.birth.month, min(p.birth.day, 28))
        if lo <= birthday < hi and p.present(birthday) and v.chance(rates.REWARD_SUPPORT_SHARE):
            enrol(v, p, "reward_support", between(v.rng, birthday, hi - days(1)), effective)
    for _ in range(v.poisson(len(v.people) * rates.SPECIAL_SUPPORT_PER_1000 / 1000 / 12)):
        day = between(v.rng, lo, hi - days(1))
        pool = [
            p for p in v.people
            if p.native and p.benefit is None and p.present(day) and p.age(day) >= 49
        ]  # fmt: skip
        if pool:
            enrol(v, v.rng.choice(pool), "special_support", day, effective)


def enrol(v: Village, p: Person, programme: str, day: date, effective: date) -> None:
    """The application and its reviews (village review and public notice, township
    review, payment certificate), then the recipient's change 'new' in the same month."""
    if not p.present(day) or p.key is None:
        return
    applied = day - days(20)
    if applied < v.start:
        return  # the reviews and the notice take 20 days: none fits before the start
    amount = rates.ANNUAL_AMOUNTS.get(programme, 960)
    number = f"奖扶{applied.year}-{v.next_number('benefit'):04d}"
    application = {"person_ref": p.key, "programme": programme, "applied_date": applied}
    application.update(village_reviewed_date=applied + days(3), village_result="passed")
    application.update(notice_from=applied + days(4), notice_until=applied + days(10))
    application.update(township_reviewed_date=applied + days(14), township_result="passed")
    application.update(certificate_no=number, certificate_date=day, annual_amount=amount)
    ref = v.add("benefit_application", day, application, [p])
    data = {"person_ref": p.key, "programme": programme, "change": "new"}
    data.update(annual_amount=amount, application_ref=ref)
    if v.add("benefit", day, {**data, "effective_date": effective}, [p], until=effective):
        p.benefit = programme
        p.benefit_checked = day


def benefit_checks(v: Village, lo: date, hi: date) -> None:
    """The in-person check of each recipient every six months (篇4 第16条)."""
    for p in v.people:
        if p.benefit is None or p.benefit_checked is None or p.key is None:
            continue
        due = add_months(p.benefit_checked, rates.BENEFIT_CHECK_MONTHS)
        if not lo <= due < hi or not p.present(due):
            continue
        day = due - days(v.rng.randint(0, 20))
        if day < lo or day <= p.benefit_checked:
            day = due
        data = {"person_ref": p.key, "programme": p.benefit, "checked_date": day}
        data.update(result="confirmed", checker="村计生专干")
        if v.add("benefit_check", day, data, [p]) is not None:
            p.benefit_checked = day


def complaints(v: Village, lo: date, hi: date) -> None:
    """Enquiries and complaints; the reporter is left out (sealed, and not synthetic)."""
    for _ in range(v.poisson(len(v.people) * rates.COMPLAINTS_PER_1000 / 1000 / 12)):
        received = between(v.rng, lo, hi - days(1))
        subject, content = v.rng.choice(COMPLAINTS)
        channel = v.rng.choices(*zip(*CHANNELS, strict=True))[0]
        data = {"received_date": received, "channel": channel, "subject": subject}
        data["content"] = content
        data["first_contact_officer"] = "村计生专干"
        if v.chance(0.4):
            v.add("complaint", received, {**data, "status": "received"})
            continue
        handled = received + days(v.rng.randint(1, 4))
        answered = handled + days(v.rng.randint(0, 3))
        status = "closed" if v.chance(0.5) else "answered"
        data.update(handled_date=handled, answered_date=answered, status=status)
        v.add("complaint", answered, data)


def certificates(v: Village, lo: date, hi: date) -> None:
    """Only-child parents' certificates for only children born before the 2016 change."""
    for p in card_women(v, lo):
        if p.certified or len(p.children) != 1 or not p.currently_married:
            continue
        child = p.children[0]
        if child.birth.year > 2015 or child.age(lo) >= 18 or child.died is not None:
            continue
        if v.chance(rates.ONLY_CHILD_CERTIFICATE_MONTHLY):
            day = between(v.rng, lo, hi - days(1))
            number = f"{v.places.county}{day.year}{v.next_number('only_child'):04d}"
            data: dict[str, Any] = {"parent_ref": p.key, "child_name": child.name}
            data.update(child_birth_date=child.birth, certificate_no=number, issued_date=day)
            p.certified = v.add("only_child_certificate", day, data, [p]) is not None
