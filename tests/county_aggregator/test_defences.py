# SPDX-License-Identifier: Apache-2.0
"""Merge defences that a mutant removed with every other test green (tests/mutants)."""

from __future__ import annotations

from tests.county_aggregator.conftest import merge, record
from tests.county_aggregator.scenario import Villages
from tests.county_aggregator.test_rules import KEY, H, R, two_cards


def test_a_person_stays_live_while_one_of_her_cards_is(villages: Villages) -> None:
    """resolve.py: the merged record is retired only when every card of it is; her
    hukou village retiring its card (she moved away) leaves the residence card live."""
    two_cards(villages)
    villages.retire(H, "person", "P1", "moved")
    assert record(merge(villages), "person", KEY)["retired"] is None
    villages.retire(R, "person", "P7", "aged_out")
    assert "aged_out" == record(merge(villages), "person", KEY)["retired"]
