# SPDX-License-Identifier: Apache-2.0
"""Real node logs for the merge tests: villages writing overlapping people and events.

Every entry comes from ``NodeStore.write`` on a real village store (so bases are what a
node really sends), with one shared, seeded clock that the villages take turns on, so
their clocks interleave and sometimes tie. ``county_db`` copies the entries into a
county node's ``received_entries``, as the sync receiver leaves them.
"""

from __future__ import annotations

import functools
import random
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from node.domain.resident_id import check_digit
from node.store.store import NodeStore
from protocol import Entry, LogId, NodeId, Suite, make_entry
from protocol.entries import ZERO_HASH

COUNTY = "440104"
VILLAGES = ("440104001002", "440104001003", "440104002001", "440104002005")
T0 = 1_780_000_000_000


def id_number(birth: str, n: int, *, female: bool = True) -> str:
    """A valid 18-digit ID number (GB 11643) of someone born on ``birth``."""
    seq = n * 2 % 1000 if female else (n * 2 + 1) % 1000
    body = f"440104{birth.replace('-', '')}{seq:03d}"
    return body + check_digit(body)


def card(idn: str, name: str, birth: str, hukou: str, residence: str, **extra: Any) -> dict:
    """The fields of a woman's information card."""
    return {
        "card_type": "woman",
        "id_number": idn,
        "name": name,
        "sex": "F",
        "birth_date": birth,
        "hukou_code": hukou,
        "hukou_address": "1号",
        "residence_code": residence,
        "residence_address": "2号",
        "marital_status": "married",
        **extra,
    }


class Clock:
    """A shared clock the test advances by hand: ``now`` ms since ``T0``."""

    def __init__(self, start: int = T0) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def tick(self, ms: int = 1000) -> None:
        self.now += ms


class Villages:
    """A few village stores on one shared clock, created in a temporary directory."""

    def __init__(self, root: Path, codes: Iterable[str] = VILLAGES, clock: Clock | None = None):
        self.clock = clock or Clock()
        self.stores = {
            code: NodeStore.init(
                root / code, NodeId.for_code(code), code, Suite.CLASSIC, clock=self.clock
            )
            for code in codes
        }

    def write(
        self, code: str, kind: str, rid: str, fields: dict[str, Any], tick: int = 1000
    ) -> Entry:
        self.clock.tick(tick)
        s = self.stores[code]
        return s.write([s.upsert_op(kind, rid, fields)])

    def retire(self, code: str, kind: str, rid: str, reason: str, tick: int = 1000) -> Entry:
        self.clock.tick(tick)
        s = self.stores[code]
        return s.write([s.retire_op(kind, rid, reason)])

    def raw(self, code: str, ops: list[Any], tick: int = 1000) -> Entry:
        self.clock.tick(tick)
        return self.stores[code].write(ops)

    def entries(self) -> list[Entry]:
        return [e for code in sorted(self.stores) for e in self.stores[code].entries()]

    def close(self) -> None:
        for s in self.stores.values():
            s.close()


def bad_entries(code: str = "440104002009") -> list[Entry]:
    """Entries a county must reject: undecodable, unknown ruleset, unknown kind and field."""
    log = LogId(NodeId.for_code(code), 1)
    payloads = [
        (b'{"ops":[{"op":"upsert"', 1),
        (b'{"ops":[{"fields":{"name":["x",0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}', 9),
        (b'{"ops":[{"fields":{"x":[1,0]},"id":"Z1","kind":"spaceship","op":"upsert"}],"v":1}', 1),
        (b'{"ops":[{"fields":{"shoe":["x",0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}', 1),
    ]
    out, prev = [], ZERO_HASH
    for seq, (payload, ruleset) in enumerate(payloads, start=1):
        entry = make_entry(Suite.CLASSIC, log, seq, prev, (T0 + seq) << 16, ruleset, payload)
        out.append(entry)
        prev = entry.hash
    return out


