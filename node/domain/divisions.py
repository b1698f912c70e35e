# SPDX-License-Identifier: Apache-2.0
"""Administrative division codes: the official list shipped with the node, and checks.

The list (``node/data/divisions.csv``, see ``DIVISIONS.md`` there) is the National Bureau
of Statistics' statistical codes, 2023 edition. Counties change rarely and must be in it.
Townships are merged and created every year, so a township not in the 2023 list is still
accepted when the county's registry of its nodes lists it. Villages are not shipped at all:
they are checked by structure, and against the registry when the caller has one.

Every ``check_*`` returns None or raises :class:`node.errors.ValidationError` with one
bilingual :class:`~node.errors.FieldProblem` for ``field``.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources

from node.domain.messages import problem
from node.errors import ValidationError

EDITION = "2023"
LEVELS = ("province", "prefecture", "county", "township")


@dataclass(frozen=True, slots=True)
class Division:
    """One row of the official list."""

    code: str
    name: str
    level: str
    parent: str | None


@functools.cache
def _table() -> Mapping[str, Division]:
    """Read the shipped list once; about 45k rows, read on first use, not at import."""
    text = resources.files("node").joinpath("data", "divisions.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return {
        r["code"]: Division(r["code"], r["name"], r["level"], r["parent"] or None) for r in rows
    }


def division(code: str) -> Division | None:
    """The official row for a 2-, 4-, 6- or 9-digit code, or None if it is not listed."""
    return _table().get(code)


def division_name(code: str) -> str | None:
    """The official name of a listed code (``440104`` -> ``越秀区``), else None.

    Villages (12 digits) are not shipped, so their names live in the county's registry.
    """
    row = division(code)
    return row.name if row is not None else None


def division_path(code: str) -> list[Division]:
    """The listed divisions above and including ``code``, province first.

    Notifications to another county must carry the hukou address down to the village;
    this gives the official part of it (province, prefecture, county, township).
    """
    prefixes = [code[:n] for n in (2, 4, 6, 9) if n <= len(code)]
    return [row for p in prefixes if (row := division(p)) is not None]


@functools.cache
def province_codes() -> frozenset[str]:
    """The 31 province-level codes of the shipped list."""
    return frozenset(r.code for r in _table().values() if r.level == "province")


def _fail(field: str, code: str, **params: object) -> ValidationError:
    return ValidationError([problem(field, code, **params)])


def _check_digits(code: object, length: int, field: str) -> str:
    """Structure first: a malformed code gets the one message that helps fix it."""
    if not isinstance(code, str) or not code.isascii():
        raise _fail(field, "division.not_digits")
    if len(code) != length:
        raise _fail(field, "division.length", lengths=length)
    if not code.isdigit():
        raise _fail(field, "division.not_digits")
    return code


def _check_segments(code: str, field: str) -> None:
    # A zero segment means "the level above" (440104000 is the county, not a township).
    if len(code) >= 9 and code[6:9] == "000":
        raise _fail(field, "division.zero_segment", level="乡镇/township")
    if len(code) == 12 and code[9:12] == "000":
        raise _fail(field, "division.zero_segment", level="村/village")


def _is_county(code: str) -> bool:
    row = division(code)
    return row is not None and row.level == "county"


def _is_township(code: str, registry: Collection[str] | None) -> bool:
    row = division(code)
    if row is not None and row.level == "township":
        return True
    return registry is not None and code in registry


def check_county_code(code: str, *, field: str = "county_code") -> None:
    """Accept a 6-digit county-level code of the official list.

    Raises:
        ValidationError: malformed, or not a county-level unit of the 2023 edition.
    """
    _check_digits(code, 6, field)
    if not _is_county(code):
        raise _fail(field, "division.unknown_county", edition=EDITION)


def check_township_code(
    code: str, registry: Collection[str] | None = None, *, field: str = "township_code"
) -> None:
    """Accept a 9-digit township code of the official list or of the county's registry.

    The registry is the set of node codes the county has enrolled; it is how townships
    created after the shipped edition become valid without a software update.

    Raises:
        ValidationError: malformed, its county part is not a listed county, or the
            township is neither listed nor registered.
    """
    _check_digits(code, 9, field)
    _check_segments(code, field)
    if not _is_county(code[:6]):
        raise _fail(field, "division.county_prefix", edition=EDITION)
    if not _is_township(code, registry):
        raise _fail(field, "division.unknown_township", edition=EDITION)


def check_village_code(
    code: str, registry: Collection[str] | None = None, *, field: str = "village_code"
) -> None:
    """Accept a 12-digit village (村/居委会) code.

    Without a registry only the structure and the county part are checked: villages are
    not in the shipped list, and a code from another county (a flowed-in person's hukou)
    cannot be in this county's registry. With a registry the village must be enrolled and
    its township (its first nine digits) must be listed or enrolled.

    Raises:
        ValidationError: malformed, unknown county part, or not in the given registry.
    """
    _check_digits(code, 12, field)
    _check_segments(code, field)
    if not _is_county(code[:6]):
        raise _fail(field, "division.county_prefix", edition=EDITION)
    if registry is None:
        return
    if code not in registry:
        raise _fail(field, "division.not_in_registry")
    if not _is_township(code[:9], registry):
        raise _fail(field, "division.township_prefix")


def check_node_code(
    code: str, registry: Collection[str] | None = None, *, field: str = "code"
) -> None:
    """Accept the code of a node: a county (6 digits), township (9) or village (12).

    Node identities are division codes (domain.md section 1); this picks the check for
    the level the code's length names.

    Raises:
        ValidationError: the code is of no node level, or fails that level's check.
    """
    if isinstance(code, str) and len(code) == 6:
        check_county_code(code, field=field)
    elif isinstance(code, str) and len(code) == 9:
        check_township_code(code, registry, field=field)
    elif isinstance(code, str) and len(code) == 12:
        check_village_code(code, registry, field=field)
    else:
        raise _fail(field, "division.length", lengths="6/9/12")


def check_place_code(code: str, *, field: str, lengths: tuple[int, ...] = (6, 9, 12)) -> None:
    """Accept a code naming a place anywhere in China, at one of ``lengths`` levels.

    Used for places outside this county (where a person moved, where she lives now).
    Counties must be listed; townships and villages are checked by structure and county
    part only, because no registry covers other counties and townships change yearly.

    Raises:
        ValidationError: wrong length, malformed, or an unknown county.
    """
    if not isinstance(code, str) or len(code) not in lengths:
        raise _fail(field, "division.length", lengths="/".join(str(n) for n in lengths))
    if len(code) == 6:
        check_county_code(code, field=field)
        return
    _check_digits(code, len(code), field)
    _check_segments(code, field)
    if not _is_county(code[:6]):
        raise _fail(field, "division.county_prefix", edition=EDITION)
