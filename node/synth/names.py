# SPDX-License-Identifier: Apache-2.0
"""Chinese names for synthetic people and villages, from plain lists.

Surnames carry rough frequency weights (the top surnames cover most of the population),
and each village boosts a few clan surnames, as a single-lineage village in the south
would show; registers printed from the data then look like a real village's.
"""

from __future__ import annotations

import random

SURNAMES = (
    ("王", 71),
    ("李", 70),
    ("张", 68),
    ("刘", 54),
    ("陈", 46),
    ("杨", 31),
    ("黄", 24),
    ("赵", 23),
    ("吴", 20),
    ("周", 19),
    ("徐", 15),
    ("孙", 15),
    ("马", 13),
    ("朱", 13),
    ("胡", 12),
    ("郭", 12),
    ("何", 12),
    ("林", 11),
    ("罗", 11),
    ("高", 11),
    ("郑", 10),
    ("梁", 9),
    ("谢", 8),
    ("宋", 8),
    ("唐", 8),
    ("许", 7),
    ("韩", 7),
    ("冯", 7),
    ("邓", 7),
    ("曹", 7),
    ("彭", 6),
    ("曾", 6),
    ("肖", 6),
    ("田", 6),
    ("董", 5),
    ("袁", 5),
    ("潘", 5),
    ("于", 5),
    ("蒋", 5),
    ("蔡", 5),
    ("余", 5),
    ("杜", 5),
    ("叶", 5),
    ("程", 5),
    ("苏", 4),
    ("魏", 4),
    ("吕", 4),
    ("丁", 4),
    ("任", 4),
    ("沈", 4),
    ("钟", 4),
    ("卢", 4),
    ("温", 3),
    ("廖", 3),
    ("赖", 3),
    ("邱", 3),
    ("欧阳", 1),
    ("司马", 1),
)
MALE_CHARS = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文晨轩睿博豪"
    "东海峰昊然诚毅锋嘉祥荣德"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞燕玲婷雪琳颖慧红梅莉倩佳欣怡萱涵琪月秀兰英华晶洁璐雯悦彤妍蓉丹萍思诗雨婉"
)
ETHNICITIES = (
    ("汉族", 920),
    ("壮族", 15),
    ("回族", 9),
    ("满族", 8),
    ("苗族", 8),
    ("土家族", 7),
    ("瑶族", 6),
    ("畲族", 3),
    ("彝族", 6),
    ("蒙古族", 5),
    ("侗族", 4),
    ("布依族", 4),
)
VILLAGE_FIRST = "上下新大小东西南北前后石高龙沙塘白黄马中永长和平安福兴凤金湖"
VILLAGE_SECOND = "南围塘坑岭田湖山洋边头坪屋埔洲江桥园寨坝庄溪湾岗"
VILLAGE_SUFFIXES: tuple[tuple[str, int], ...] = (("村", 85), ("社区", 15))


class NameMaker:
    """Draws names for one village: common surnames plus the village's own clans."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        clans = rng.sample(range(12), 3)
        self._surnames = [s for s, _ in SURNAMES]
        self._weights = [w * (8 if i in clans else 1) for i, (_, w) in enumerate(SURNAMES)]

    def surname(self) -> str:
        return self.rng.choices(self._surnames, self._weights)[0]

    def given(self, sex: str) -> str:
        chars = MALE_CHARS if sex == "M" else FEMALE_CHARS
        n = 1 if self.rng.random() < 0.3 else 2
        return "".join(self.rng.choice(chars) for _ in range(n))

    def full(self, sex: str, surname: str | None = None) -> str:
        """A full name; children take the father's surname (passed in)."""
        return (surname or self.surname()) + self.given(sex)

    def ethnicity(self) -> str:
        names, weights = zip(*ETHNICITIES, strict=True)
        return self.rng.choices(names, weights)[0]


def village_name(rng: random.Random, taken: set[str] | None = None) -> str:
    """A plausible synthetic village name (上南村, 新围村), unique among ``taken``."""
    taken = taken if taken is not None else set()
    suffixes, weights = zip(*VILLAGE_SUFFIXES, strict=True)
    for _ in range(1000):
        first, second = rng.choice(VILLAGE_FIRST), rng.choice(VILLAGE_SECOND)
        if first == second:
            continue
        name = first + second + rng.choices(suffixes, weights)[0]
        if name not in taken:
            taken.add(name)
            return name
    raise ValueError("ran out of synthetic village names")  # pragma: no cover
