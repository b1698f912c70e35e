# SPDX-License-Identifier: Apache-2.0
"""Cross-record rules: pure ``check_*`` functions over plain facts, never a database.

The store gathers the facts (a person's birth and death dates, her marital status, the
stock balance) and calls these before it writes; the record schemas call the ones whose
facts are inside one record. Each returns None or raises
:class:`node.errors.RuleViolation` with one bilingual problem: a safeguard is a hard
refusal, not a warning an officer can click away.

Numbering follows domain.md section 5 and the source articles it cites. There is
deliberately no rule about fees, fines or charges: the social maintenance fee is abolished
and certificates are free (篇10 第12条), so no record has a fee field to check, and a test
keeps it so. Nor is there anything for pressure lists, "remedial measures" or informant
rewards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from node.domain import codes
from node.domain.messages import problem
from node.errors import RuleViolation

DateLike = date | str
MIN_MOTHER_AGE = 12
MARITAL_STATUSES = tuple(codes.MARITAL_STATUSES)


def as_date(value: DateLike) -> date:
    """Accept the ISO strings records store as well as dates.

    Raises:
        ValueError: not a date or an ISO 'YYYY-MM-DD' string (the caller validated it).
    """
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def age_on(birth_date: DateLike, on_date: DateLike) -> int:
    """Age in completed years (周岁) on ``on_date``."""
    born, on = as_date(birth_date), as_date(on_date)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _refuse(field: str, code: str, **params: object) -> RuleViolation:
    return RuleViolation([problem(field, code, **params)])


def check_not_before_birth(event_date: DateLike, person_birth_date: DateLike, field: str) -> None:
    """1. No event of a person's is dated before she was born.

    Raises:
        RuleViolation: ``rule.before_birth`` on ``field``.
    """
    if as_date(event_date) < as_date(person_birth_date):
        raise _refuse(field, "rule.before_birth")


def check_mother_age(
    child_birth_date: DateLike, mother_birth_date: DateLike, field: str = "birth_date"
) -> None:
    """1a. A child is born after its mother, and she is at least 12 then.

    A younger mother is not impossible in the absolute, but in a register it is almost
    always a mistyped date or the wrong mother, so the officer must check and correct it.

    Raises:
        RuleViolation: ``rule.before_birth`` or ``rule.mother_too_young`` on ``field``.
    """
    check_not_before_birth(child_birth_date, mother_birth_date, field)
    if age_on(mother_birth_date, child_birth_date) < MIN_MOTHER_AGE:
        raise _refuse(field, "rule.mother_too_young", min_age=MIN_MOTHER_AGE)


def check_not_after_death(event_date: DateLike, death_date: DateLike | None, field: str) -> None:
    """2. No event is dated after a person's death (None: the person is alive).

    This is also what stops benefit payments to the dead (篇4 第16条 in-person checks).

    Raises:
        RuleViolation: ``rule.after_death`` on ``field``.
    """
    if death_date is not None and as_date(event_date) > as_date(death_date):
        raise _refuse(field, "rule.after_death")


def check_pregnancy_check_allowed(
    marital_status: str, check_type: str = "pregnancy_check", field: str = "check_type"
) -> None:
    """3. An unmarried woman is never scheduled for a pregnancy check (篇7 四(一)).

    The store calls this for every health check with the woman's marital status; other
    check types (gynaecological, reproductive-health, pre-pregnancy) are open to anyone.

    Raises:
        RuleViolation: ``rule.pregnancy_check_unmarried`` on ``field``.
        ValueError: ``marital_status`` is not a known status (a programming mistake).
    """
    if marital_status not in MARITAL_STATUSES:
        raise ValueError(f"unknown marital status {marital_status!r}")
    if check_type == "pregnancy_check" and marital_status == "unmarried":
        raise _refuse(field, "rule.pregnancy_check_unmarried")


def check_no_contraceptive_check_unmarried(marital_status: str, field: str) -> None:
    """3a. No organised contraceptive-status check of any kind for an unmarried woman
    (篇7 四(一)): no pregnancy check, no check of the method in use, no follow-up of her
    contraception that is not the aftercare of a procedure she chose, no check report slip.

    Raises:
        RuleViolation: ``rule.contraceptive_check_unmarried`` on ``field``.
        ValueError: ``marital_status`` is not a known status (a programming mistake).
    """
    if marital_status not in MARITAL_STATUSES:
        raise ValueError(f"unknown marital status {marital_status!r}")
    if marital_status == "unmarried":
        raise _refuse(field, "rule.contraceptive_check_unmarried")


def check_consent(consent_given: bool, field: str = "informed_consent") -> None:
    """4. A contraceptive procedure is recorded only as the person's informed choice.

    Services are voluntary (domain.md 5): a record without consent would document a
    coerced procedure, so it is refused rather than stored with a flag.

    Raises:
        RuleViolation: ``rule.no_consent`` on ``field``.
    """
    if consent_given is not True:
        raise _refuse(field, "rule.no_consent")


def check_check_place(
    requires_return_to_hukou: bool, field: str = "requires_return_to_hukou"
) -> None:
    """5. No one is made to return to the hukou place for a check (篇10 第20条).

    A floating woman has her checks where she lives, and the residence place notifies
    the hukou place (篇10 第24条). The health-check record keeps an explicit
    ``requires_return_to_hukou`` field precisely so that this rule can refuse a record
    that demands the journey, instead of the demand hiding in a free-text note; the
    field can therefore only ever be stored as false.

    Raises:
        RuleViolation: ``rule.return_to_hukou`` on ``field``.
    """
    if requires_return_to_hukou:
        raise _refuse(field, "rule.return_to_hukou")


def check_stock(
    movements: Iterable[tuple[DateLike, int]], *, since: DateLike, field: str = "quantity"
) -> None:
    """6. No day's stock goes below zero, from ``since`` on (篇4 第35条: stock balances).

    ``movements`` are every receipt (+) and hand-out (-) of one item, the new or changed
    one included, in any order. The stock is followed day by day, a day's receipts
    before its hand-outs; a back-dated hand-out is therefore checked against the stock
    of its own day and of every day after it, not only against today's balance. Days
    before ``since`` (the new hand-out's date, a withdrawn receipt's date) cannot be
    changed by this write and are not its business.

    Raises:
        RuleViolation: ``rule.stock_negative`` on ``field``, naming the first day and the
            balance it would have.
    """
    first = as_date(since)
    by_day: dict[date, list[int]] = {}
    for day, quantity in movements:
        by_day.setdefault(as_date(day), []).append(quantity)
    balance = 0
    for day in sorted(by_day):
        balance += sum(by_day[day])
        if balance < 0 and day >= first:
            raise _refuse(field, "rule.stock_negative", date=day.isoformat(), balance=balance)


def check_age_band(
    birth_date: DateLike, on_date: DateLike, lo: int, hi: int, field: str = "birth_date"
) -> None:
    """7. The person is aged ``lo`` to ``hi`` (completed years) on ``on_date``.

    Information cards of women are for ages 15-49 (篇3 第27条); anyone else in the
    household is recorded on a family card (``card_type = 'family'``), which has no band.

    Raises:
        RuleViolation: ``rule.age_band`` on ``field``.
    """
    if not lo <= age_on(birth_date, on_date) <= hi:
        raise _refuse(field, "rule.age_band", lo=lo, hi=hi)
