# SPDX-License-Identifier: Apache-2.0
"""The semiannual and annual tables 2, 3 and 5, in the rule language of ``rules.py``.

Headings are the official Chinese ones printed on the forms; column keys are stable and
go into signed snapshots, so renaming a key makes every later recomputation differ from
what was approved: add a column instead.

Conventions every table shares:

* A person is *present* on a day when born by then, not dead by then, and not away: her
  latest move up to that day is not "out", and if she has no move by then, her first
  move ever is not "in" (she had not arrived yet). The population counted is that of
  the cards the county keeps (常住人口 as the cards show it), flowed-in women included.
* A count in a period means: its date field falls between the first and last day of the
  period, both included (Shanghai calendar days, as the officers entered them).
"""

from __future__ import annotations

from county_aggregator.reports.periods import PeriodKind
from county_aggregator.reports.rules import (
    END,
    START,
    AgeAt,
    AnyOf,
    Column,
    Count,
    Derived,
    Earliest,
    Formula,
    Latest,
    Percent,
    Source,
    TableDef,
    Where,
    absent,
    between,
    eq,
    is_in,
    ne,
    present,
)

NOTIFICATION_KIND = "floating_notification"
"""Not a record kind yet: the floating-population exchange issue adds it. Until then the
notification columns of Table 5 count nothing and print 0."""

_DEATH = Source("death", "person_ref", "death_date")
_MOVE = Source("move", "person_ref", "move_date", value="direction")
LIFE_FACTS: dict[str, Derived] = {
    "died_before_start": Latest((_DEATH,), upto="before_start"),
    "died_by_end": Latest((_DEATH,), upto="end"),
    "move_before_start": Latest((_MOVE,), upto="before_start"),
    "move_by_end": Latest((_MOVE,), upto="end"),
    "first_move": Earliest((_MOVE,), upto="any"),
    "age_at_end": AgeAt("end"),
}
PRESENT_AT_START = (
    Where("birth_date", "lt", START),
    absent("$died_before_start"),
    ne("$move_before_start", "out"),
    AnyOf((present("$move_before_start"), ne("$first_move", "in"))),
)
PRESENT_AT_END = (
    Where("birth_date", "le", END),
    absent("$died_by_end"),
    ne("$move_by_end", "out"),
    AnyOf((present("$move_by_end"), ne("$first_move", "in"))),
)
STATISTICAL: tuple[PeriodKind, ...] = ("half1", "year")


def _in_period(kind: str, day: str, *where: Where, heading: str, key: str) -> Column:
    return Column(key, heading, Count(kind, where=tuple(where), date=day))


# --- 表2 人口自然变动及女性初婚 -------------------------------------------------------

_ORDERS = (
    ("1", "一孩", eq("birth_order", 1)),
    ("2", "二孩", eq("birth_order", 2)),
    ("3", "三孩及以上", Where("birth_order", "ge", 3)),
)
_SEXES = (("m", "男", "M"), ("f", "女", "F"))

