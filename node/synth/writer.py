# SPDX-License-Identifier: Apache-2.0
"""Writing a planned village through the one recording path, fast and in date order.

Records go through ``node.recording.add_record`` like an officer's input, each entered on
its own date, so generated data is exactly as valid as hand-made data and exercises every
check on the way in. ``store.bulk()`` groups about 500 writes per transaction: one sync
per chunk instead of one per record, which is what makes an import of a whole village
take seconds rather than minutes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from node.recording import add_record
from node.store.store import NodeStore
from node.synth.generate import plan_village
from node.synth.plan import Key, Planned, VillagePlan

CHUNK = 500


@dataclass(frozen=True)
class GenerationSummary:
    """What a generated village holds: first-day figures and records written per kind."""

    village_code: str
    seed: int
    start: date
    end: date
    residents: int
    women_15_49: int
    married_women_15_49: int
    floating: int
    flowed_out: int
    flowed_in: int
    floating_target: float
    records: dict[str, int] = field(default_factory=dict)

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


def summarise(plan: VillagePlan) -> GenerationSummary:
    """First-day figures of ``plan`` (from the generator's state, not the store)."""
    people = plan.initial
    women = [p for p in people if p.card == "woman"]
    out = sum(p.floating == "flowed_out" for p in people)
    inn = sum(p.floating == "flowed_in" for p in people)
    counts = Counter(r.kind for r in plan.records)
    return GenerationSummary(
        village_code=plan.village_code,
        seed=plan.seed,
        start=plan.start,
        end=plan.end,
        residents=len(people),
        women_15_49=len(women),
        married_women_15_49=sum(p.currently_married for p in women),
        floating=out + inn,
        flowed_out=out,
        flowed_in=inn,
        floating_target=plan.floating_target,
        records=dict(sorted(counts.items())),
    )


def resolve(data: dict[str, Any], ids: list[str | None]) -> dict[str, Any]:
    """Turn keys into store ids and dates into ISO strings; drop fields left empty."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue
        if isinstance(value, Key):
            found = ids[value.index]
            if found is None:
                raise RuntimeError(f"{name} refers to a record not yet written")
            value = found
        elif isinstance(value, date):
            value = value.isoformat()
        out[name] = value
    return out


def in_date_order(records: Iterable[Planned]) -> list[Planned]:
    """Entry order: by the day entered, then by planning order (referents come first)."""
    return sorted(records, key=lambda r: (r.today, r.index))


def write_plan(store: NodeStore, plan: VillagePlan, *, progress: bool = False) -> None:
    """Write every planned record through ``add_record``, ~500 per transaction.

    Raises:
        ValidationError, RuleViolation: a record was refused (a generator bug); the
            error's notes name the record's kind, planning index and date.
    """
    ordered = in_date_order(plan.records)
    ids: list[str | None] = [None] * len(plan.records)
    for chunk in _chunks(ordered, progress):
        with store.bulk():
            for record in chunk:
                data = resolve(record.data, ids)
                try:
                    ids[record.index] = add_record(store, record.kind, data, today=record.today)
                except Exception as exc:
                    exc.add_note(f"synthetic {record.kind} #{record.index} of {record.today}")
                    raise


def _chunks(records: list[Planned], progress: bool) -> Iterator[list[Planned]]:
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(records), unit="rec", desc="generating")
    try:
        for i in range(0, len(records), CHUNK):
            chunk = records[i : i + CHUNK]
            yield chunk
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()


def generate_village(
    store: NodeStore,
    *,
    residents: int,
    months: int,
    seed: int,
    start: date,
    progress: bool = False,
) -> GenerationSummary:
    """Generate a realistic village into ``store``: residents' cards, then ``months`` of events.

    The same seed, arguments and village code give the same records (ids included), so
    tests can compare record hashes and benchmarks can repeat a run.

    Args:
        store: an initialised village node store (12-digit code); its name is used in
            addresses.
        residents: people in the village on ``start`` (about 23 % are women 15-49).
        months: length of the span of events.
        seed: the random seed.
        start: the day the first cards are entered; events follow it.
        progress: show a tqdm progress bar while writing.

    Returns:
        First-day figures and the number of records written per kind.

    Raises:
        ValueError: the store is not a village node, or the arguments are out of range.
    """
    plan = plan_village(
        village_code=store.node.code,
        village_name=store.name,
        residents=residents,
        months=months,
        seed=seed,
        start=start,
    )
    write_plan(store, plan, progress=progress)
    return summarise(plan)
