# SPDX-License-Identifier: Apache-2.0
"""Realistic record changes for the protocol benchmarks.

The mix follows what a village node writes (domain.md section 6): new information cards
with a dozen fields, single- and few-field updates of existing cards (marital status,
residence, floating status, phone), and small service records (follow-up visits,
supply hand-outs). Every upsert field carries the base version the writer saw.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
GIVEN = "秀英桂兰玉梅丽华芳敏静丽娟霞红燕艳萍玲春海军强伟明建国志勇平德文杰斌涛"
VILLAGE = "440104001002"
UPDATABLE = ("marital_status", "residence_address", "floating_status", "phone")


@dataclass(frozen=True)
class Change:
    """One transaction's worth of field changes: kind, record id, {field: (value, base)}."""

    kind: str
    record_id: str
    fields: dict[str, tuple[Any, int]]
    is_new: bool


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _date(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _id_number(rng: random.Random, birth: str) -> str:
    body = "440104" + birth.replace("-", "") + f"{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def generate(count: int, seed: int = 1) -> Iterator[Change]:
    """Yield ``count`` changes: about 20 % new cards, 55 % card updates, 25 % services."""
    rng = random.Random(seed)
    versions: dict[str, dict[str, int]] = {}
    people: list[str] = []
    for seq in range(1, count + 1):
        roll = rng.random()
        if roll < 0.2 or len(people) < 50:
            pid = f"p{len(people) + 1}"
            birth = _date(rng, 1977, 2011)
            fields = {
                "card_type": "woman",
                "id_number": _id_number(rng, birth),
                "name": _name(rng),
                "sex": "F",
                "birth_date": birth,
                "hukou_code": VILLAGE,
                "hukou_address": f"{rng.randint(1, 300)}号",
                "residence_code": VILLAGE,
                "residence_address": f"{rng.randint(1, 300)}号",
                "marital_status": rng.choice(("married", "married", "unmarried")),
                "floating_status": rng.choice(("resident",) * 3 + ("flowed_out",)),
                "phone": f"13{rng.randint(100000000, 999999999)}",
            }
            people.append(pid)
            versions[pid] = dict.fromkeys(fields, seq)
            yield Change("person", pid, {k: (v, 0) for k, v in fields.items()}, True)
        elif roll < 0.75:
            pid = rng.choice(people)
            names = rng.sample(UPDATABLE, rng.choice((1, 1, 2, 3)))
            values = {
                "marital_status": rng.choice(("married", "divorced", "widowed")),
                "residence_address": f"{rng.randint(1, 300)}号",
                "floating_status": rng.choice(("resident", "flowed_out", "flowed_in")),
                "phone": f"13{rng.randint(100000000, 999999999)}",
            }
            fields = {n: (values[n], versions[pid][n]) for n in names}
            for n in names:
                versions[pid][n] = seq
            yield Change("person", pid, fields, False)
        else:
            rid = f"s{seq}"
            pid = rng.choice(people)
            if rng.random() < 0.5:
                data = {
                    "person_ref": pid,
                    "visit_date": _date(rng, 2026, 2026),
                    "method_in_use": rng.choice(("iud", "condom", "implant", "none")),
                }
                kind = "follow_up"
            else:
                data = {
                    "person_ref": pid,
                    "item": rng.choice(("condom", "pill")),
                    "quantity": rng.randint(1, 30),
                    "handout_date": _date(rng, 2026, 2026),
                }
                kind = "supply_handout"
            yield Change(kind, rid, {k: (v, 0) for k, v in data.items()}, True)