TABLE2 = TableDef(
    name="table2",
    title="表2 人口自然变动及女性初婚情况",
    periods=STATISTICAL,
    derived=LIFE_FACTS,
    columns=(
        Column("pop_start", "期初人口数", Count("person", where=PRESENT_AT_START)),
        _in_period("birth", "birth_date", heading="出生人数合计", key="births"),
        *(
            _in_period(
                "birth", "birth_date", eq("child_sex", s), heading=f"出生{zh}", key=f"births_{k}"
            )
            for k, zh, s in _SEXES
        ),
        *(
            _in_period(
                "birth",
                "birth_date",
                test,
                eq("child_sex", s),
                heading=f"{order_zh}{sex_zh}",
                key=f"b{order}_{k}",
            )
            for order, order_zh, test in _ORDERS
            for k, sex_zh, s in _SEXES
        ),
        _in_period("death", "death_date", heading="死亡人数", key="deaths"),
        _in_period(
            "marriage",
            "marriage_date",
            eq("first_marriage", True),
            heading="女性初婚人数",
            key="first_marriages",
        ),
        _in_period("move", "move_date", eq("direction", "in"), heading="迁入人数", key="moved_in"),
        _in_period(
            "move", "move_date", eq("direction", "out"), heading="迁出人数", key="moved_out"
        ),
        Column(
            "pop_end", "期末人口数", Formula("pop_start + births - deaths + moved_in - moved_out")
        ),
    ),
    notes="期末人口数 = 期初人口数 + 出生 - 死亡 + 迁入 - 迁出. "
    "Population is that of the cards kept (see definitions.py).",
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

TABLE3 = TableDef(
    name="table3",
    title="表3 已婚育龄夫妇节育情况",
    periods=STATISTICAL,
    derived={
        **LIFE_FACTS,
        # The follow-up is listed first: on a day with both, what the visit found in use
        # is the better evidence.
        "method": Latest(
            (
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
        ),
    },
    filters={
        "person": (
            eq("sex", "F"),
            is_in("marital_status", ("married", "remarried")),
            AnyOf((absent("first_marriage_date"), Where("first_marriage_date", "le", END))),
            between("$age_at_end", 15, 49),
            *PRESENT_AT_END,
        )
    },
    columns=(
        Column("married_women", "已婚育龄妇女数", Count("person")),
        *(
            Column(key, heading, Count("person", where=(eq("$method", key),)))
            for key, heading in METHOD_COLUMNS
        ),
        Column("users", "采取节育措施合计", Formula(" + ".join(k for k, _ in METHOD_COLUMNS))),
        Column("none", "未采取节育措施", Count("person", where=(eq("$method", "none"),))),
        Column("unrecorded", "无节育信息记录", Count("person", where=(eq("$method", UNRECORDED),))),
        Column("prevalence", "综合节育率（%）", Percent("users", "married_women")),
    ),
    notes="Method in use at period end: the latest follow-up visit or procedure up to then. "
    "Women with neither are counted as 无节育信息记录, not as users and not as 'none'. "
    "A husband's vasectomy counts when a follow-up of the wife records male_sterilisation.",
)

# --- 表5 流动人口管理和服务情况 -----------------------------------------------------

_FLOWED_IN = (eq("floating_status", "flowed_in"),)


def _service(kind: str, day: str, key: str, heading: str) -> Column:
    return Column(key, heading, Count(kind, date=day, via="person_ref", subject=_FLOWED_IN))


TABLE5 = TableDef(
    name="table5",
    title="表5 流动人口管理和服务情况",
    periods=STATISTICAL,
    derived={"age_at_end": AgeAt("end"), "died_by_end": LIFE_FACTS["died_by_end"]},
    filters={
        "person": (
            eq("sex", "F"),
            is_in("floating_status", ("flowed_in", "flowed_out")),
            AnyOf((absent("floating_since"), Where("floating_since", "le", END))),
            between("$age_at_end", 15, 49),
            absent("$died_by_end"),
        )
    },
    columns=(
        Column("flowed_in", "流入育龄妇女数", Count("person", where=_FLOWED_IN)),
        Column(
            "flowed_in_new",
            "其中：本期新流入",
            Count("person", where=_FLOWED_IN, date="floating_since"),
        ),
        Column(
            "flowed_out",
            "流出育龄妇女数",
            Count("person", where=(eq("floating_status", "flowed_out"),)),
        ),
        Column(
            "flowed_out_new",
            "其中：本期新流出",
            Count("person", where=(eq("floating_status", "flowed_out"),), date="floating_since"),
        ),
        Column(
            "records_kept",
            "建立育龄妇女信息卡数",
            Count("person", where=(eq("card_type", "woman"),)),
        ),
        _service("health_check", "done_date", "health_checks", "为流入妇女生殖健康检查（人次）"),
        _service("follow_up", "visit_date", "follow_ups", "为流入妇女随访服务（人次）"),
        _service("supply_handout", "handout_date", "supplies", "为流入妇女发放药具（人次）"),
        Column("services", "服务合计（人次）", Formula("health_checks + follow_ups + supplies")),
        Column("notices_sent", "发出通报（件）", Count(NOTIFICATION_KIND, date="sent_date")),
        Column(
            "notices_on_time",
            "其中：按时反馈（件）",
            Count(NOTIFICATION_KIND, where=(eq("answered_on_time", True),), date="sent_date"),
        ),
    ),
    notes="Floating women aged 15-49 at period end. Services are those given here to women "
    "who flowed in. Notifications count records of kind 'floating_notification' "
    "(sent_date, answered_on_time), which the floating-population exchange issue will add; "
    "until then both columns are 0.",
)
