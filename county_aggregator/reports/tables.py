# SPDX-License-Identifier: Apache-2.0
"""Tables 2 and 3, for the hukou population and as the temporary-resident (暂住) versions.

The floating-population rules' Tables 2 and 3 are the temporary-resident versions; the
county also produces the same tables for its hukou population (篇4, 篇10 第27-28条).
Each table's title says which population it counts (facts.py has the definitions); the
columns of moves count hukou moves only (迁入/迁出), never floating.

Headings are the official Chinese ones printed on the forms; column keys are stable and
go into signed snapshots, so renaming a key makes every later recomputation differ from
what was approved: add a column instead.

A count in a period means: its date field falls between the first and last day of the
period, both included (Shanghai calendar days, as the officers entered them).
"""

from __future__ import annotations

from county_aggregator.reports.facts import (
    FACTS,
    FLOATER_AT_END,
    FLOATER_AT_START,
    HUKOU_AT_END,
    HUKOU_AT_START,
    HUKOU_PERSON,
    KEPT,
    MARRIED_AT_END,
    RESIDENT_AT_END,
    RESIDENT_PERSON,
    SIX_MONTHS,
)
from county_aggregator.reports.periods import PeriodKind
from county_aggregator.reports.rules import (
    END,
    START,
    Column,
    Cond,
    Count,
    Formula,
    Latest,
    Percent,
    Source,
    TableDef,
    Where,
    between,
    eq,
    months_before,
    ne,
)

STATISTICAL: tuple[PeriodKind, ...] = ("half1", "year")

# --- 表2 人口自然变动及女性初婚 -------------------------------------------------------

_ORDERS = (
    ("1", "一孩", eq("birth_order", 1)),
    ("2", "二孩", eq("birth_order", 2)),
    ("3", "三孩及以上", Where("birth_order", "ge", 3)),
)
_SEXES = (("m", "男", "M"), ("f", "女", "F"))


def _event(kind: str, day: str, ref: str, subject: tuple[Cond, ...], *where: Cond) -> Count:
    return Count(kind, where=tuple(where), date=day, via=ref, subject=subject)


def _people(*where: Cond) -> Count:
    return Count("person", where=(*KEPT, *where), live=None)


def _natural_change(subject: tuple[Cond, ...]) -> tuple[Column, ...]:
    """Births by order and sex, deaths, women's first marriages, hukou moves."""
    births = (
        Column("births", "出生人数合计", _event("birth", "birth_date", "mother_ref", subject)),
        *(
            Column(
                f"births_{k}",
                f"出生{zh}",
                _event("birth", "birth_date", "mother_ref", subject, eq("child_sex", s)),
            )
            for k, zh, s in _SEXES
        ),
        *(
            Column(
                f"b{order}_{k}",
                f"{order_zh}{sex_zh}",
                _event("birth", "birth_date", "mother_ref", subject, test, eq("child_sex", s)),
            )
            for order, order_zh, test in _ORDERS
            for k, sex_zh, s in _SEXES
        ),
    )
    return (
        *births,
        Column("deaths", "死亡人数", _event("death", "death_date", "person_ref", subject)),
        Column(
            "first_marriages",
            "女性初婚人数",
            _event("marriage", "marriage_date", "woman_ref", subject, eq("first_marriage", True)),
        ),
        Column(
            "moved_in",
            "户籍迁入人数",
            Count("move", where=(eq("direction", "in"),), date="move_date"),
        ),
        Column(
            "moved_out",
            "户籍迁出人数",
            Count("move", where=(eq("direction", "out"),), date="move_date"),
        ),
    )


TABLE2 = TableDef(
    name="table2",
    title="表2 户籍人口自然变动及女性初婚情况",
    periods=STATISTICAL,
    derived=FACTS,
    columns=(
        Column("pop_start", "期初户籍人口数", _people(*HUKOU_AT_START)),
        *_natural_change(HUKOU_PERSON),
        Column(
            "pop_end",
            "期末户籍人口数",
            Formula("pop_start + births - deaths + moved_in - moved_out"),
        ),
    ),
    notes="Hukou population (户籍人口): hukou moves start and end it, floating out does not; "
    "floating-in registrants from other counties are not in it. Births, deaths and first "
    "marriages of the hukou population; move columns count hukou moves only. "
    "期末 = 期初 + 出生 - 死亡 + 迁入 - 迁出.",
)

_JOINED = (
    eq("$float_by_end", "flow_in"),
    Where("$float_in_since_end", "ge", months_before(START, SIX_MONTHS)),
    Where("$float_in_since_end", "lt", months_before(END, SIX_MONTHS)),
)
"""Floating-in people whose sixth month here was completed in the period."""

