# SPDX-License-Identifier: Apache-2.0
"""Planning a village's whole history from a seed, without touching a store.

The month loop runs vital events before services, so that a service is never planned
for someone who died earlier that month; pregnancies already under way on the first day
are started from last menstrual dates in the nine months before it, so births arrive
from the first month on instead of after a nine-month gap.
"""

from __future__ import annotations

from datetime import date

from node.synth import rates
from node.synth.dates import add_months, between, days
from node.synth.households import (
    floating_in,
    floating_out,
    hukou_moves_in,
    hukou_moves_out,
    marriages,
)
from node.synth.office import benefit_checks, benefits, certificates, complaints, supplies
from node.synth.plan import Village, VillagePlan
from node.synth.population import populate
from node.synth.services import follow_ups, health_checks, procedures
from node.synth.vital import conceive, deaths


def plan_village(
    *, village_code: str, village_name: str, residents: int, months: int, seed: int, start: date
) -> VillagePlan:
    """Plan ``residents`` people and ``months`` months of their records.

    Args:
        village_code: the 12-digit code of the village node (its county must be listed).
        village_name: used in addresses (``上南村``); may be empty.
        residents: people living in or registered to the village on ``start``.
        months: length of the span of events after ``start``.
        seed: the same seed and arguments always give the same plan.
        start: the day the village's records begin; first-day cards are entered on it.

    Raises:
        ValueError: a non-village code, fewer than 10 residents or a negative span.
    """
    if residents < 10 or months < 0:
        raise ValueError("a village needs at least 10 residents and a span of 0+ months")
    v = Village(
        village_code=village_code, village_name=village_name, seed=seed, start=start, months=months
    )
    low, high = rates.FLOATING_BAND
    target = round(v.rng.uniform(low, high), 3)
    populate(v, residents, target, out_share=v.rng.uniform(0.3, 0.7))
    initial = list(v.people)
    monthly_births = residents * rates.BIRTHS_PER_1000 / 1000 / 12
    for _ in range(v.poisson(monthly_births * 280 / 30.4)):
        conceive(v, between(v.rng, start - days(279), start - days(1)))
    for month in range(months):
        lo, hi = add_months(start, month), add_months(start, month + 1)
        deaths(v, lo, hi)
        marriages(v, lo, hi)
        for _ in range(v.poisson(monthly_births)):
            conceive(v, between(v.rng, lo, hi - days(1)))
        floating_out(v, lo, hi)
        floating_in(v, lo, hi)
        hukou_moves_out(v, lo, hi)
        hukou_moves_in(v, lo, hi)
        supplies(v, month, lo, hi)
        health_checks(v, month, lo, hi)
        follow_ups(v, month, lo, hi)
        procedures(v, lo, hi)
        benefits(v, lo, hi)
        benefit_checks(v, lo, hi)
        complaints(v, lo, hi)
        certificates(v, lo, hi)
    return VillagePlan(
        village_code=village_code,
        seed=seed,
        start=start,
        end=v.end,
        floating_target=target,
        records=v.records,
        people=v.people,
        initial=initial,
    )
