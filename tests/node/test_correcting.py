# SPDX-License-Identifier: Apache-2.0
"""A correction is refused only for what it breaks (node/correcting.py): a rule about
other fields that the record already fails as stored does not block it."""

from __future__ import annotations

from datetime import date

import pytest

from node.editing import correct_record
from node.errors import RuleViolation, ValidationError
from node.recording import add_record, update_record
from node.store.store import NodeStore
from tests.node.domain.examples import example, woman_card

ENTERED = date(2024, 1, 10)
TODAY = date(2026, 11, 28)
BORN = date(1976, 3, 1)  # 47 when her card was entered, 50 today


def over_49(store: NodeStore) -> str:
    """A woman's card entered at 47; she is past the 15-49 band today (篇3 第27条)."""
    card = woman_card(birth=BORN, spouse_ref=None)
    return add_record(store, "person", card, today=ENTERED)


def test_phone_of_a_woman_over_49_is_corrected(store: NodeStore) -> None:
    """The age band is about card_type and birth_date: a new phone number is not refused
    because she has turned 50 since her card was entered (the whole form is sent)."""
    card = over_49(store)
    form = {k: v for k, v in store.record("person", card).items() if not k.startswith("_")}
    entry = correct_record(store, "person", card, {**form, "phone": "13912345678"}, today=TODAY)
    assert entry is not None
    update_record(store, "person", card, {"phone": "13987654321"}, today=TODAY)
    assert store.record("person", card)["phone"] == "13987654321"


def test_a_correction_that_breaks_the_age_band_is_still_refused(store: NodeStore) -> None:
    """What the change itself breaks still refuses it: a family card of a woman of 50
    made a woman's card, or a woman of 30 whose card is corrected into a woman of 50."""
    card = add_record(store, "person", woman_card(birth=BORN, card_type="family",
                                                  spouse_ref=None), today=TODAY)  # fmt: skip
    with pytest.raises(RuleViolation) as caught:
        correct_record(store, "person", card, {"card_type": "woman"}, today=TODAY)
    assert [(p.field, p.code) for p in caught.value.problems] == [("card_type", "rule.age_band")]
    with pytest.raises(RuleViolation):
        update_record(store, "person", card, {"card_type": "woman"}, today=TODAY)
    assert store.record("person", card)["card_type"] == "family"


def test_a_new_problem_on_another_field_is_still_refused(store: NodeStore) -> None:
    """A problem the stored record did not have blocks the change, whatever field it
    names: a new phone number with letters is refused for a woman over 49 too, and so is
    a change that breaks a rule about another field."""
    card = over_49(store)
    with pytest.raises(ValidationError) as caught:
        update_record(store, "person", card, {"phone": "1391234567x"}, today=TODAY)
    assert [p.field for p in caught.value.problems] == ["phone"]
    # "Unmarried" while a first-marriage date stays: the problem names the date, which
    # the change did not touch, but the change caused it.
    with pytest.raises(ValidationError) as caught:
        correct_record(store, "person", card, {"marital_status": "unmarried"}, today=TODAY)
    assert [p.field for p in caught.value.problems] == ["first_marriage_date"]


def test_a_check_recorded_before_her_divorce_is_corrected(store: NodeStore) -> None:
    """A village check judged by today's marital status (no contraceptive-status check of
    an unmarried woman, 篇7 四(一)) does not block correcting the place of a check done
    while she was married; changing it into a check of that kind now is refused."""
    card = add_record(store, "person", woman_card(spouse_ref=None), today=ENTERED)
    done = add_record(store, "health_check", example("health_check", person_ref=card,
                      check_type="pregnancy_check", scheduled_date="2024-02-01",
                      done_date="2024-02-01"), today=date(2024, 6, 1))  # fmt: skip
    other = add_record(store, "health_check", example("health_check", person_ref=card,
                       scheduled_date="2024-03-01"), today=date(2024, 6, 1))  # fmt: skip
    update_record(store, "person", card, {"marital_status": "unmarried",
                                          "first_marriage_date": None}, today=TODAY)  # fmt: skip
    correct_record(store, "health_check", done, {"place": "镇卫生院"}, today=TODAY)
    assert store.record("health_check", done)["place"] == "镇卫生院"
    with pytest.raises(RuleViolation):
        correct_record(store, "health_check", other, {"check_type": "pregnancy_check"}, today=TODAY)
