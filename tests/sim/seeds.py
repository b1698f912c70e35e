# SPDX-License-Identifier: Apache-2.0
"""Which simulation seeds run where, and the seeds that show a known bug.

``CI_SEEDS`` run on every ``pytest``; ``SLOW_SEEDS`` under ``-m slow``. A seed in
``BUG_SEEDS`` (seed -> bug letter, see ``invariants.KNOWN_BUGS``) runs as
``xfail(strict=True)`` wherever it appears: once the bug is fixed it passes, the strict
xfail turns red, and the seed moves to ``REGRESSION_SEEDS`` (tests/sim/test_regressions.py
runs both lists).
"""

from __future__ import annotations

CI_SEEDS = range(50)
SLOW_SEEDS = range(50, 10_050)

BUG_SEEDS: dict[int, str] = {
    # A: township restored from a backup -> 409 bad_chain for ever
    4: "A",
    12: "A",
    61: "A",
    # B: county's ack of a forwarded batch never passed down to the village
    38: "B",
    106: "B",
    138: "B",
    # E: township restored from a backup -> outbox numbered below the village's cursor
    233: "E",
    510: "E",
    # G (minor): township restored, lost a revoked village's log -> never idle
    366: "G",
}

REGRESSION_SEEDS: list[int] = []
