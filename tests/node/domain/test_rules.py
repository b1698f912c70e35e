# SPDX-License-Identifier: Apache-2.0
"""Cross-record rules: a good/bad pair for each safeguard (domain.md section 5)."""

from __future__ import annotations

from datetime import date

import pytest

from node.domain import rules
from node.errors import RuleViolation

from .examples import TODAY


def refused(check, *args, **kwargs):
    with pytest.raises(RuleViolation) as info:
        check(*args, **kwargs)
    [problem] = info.value.problems
    assert problem.zh and problem.en
    assert 422 == info.value.status
    return problem


def test_age_on_counts_completed_years():
    assert 35 == rules.age_on("1990-11-29", TODAY)
    assert 36 == rules.age_on(date(1990, 11, 28), TODAY)


def test_not_before_birth():
    """No event of a person's is dated before she was born."""
    rules.check_not_before_birth("1990-05-17", "1990-05-17", "floating_since")
    p = refused(rules.check_not_before_birth, "1990-05-16", date(1990, 5, 17), "floating_since")
    assert ("floating_since", "rule.before_birth") == (p.field, p.code)


def test_child_not_born_before_mother():
    """A child's birth is not before the mother's birth."""
    p = refused(rules.check_mother_age, "1989-01-01", "1990-05-17")
    assert ("birth_date", "rule.before_birth") == (p.field, p.code)


def test_mother_at_least_twelve():
    """A mother under 12 at the birth is implausible: a mistyped date or the wrong mother."""
    rules.check_mother_age("2002-05-17", "1990-05-17")
    p = refused(rules.check_mother_age, "2002-05-16", "1990-05-17", "child_birth")
    assert ("child_birth", "rule.mother_too_young") == (p.field, p.code)
    assert "12" in p.zh and "12" in p.en


def test_not_after_death():
    """No event is dated after a death."""
    rules.check_not_after_death("2026-02-14", "2026-02-14", "visit_date")
    rules.check_not_after_death("2030-01-01", None, "visit_date")
    p = refused(rules.check_not_after_death, "2026-02-15", date(2026, 2, 14), "visit_date")
    assert ("visit_date", "rule.after_death") == (p.field, p.code)


@pytest.mark.parametrize("status", ["married", "divorced", "widowed", "remarried"])
def test_pregnancy_check_for_married_women(status):
    rules.check_pregnancy_check_allowed(status)


@pytest.mark.parametrize("check_type", ["reproductive_health", "gynaecological", "pre_pregnancy"])
def test_other_checks_are_open_to_unmarried_women(check_type):
    rules.check_pregnancy_check_allowed("unmarried", check_type)


def test_unmarried_woman_never_scheduled_for_pregnancy_check():
    """篇7 四(一): unmarried women are never scheduled for pregnancy checks."""
    p = refused(rules.check_pregnancy_check_allowed, "unmarried")
    assert ("check_type", "rule.pregnancy_check_unmarried") == (p.field, p.code)


def test_unknown_marital_status_is_a_programming_mistake():
    with pytest.raises(ValueError):
        rules.check_pregnancy_check_allowed("single")


def test_consent():
    """Contraceptive procedures are recorded only as chosen by informed consent."""
    rules.check_consent(True)
    for value in (False, None, "true", 1):
        p = refused(rules.check_consent, value)
        assert ("informed_consent", "rule.no_consent") == (p.field, p.code)


def test_check_place():
    """篇10 第20条: no one is made to return to the hukou place for checks."""
    rules.check_check_place(False)
    p = refused(rules.check_check_place, True)
    assert ("requires_return_to_hukou", "rule.return_to_hukou") == (p.field, p.code)


def test_stock():
    """篇4 第35条: supplies balance; a hand-out never drives the stock below zero."""
    rules.check_stock([("2026-01-05", 10), ("2026-01-06", -10)], since="2026-01-06")
    p = refused(rules.check_stock, [("2026-01-05", 9), ("2026-01-06", -10)], since="2026-01-06")
    assert ("quantity", "rule.stock_negative") == (p.field, p.code)
    assert "2026-01-06" in p.zh and "-1" in p.en


def test_stock_counts_receipts_of_the_day_before_its_handouts():
    rules.check_stock([("2026-01-06", -5), ("2026-01-06", 5)], since="2026-01-06")


def test_stock_is_checked_on_every_day_after_a_back_dated_handout():
    """Issue 12: a hand-out dated before the only receipt leaves a day below zero."""
    moves = [("2026-03-01", 100), ("2026-03-10", -90), ("2026-02-20", -20)]
    p = refused(rules.check_stock, moves, since="2026-02-20")
    assert "2026-02-20" in p.en and "-20" in p.en
    # Dated after the receipt, the same hand-out leaves a day at -10 later on.
    moves = [("2026-03-01", 100), ("2026-03-10", -90), ("2026-03-05", -20)]
    p = refused(rules.check_stock, moves, since="2026-03-05")
    assert "2026-03-10" in p.en and "-10" in p.en


def test_stock_ignores_days_before_the_change():
    """A shortfall that the write cannot have caused (before its day) is not its refusal."""
    moves = [("2026-01-01", -3), ("2026-01-02", 10), ("2026-01-03", -4)]
    rules.check_stock(moves, since="2026-01-03")


@pytest.mark.parametrize("birth", ["2011-11-28", "1976-11-29"])
def test_age_band_edges_inside(birth):
    """Information cards are for women aged 15-49 (篇3 第27条)."""
    rules.check_age_band(birth, TODAY, 15, 49)


@pytest.mark.parametrize("birth", ["2011-11-29", "1976-11-28"])
def test_age_band_edges_outside(birth):
    p = refused(rules.check_age_band, birth, TODAY, 15, 49, field="card_type")
    assert ("card_type", "rule.age_band") == (p.field, p.code)
    assert "15" in p.en and "49" in p.en


def test_dates_may_be_dates_or_iso_strings():
    assert rules.as_date("2026-11-28") == rules.as_date(TODAY)
    with pytest.raises(ValueError):
        rules.as_date("28/11/2026")


@pytest.mark.parametrize("status", ["married", "divorced", "widowed", "remarried"])
def test_contraceptive_status_checks_only_for_women_ever_married(status):
    rules.check_no_contraceptive_check_unmarried(status, "check_type")


def test_no_contraceptive_status_check_of_any_kind_for_an_unmarried_woman():
    """篇7 四(一): no organised contraceptive-status check of any kind for an unmarried woman."""
    p = refused(rules.check_no_contraceptive_check_unmarried, "unmarried", "check_type")
    assert ("check_type", "rule.contraceptive_check_unmarried") == (p.field, p.code)
    with pytest.raises(ValueError):
        rules.check_no_contraceptive_check_unmarried("single", "check_type")
