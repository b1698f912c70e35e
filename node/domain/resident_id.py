# SPDX-License-Identifier: Apache-2.0
"""18-digit resident ID numbers (公民身份号码, GB 11643-1999).

Layout: six digits of region (the place of *first registration*, not of residence), eight
of birth date (YYYYMMDD), three of sequence (the last of them odd for men, even for
women), and an ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X`` for ten).

The check character catches every single mistyped digit and most swapped pairs, which is
why an officer is told "a digit was probably mistyped" rather than "unknown person".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from node.domain.divisions import division, province_codes
from node.domain.messages import problem
from node.errors import FieldProblem, ValidationError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Index: the weighted sum mod 11; value: the check character that makes the total 1 mod 11.
CHECK_DIGITS = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)
# GB/T 2260 codes outside the 31 shipped provinces that still start valid numbers:
# 71 Taiwan, 81 Hong Kong, 82 Macao (GB/T 2260), and 83, which residence permits of
# Taiwan residents use (港澳台居民居住证 numbers start 810000, 820000, 830000).
EXTRA_PROVINCES = frozenset({"71", "81", "82", "83"})
SEXES = ("F", "M")


@dataclass(frozen=True, slots=True)
class ResidentId:
    """The parts of a valid number; ``sex`` is ``"F"`` or ``"M"`` as in person records."""

    number: str
    region: str
    birth_date: date
    sequence: str
    sex: str


def check_digit(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits.

    Raises:
        ValueError: ``first17`` is not 17 ASCII digits (a programming mistake).
    """
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("the check character is computed over exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_DIGITS[total % 11]


def normalise_resident_id(value: str) -> str:
    """Strip blanks and upper-case a trailing ``x``: officers type both, one is stored."""
    return value.strip().upper()


def is_known_region(region6: str) -> bool:
    """Accept a listed county code or any six digits in a valid province.

    The first six digits record where the number was first issued, decades ago for most
    people; counties have since been merged, renamed and renumbered, and their retired
    codes are in no current list. A number is therefore not rejected for an old region
    code: it only needs a valid province (two digits), which no reorganisation retired.
    """
    row = division(region6)
    if row is not None and row.level == "county":
        return True
    return region6[:2] in province_codes() or region6[:2] in EXTRA_PROVINCES


def _birth_problems(
    digits8: str, today: date, field: str
) -> tuple[date | None, list[FieldProblem]]:
    try:
        born = date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None, [problem(field, "id_number.birth_date")]
    if born < EARLIEST_BIRTH:
        return None, [problem(field, "id_number.birth_too_early")]
    if born > today:
        return None, [problem(field, "id_number.birth_future")]
    return born, []


def parse_resident_id(value: str, *, today: date, field: str = "id_number") -> ResidentId:
    """Validate a number and split it into its parts.

    Args:
        value: the number as typed; blanks around it and a lower-case ``x`` are accepted.
        today: the date a birth date may not be later than (passed in, never read from
            the clock, so validation is reproducible).
        field: the record field the problems are reported for.

    Returns:
        The parts of the normalised number.

    Raises:
        ValidationError: with every problem found (check character, region, birth date).
    """
    if not isinstance(value, str):
        raise ValidationError([problem(field, "id_number.characters")])
    number = normalise_resident_id(value)
    if len(number) != 18:
        raise ValidationError([problem(field, "id_number.length")])
    body, last = number[:17], number[17]
    if not (body.isascii() and body.isdigit() and (last.isdigit() or last == "X")):
        raise ValidationError([problem(field, "id_number.characters")])
    problems: list[FieldProblem] = []
    if check_digit(body) != last:
        problems.append(problem(field, "id_number.check_digit"))
    if not is_known_region(body[:6]):
        problems.append(problem(field, "id_number.region"))
    born, birth_problems = _birth_problems(body[6:14], today, field)
    problems.extend(birth_problems)
    if problems or born is None:
        raise ValidationError(problems)
    sex = "M" if int(body[16]) % 2 == 1 else "F"
    return ResidentId(number, body[:6], born, body[14:17], sex)


def check_resident_id(value: str, *, today: date, field: str = "id_number") -> None:
    """Return None for a valid number or raise ValidationError listing every problem."""
    parse_resident_id(value, today=today, field=field)


def make_resident_id(region6: str, birth: date, serial3: int, sex: str) -> str:
    """Build a valid number, for the synthetic-data generator and for tests.

    Args:
        region6: six digits of region (a county code such as ``440104``).
        birth: the birth date.
        serial3: the sequence code 0-999; its last digit must be odd for ``"M"`` and even
            for ``"F"`` (the standard puts the sex there), e.g. ``2 * k + (sex == "M")``.
        sex: ``"F"`` or ``"M"``.

    Raises:
        ValueError: any argument out of its range, or ``serial3`` of the wrong parity.
            The function does not silently adjust the serial, because two serials would
            then map to one number and a generator would produce duplicates.
    """
    if len(region6) != 6 or not region6.isascii() or not region6.isdigit():
        raise ValueError("region6 must be six ASCII digits")
    if birth < EARLIEST_BIRTH:
        raise ValueError("birth must not be before 1900")
    if sex not in SEXES:
        raise ValueError("sex must be 'F' or 'M'")
    if isinstance(serial3, bool) or not 0 <= serial3 <= 999:
        raise ValueError("serial3 must be an integer from 0 to 999")
    if serial3 % 2 != (1 if sex == "M" else 0):
        raise ValueError("serial3 must be odd for sex 'M' and even for sex 'F'")
    body = f"{region6}{birth:%Y%m%d}{serial3:03d}"
    return body + check_digit(body)