TABLE2_RESIDENT = TableDef(
    name="table2-resident",
    title="表2 人口（暂住）自然变动及女性初婚情况",
    periods=STATISTICAL,
    derived=FACTS,
    columns=(
        Column("hukou_start", "期初户籍人口", _people(*HUKOU_AT_START)),
        Column("floaters_start", "期初居住半年以上的流入人口", _people(*FLOATER_AT_START)),
        Column("pop_start", "期初人口数", Formula("hukou_start + floaters_start")),
        *_natural_change(RESIDENT_PERSON),
        Column("floaters_joined", "流入人口居住满半年", _people(*_JOINED)),
        Column(
            "floaters_left",
            "居住半年以上的流入人口离开",
            _people(*FLOATER_AT_START, ne("$float_by_end", "flow_in")),
        ),
        Column(
            "pop_end",
            "期末人口数",
            Formula(
                "pop_start + births - deaths + moved_in - moved_out"
                " + floaters_joined - floaters_left"
            ),
        ),
    ),
    notes="Residents (暂住 version): the hukou population plus people who floated in from "
    "another county and have lived here more than six months (篇10). Move columns count "
    "hukou moves only; a floater becomes a resident after six months and stops being one "
    "when she leaves or moves her hukou here (then counted as a hukou move in).",
)

# --- 表3 已婚育龄夫妇节育情况 -------------------------------------------------------

# A procedure says what is in use from its date on; removals leave no method in use.
PROCEDURE_TO_METHOD = {
    "iud_insertion": "iud",
    "iud_removal": "none",
    "female_sterilisation": "female_sterilisation",
    "male_sterilisation": "male_sterilisation",
    "implant_insertion": "implant",
    "implant_removal": "none",
    "other": "other",
}
METHOD_COLUMNS = (
    ("iud", "宫内节育器（上环）"),
    ("female_sterilisation", "女性绝育"),
    ("male_sterilisation", "男性绝育"),
    ("implant", "皮下埋植"),
    ("pill_injection", "口服及注射避孕药"),
    ("condom", "避孕套"),
    ("other", "其他方法"),
)
UNRECORDED = "unrecorded"
METHOD = Latest(
    (
        # The follow-up is listed first: on a day with both, what the visit found in use
        # is the better evidence.
        Source("follow_up", "person_ref", "visit_date", value="method_in_use"),
        Source(
            "contraceptive_procedure",
            "person_ref",
            "procedure_date",
            value="method",
            mapping=PROCEDURE_TO_METHOD,
        ),
    ),
    upto="end",
    default=UNRECORDED,
)
_WOMEN_15_49 = (eq("sex", "F"), between("$age_at_end", 15, 49), *KEPT, *MARRIED_AT_END)


def _table3(name: str, title: str, population: tuple[Cond, ...], notes: str) -> TableDef:
    return TableDef(
        name=name,
        title=title,
        periods=STATISTICAL,
        derived={**FACTS, "method": METHOD},
        filters={"person": (*_WOMEN_15_49, *population)},
        columns=(
            Column("married_women", "已婚育龄妇女数", Count("person", live=None)),
            *(
                Column(key, heading, Count("person", where=(eq("$method", key),), live=None))
                for key, heading in METHOD_COLUMNS
            ),
            Column("users", "采取节育措施合计", Formula(" + ".join(k for k, _ in METHOD_COLUMNS))),
            Column(
                "none", "未采取节育措施", Count("person", where=(eq("$method", "none"),), live=None)
            ),
            Column(
                "unrecorded",
                "无节育信息记录",
                Count("person", where=(eq("$method", UNRECORDED),), live=None),
            ),
            Column("prevalence", "综合节育率（%）", Percent("users", "married_women")),
        ),
        notes=notes,
    )


_METHOD_NOTES = (
    " Married at the period's end by the marriages and marital changes dated up to then. "
    "Method in use at period end: the latest follow-up visit or procedure up to then; "
    "women with neither are 无节育信息记录, not users and not 'none'."
)
TABLE3 = _table3(
    "table3",
    "表3 户籍人口已婚育龄夫妇节育情况",
    HUKOU_AT_END,
    "Married women 15-49 of the hukou population at the period's end." + _METHOD_NOTES,
)
TABLE3_RESIDENT = _table3(
    "table3-resident",
    "表3 已婚育龄夫妇（暂住）节育情况",
    RESIDENT_AT_END,
    "Married women 15-49 among the residents at the period's end: the hukou population "
    "and women who floated in from another county more than six months before." + _METHOD_NOTES,
)

__all__ = ["FLOATER_AT_END", "TABLE2", "TABLE2_RESIDENT", "TABLE3", "TABLE3_RESIDENT"]