def county_db(root: Path, entries: Iterable[Entry], clock: Clock | None = None) -> NodeStore:
    """A county node whose ``received_entries`` hold ``entries``."""
    county = NodeStore.init(
        root / "county",
        NodeId.for_code(COUNTY),
        "县",
        Suite.CLASSIC,
        clock=clock or Clock(T0 + 10**9),
    )
    receive(county.db, entries)
    return county


def receive(db: Database, entries: Iterable[Entry]) -> None:
    db.conn.executemany(
        "INSERT OR IGNORE INTO received_entries (log, seq, hlc, ruleset, flags, payload,"
        " payload_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (str(e.log), e.seq, e.hlc, e.ruleset, e.flags, e.payload, e.payload_hash, e.hash)
            for e in entries
        ],
    )


@dataclass(frozen=True)
class Scenario:
    entries: list[Entry]


@functools.cache
def scenario(seed: int) -> Scenario:
    """Villages writing floating women on two cards, concurrent edits, births recorded by
    two places, services, retires and an ID-number correction, in a seeded order."""
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="renkou-merge-"))
    v = Villages(root)
    women = []
    for i in range(8):
        birth = f"{1985 + i}-0{1 + i % 9}-1{i % 9}"
        hukou = rng.choice(VILLAGES)
        residence = hukou if rng.random() < 0.25 else rng.choice(VILLAGES)
        women.append((id_number(birth, i), birth, hukou, residence, f"P{i}"))
    for idn, birth, hukou, residence, rid in women:
        # Some hukou villages have not heard of the move yet: both cards then claim the
        # residence, and their residence fields are of equal authority.
        stale = residence if rng.random() < 0.6 else hukou
        v.write(
            hukou,
            "person",
            rid,
            card(idn, f"王{rid}", birth, hukou, stale),
            tick=rng.choice((0, 1, 500)),
        )
        if residence != hukou:
            v.write(
                residence,
                "person",
                rid,
                card(idn, f"王{rid}", birth, hukou, residence, floating_status="flowed_in"),
            )
    actions: list[Callable[[], object]] = []
    for n in range(60):
        idn, birth, hukou, residence, rid = rng.choice(women)
        holder = rng.choice((hukou, residence))
        roll = rng.random()
        if roll < 0.5:
            field, value = rng.choice(
                [
                    ("phone", f"139{rng.randint(0, 99999999):08d}"),
                    ("marital_status", rng.choice(("married", "divorced"))),
                    ("residence_address", f"{rng.randint(1, 99)}号"),
                    ("name", rng.choice((f"王{rid}", f"汪{rid}"))),
                ]
            )
            actions.append(
                functools.partial(
                    v.write, holder, "person", rid, {field: value}, rng.choice((0, 1, 700))
                )
            )
        elif roll < 0.7:
            fields = {
                "mother_ref": rid,
                "child_sex": rng.choice("FM"),
                "birth_date": "2024-05-0" + str(n % 9 + 1),
                "birth_order": 1 + n % 2,
                "birth_place": "医院",
            }
            actions.append(functools.partial(v.write, residence, "birth", f"B{n}", fields))
            if rng.random() < 0.6:
                actions.append(
                    functools.partial(
                        v.write, hukou, "birth", f"B{n}h", {**fields, "birth_place": "县医院"}, 3
                    )
                )
        elif roll < 0.83:
            fields = {"person_ref": rid, "visit_date": "2025-01-02", "method_in_use": "iud"}
            actions.append(functools.partial(v.write, holder, "follow_up", f"F{n}", fields))
        elif roll < 0.96:
            reason = rng.choice(("moved", "moved", "moved", "retention"))
            actions.append(functools.partial(_retire_if_held, v, holder, rid, reason))
        else:
            fixed = id_number(birth, 100 + n)
            actions.append(functools.partial(v.write, holder, "person", rid, {"id_number": fixed}))
    rng.shuffle(actions)
    for act in actions:
        act()
    entries = v.entries() + bad_entries()
    v.close()
    return Scenario(entries)


def _retire_if_held(v: Villages, code: str, rid: str, reason: str) -> None:
    if v.stores[code].record("person", rid) is not None:
        v.retire(code, "person", rid, reason)
