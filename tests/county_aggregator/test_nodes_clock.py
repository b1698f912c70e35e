# SPDX-License-Identifier: Apache-2.0
"""``renkou county nodes`` after the county's clock was put back (found by the
simulation's A2 invariant, issue 12): a node heard from an hour "ahead" of the county's
corrected clock was listed as never heard from, with an alert."""

from __future__ import annotations

from pathlib import Path

from county_aggregator.nodes import DAY_MS, node_rows
from node.store.holdings import Holdings
from protocol import LogId
from tests.county_aggregator.scenario import T0, county_db

V, QUIET = "440104001002", "440104001003"
HOUR_MS = 3_600_000


def test_a_contact_stamped_ahead_of_the_clock_is_recent_not_never(tmp_path: Path) -> None:
    county = county_db(tmp_path, [])
    try:
        Holdings(county.db).set_head(LogId.parse(f"village:{V}#1"), 3, bytes(32), T0)
        issued = [V, QUIET]
        ahead, never = node_rows(county, T0 - HOUR_MS, admin_issued=issued)
        assert (ahead.node, ahead.silent_days, ahead.alert) == (f"village:{V}", 0, False)
        assert (never.node, never.silent_days, never.alert) == (f"village:{QUIET}", -1, True)
        later, _ = node_rows(county, T0 + 36 * DAY_MS, admin_issued=issued)
        assert (later.silent_days, later.alert) == (36, True)
    finally:
        county.close()
