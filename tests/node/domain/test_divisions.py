# SPDX-License-Identifier: Apache-2.0
"""Division codes: the shipped 2023 list, county/township/village checks, registries."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from node.domain import divisions
from node.domain.divisions import (
    check_county_code,
    check_node_code,
    check_place_code,
    check_township_code,
    check_village_code,
    division_name,
    division_path,
)
from node.errors import ValidationError

DATA = resources.files("node").joinpath("data")


def problem_of(check, *args, **kwargs):
    with pytest.raises(ValidationError) as info:
        check(*args, **kwargs)
    [problem] = info.value.problems
    assert problem.zh and problem.en
    return problem


def test_shipped_file_is_compact_and_complete():
    raw = DATA.joinpath("divisions.csv").read_bytes()
    assert len(raw) < 2_000_000
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    levels = [r["level"] for r in rows]
    assert (31, 2978) == (levels.count("province"), levels.count("county"))
    assert levels.count("township") > 41_000
    for r in rows:
        assert (
            r["parent"]
            == {2: "", 4: r["code"][:2], 6: r["code"][:4], 9: r["code"][:6]}[len(r["code"])]
        )


def test_source_note_names_source_edition_and_licence():
    note = DATA.joinpath("DIVISIONS.md").read_text("utf-8")
    for needle in (
        "统计用区划代码",
        "2023",
        "2023-06-30",
        "modood/Administrative-divisions-of-China",
        "WTFPL",
    ):
        assert needle in note


def test_list_is_loaded_once():
    assert divisions._table() is divisions._table()


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("44", "广东省"),
        ("4401", "广州市"),
        ("440104", "越秀区"),
        ("440104001", "洪桥街道"),
        ("441900", "东莞市"),
        ("440104001002", None),
        ("449999", None),
        ("", None),
    ],
)
def test_division_name(code, name):
    assert name == division_name(code)


def test_division_path_names_the_levels_above_a_village():
    assert ["广东省", "广州市", "越秀区", "洪桥街道"] == [
        d.name for d in division_path("440104001002")
    ]


@pytest.mark.parametrize("code", ["440104", "110101", "441900", "650102"])
def test_county_codes_of_the_list(code):
    check_county_code(code)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("44010", "division.length"),
        ("4401040", "division.length"),
        ("44010a", "division.not_digits"),
        ("４４０１０４", "division.not_digits"),
        (440104, "division.not_digits"),
        ("449999", "division.unknown_county"),
        ("440000", "division.unknown_county"),
        ("4401", "division.length"),
    ],
)
def test_bad_county_codes(code, expected):
    p = problem_of(check_county_code, code, field="county")
    assert ("county", expected) == (p.field, p.code)


def test_listed_township():
    check_township_code("440104001")


@pytest.mark.parametrize(
    ("code", "registry", "expected"),
    [
        ("440104999", None, "division.unknown_township"),
        ("440104999", {"440104998"}, "division.unknown_township"),
        ("449999001", {"449999001"}, "division.county_prefix"),
        ("440104000", None, "division.zero_segment"),
        ("44010400", None, "division.length"),
        ("440104001002", None, "division.length"),
    ],
)
def test_bad_township_codes(code, registry, expected):
    assert expected == problem_of(check_township_code, code, registry).code


def test_township_newer_than_the_list_is_valid_when_registered():
    """New townships appear after 2023: the county's registry of its nodes admits them."""
    check_township_code("440104999", {"440104999", "440104999001"})


def test_village_without_registry_is_checked_by_structure_and_county():
    check_village_code("440104001002")
    check_village_code("650102123456")


@pytest.mark.parametrize(
    ("code", "registry", "expected"),
    [
        ("44010400100", None, "division.length"),
        ("440104001000", None, "division.zero_segment"),
        ("440104000001", None, "division.zero_segment"),
        ("449999001001", None, "division.county_prefix"),
        ("44010400100x", None, "division.not_digits"),
        ("440104001002", {"440104001003"}, "division.not_in_registry"),
        ("440104999001", {"440104999001"}, "division.township_prefix"),
    ],
)
def test_bad_village_codes(code, registry, expected):
    assert expected == problem_of(check_village_code, code, registry).code


def test_village_in_registry_under_a_listed_or_registered_township():
    check_village_code("440104001002", {"440104001002"})
    check_village_code("440104999001", ["440104999", "440104999001"])


@pytest.mark.parametrize("code", ["440104", "440104999", "440104999001", "510107"])
def test_place_codes_anywhere(code):
    """Places in other counties: county listed, lower levels by structure only."""
    check_place_code(code, field="to_code")


@pytest.mark.parametrize(
    ("code", "lengths", "expected"),
    [
        ("4401", (6, 9, 12), "division.length"),
        (None, (6, 9, 12), "division.length"),
        ("440104", (12,), "division.length"),
        ("449999001", (6, 9, 12), "division.county_prefix"),
        ("440104000", (6, 9, 12), "division.zero_segment"),
        ("449999", (6, 9, 12), "division.unknown_county"),
    ],
)
def test_bad_place_codes(code, lengths, expected):
    p = problem_of(check_place_code, code, field="to_code", lengths=lengths)
    assert ("to_code", expected) == (p.field, p.code)


@pytest.mark.parametrize("code", ["441322", "441322119", "441322119001"])
def test_node_codes_of_each_level(code):
    check_node_code(code)


@pytest.mark.parametrize(
    ("code", "registry", "expected"),
    [
        ("4413221", None, "division.length"),
        (None, None, "division.length"),
        ("449999", None, "division.unknown_county"),
        ("441322999", None, "division.unknown_township"),
        ("441322119001", {"441322119002"}, "division.not_in_registry"),
    ],
)
def test_bad_node_codes(code, registry, expected):
    p = problem_of(check_node_code, code, registry, field="code")
    assert ("code", expected) == (p.field, p.code)
