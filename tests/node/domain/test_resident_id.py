# SPDX-License-Identifier: Apache-2.0
"""GB 11643-1999 resident ID numbers: check character, parts, region, generation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.domain.divisions import division
from node.domain.resident_id import (
    check_digit,
    check_resident_id,
    is_known_region,
    make_resident_id,
    parse_resident_id,
)
from node.errors import ValidationError

from .examples import TODAY

SETTINGS = settings(database=None, deadline=None)


def codes_of(value: str) -> list[str]:
    with pytest.raises(ValidationError) as info:
        check_resident_id(value, today=TODAY)
    for p in info.value.problems:
        assert p.field == "id_number"
        assert p.zh and p.en
    return [p.code for p in info.value.problems]


def with_check(body17: str) -> str:
    return body17 + check_digit(body17)


def test_standard_example():
    """GB 11643-1999's own example, 11010519491231002X, has check character X."""
    parsed = parse_resident_id("11010519491231002X", today=TODAY)
    assert "110105" == parsed.region
    assert date(1949, 12, 31) == parsed.birth_date
    assert "002" == parsed.sequence
    assert "F" == parsed.sex


def test_lower_case_x_and_blanks_are_normalised():
    assert "11010519491231002X" == parse_resident_id(" 11010519491231002x ", today=TODAY).number


def test_odd_seventeenth_digit_is_male():
    number = make_resident_id("440104", date(1988, 3, 2), 31, "M")
    assert "M" == parse_resident_id(number, today=TODAY).sex


GOOD = make_resident_id("440104", date(1990, 5, 17), 12, "F")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (GOOD[:17], "id_number.length"),
        (GOOD + "1", "id_number.length"),
        ("", "id_number.length"),
        (GOOD[:16] + "AB", "id_number.characters"),
        ("X" + GOOD[1:], "id_number.characters"),
        ("４４０１０４１９９００５１７０１２６", "id_number.characters"),  # full-width digits
        (GOOD[:17] + ("1" if GOOD[17] != "1" else "2"), "id_number.check_digit"),
        (with_check("99010419900517012"), "id_number.region"),
        (with_check("00000019900517012"), "id_number.region"),
        (with_check("44010419900230012"), "id_number.birth_date"),
        (with_check("44010418991231012"), "id_number.birth_too_early"),
        (with_check("44010420261129012"), "id_number.birth_future"),
        (12345, "id_number.characters"),
    ],
)
def test_invalid_numbers(value, code):
    assert code in codes_of(value)


def test_every_problem_is_listed():
    value = "990104199002300122"  # unknown province, 30 February, wrong check character
    assert check_digit(value[:17]) != value[17]
    assert {"id_number.check_digit", "id_number.region", "id_number.birth_date"} == set(
        codes_of(value)
    )


def test_field_name_is_the_callers():
    with pytest.raises(ValidationError) as info:
        check_resident_id("1", today=TODAY, field="husband_id_number")
    assert "husband_id_number" == info.value.problems[0].field


def test_birth_on_today_is_accepted():
    check_resident_id(make_resident_id("440104", TODAY, 2, "F"), today=TODAY)


@pytest.mark.parametrize("region", ["512201", "510201", "440100", "810000", "820000", "830000"])
def test_retired_and_special_regions_are_accepted(region):
    """The first six digits are the place of first registration; old codes were retired."""
    assert division(region) is None or division(region).level != "county"
    check_resident_id(make_resident_id(region, date(1970, 1, 1), 2, "F"), today=TODAY)


@pytest.mark.parametrize("region", ["990101", "000000", "191919", "900000"])
def test_regions_outside_any_province_are_refused(region):
    assert not is_known_region(region)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("44010", date(1990, 1, 1), 2, "F"), "region6"),
        (("44010a", date(1990, 1, 1), 2, "F"), "region6"),
        (("440104", date(1899, 12, 31), 2, "F"), "1900"),
        (("440104", date(1990, 1, 1), 1000, "F"), "serial3"),
        (("440104", date(1990, 1, 1), -2, "F"), "serial3"),
        (("440104", date(1990, 1, 1), 3, "F"), "odd"),
        (("440104", date(1990, 1, 1), 4, "M"), "odd"),
        (("440104", date(1990, 1, 1), 4, "X"), "sex"),
    ],
)
def test_make_resident_id_refuses_bad_arguments(args, fragment):
    with pytest.raises(ValueError, match=fragment):
        make_resident_id(*args)


def test_check_digit_needs_17_digits():
    with pytest.raises(ValueError):
        check_digit("1234")


regions = st.one_of(
    st.sampled_from(["440104", "440106", "110105", "650102", "441900", "512201", "830000"]),
    st.builds(
        lambda p, rest: f"{p}{rest:04d}",
        st.sampled_from(["11", "31", "44", "51", "65"]),
        st.integers(0, 9999),
    ),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@SETTINGS
@given(regions, births, st.integers(0, 499), st.sampled_from(["F", "M"]))
def test_make_then_parse_round_trip(region, birth, k, sex):
    serial = 2 * k + (sex == "M")
    number = make_resident_id(region, birth, serial, sex)
    parsed = parse_resident_id(number, today=TODAY)
    assert (number, region, birth, f"{serial:03d}", sex) == (
        parsed.number,
        parsed.region,
        parsed.birth_date,
        parsed.sequence,
        parsed.sex,
    )


@SETTINGS
@given(regions, births, st.integers(0, 999), st.integers(0, 16), st.integers(1, 9))
def test_any_single_mistyped_digit_is_caught(region, birth, serial, position, delta):
    """MOD 11-2 detects every single-digit substitution (ISO 7064)."""
    sex = "M" if serial % 2 else "F"
    number = make_resident_id(region, birth, serial, sex)
    wrong = str((int(number[position]) + delta) % 10)
    typo = number[:position] + wrong + number[position + 1 :]
    assert check_digit(typo[:17]) != typo[17]


def test_future_birth_relative_to_the_given_today():
    number = make_resident_id("440104", TODAY + timedelta(days=1), 2, "F")
    assert ["id_number.birth_future"] == codes_of(number)
    check_resident_id(number, today=TODAY + timedelta(days=1))
