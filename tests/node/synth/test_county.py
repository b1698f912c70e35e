# SPDX-License-Identifier: Apache-2.0
"""The demo county layout: listed townships, villages numbered from 001, unique names."""

from __future__ import annotations

import pytest

from node.domain.divisions import check_village_code
from node.errors import ValidationError
from node.synth import generate_county_plan


def test_layout() -> None:
    plan = generate_county_plan("441322", 3, 4, seed=7)
    assert (plan.code, plan.name) == ("441322", "博罗县")
    assert [t.code for t in plan.townships] == ["441322001", "441322002", "441322100"]
    villages = plan.villages()
    assert [v.code for v in plan.townships[0].villages] == [
        f"441322001{n:03d}" for n in range(1, 5)
    ]
    assert len({v.name for v in villages}) == len(villages) == 12
    assert all(v.name.endswith(("村", "社区")) for v in villages)
    for v in villages:
        check_village_code(v.code)


def test_same_seed_same_names() -> None:
    assert generate_county_plan("441322", 2, 3, 1) == generate_county_plan("441322", 2, 3, 1)
    assert generate_county_plan("441322", 2, 3, 1) != generate_county_plan("441322", 2, 3, 2)


def test_named_townships() -> None:
    plan = generate_county_plan("441322", ["441322119", "441322121"], 2, seed=1)
    assert [t.name for t in plan.townships] == ["园洲镇", "石湾镇"]
    assert plan.townships[1].villages[1].code == "441322121002"


@pytest.mark.parametrize(
    ("county", "townships", "villages", "error"),
    [
        ("999999", 1, 1, ValidationError),
        ("441322", ["440104001"], 1, ValueError),
        ("441322", 500, 1, ValueError),
        ("441322", 1, 0, ValueError),
    ],
)
def test_bad_arguments(county: str, townships: object, villages: int, error: type) -> None:
    with pytest.raises(error):
        generate_county_plan(county, townships, villages, seed=1)  # type: ignore[arg-type]
