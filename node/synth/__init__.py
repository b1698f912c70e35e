# SPDX-License-Identifier: Apache-2.0
"""Synthetic villages for tests, the demo and benchmarks.

``generate_village`` plans a village's residents and a span of events from a seed (pure,
in :mod:`node.synth.generate`) and writes them through ``node.recording.add_record``, the
path every officer's input takes, so generated data passes exactly the checks real data
must pass. Figures follow domain.md section 6 (:mod:`node.synth.rates`).
"""

from __future__ import annotations

from node.synth.county import CountyPlan, TownshipEntry, VillageEntry, generate_county_plan
from node.synth.generate import plan_village
from node.synth.plan import VillagePlan
from node.synth.writer import GenerationSummary, generate_village, summarise, write_plan

__all__ = [
    "CountyPlan",
    "GenerationSummary",
    "TownshipEntry",
    "VillageEntry",
    "VillagePlan",
    "generate_county_plan",
    "generate_village",
    "plan_village",
    "summarise",
    "write_plan",
]
