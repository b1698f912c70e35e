# SPDX-License-Identifier: Apache-2.0
"""Every report the county produces, by name: the monthly reports, the benefit-fund
reports here, Tables 2 and 3 (hukou and temporary-resident versions) in ``tables.py``,
Table 5 in ``table5.py``. Adding a report = adding an entry.

The names are what ``renkou county report <name>`` takes and what signed snapshots are
filed under; column keys are stable for the same reason (see ``tables.py``).
"""

from __future__ import annotations

from county_aggregator.reports.periods import PeriodKind
from county_aggregator.reports.rules import (
    START,
    Column,
    Count,
    Definition,
    Formula,
    Latest,
    ListField,
    ListingDef,
    Source,
    Sum,
    TableDef,
    Upto,
    Where,
    eq,
    is_in,
)
from county_aggregator.reports.table5 import TABLE5
from county_aggregator.reports.tables import TABLE2, TABLE2_RESIDENT, TABLE3, TABLE3_RESIDENT
from node.domain.codes import ACTIVE_CHANGES
from node.domain.records import RECORD_KINDS

EVENT_KINDS = tuple(k for k in RECORD_KINDS if k != "person")
ALL_PERIODS: tuple[PeriodKind, ...] = ("month", "half1", "year")

# --- 月报 -------------------------------------------------------------------------------


def _month(key: str, heading: str, kind: str, day: str, *where: Where) -> Column:
    return Column(key, heading, Count(kind, where=where, date=day))


MONTHLY = TableDef(
    name="monthly",
    title="人口和计划生育月报",
    periods=("month",),
    columns=(
        _month("births", "出生", "birth", "birth_date"),
        _month("deaths", "死亡", "death", "death_date"),
        _month("marriages", "结婚", "marriage", "marriage_date"),
        _month("birth_registrations", "生育登记", "birth_registration", "registered_date"),
        _month("moved_in", "户籍迁入", "move", "move_date", eq("direction", "in")),
        _month("moved_out", "户籍迁出", "move", "move_date", eq("direction", "out")),
        _month("flowed_in", "流入登记", "floating", "event_date", eq("event", "flow_in")),
        _month("flowed_out", "流出登记", "floating", "event_date", eq("event", "flow_out")),
        _month("procedures", "计划生育手术", "contraceptive_procedure", "procedure_date"),
        _month("health_checks", "生殖健康检查", "health_check", "done_date"),
        _month("follow_ups", "随访", "follow_up", "visit_date"),
        _month("benefit_changes", "奖励扶助对象变动", "benefit", "effective_date"),
    ),
    notes="Events dated in the month (the date the event happened, not when it was entered).",
)

# The HLC columns say when a record was entered or last changed anywhere in the network;
# a withdrawal (retire) is the record's last change.
MONTHLY_CHANGES = TableDef(
    name="monthly-changes",
    title="月变更情况汇总",
    periods=("month",),
    columns=(
        Column("new_cards", "新建信息卡", Count("person", date="@first_hlc", live=None)),
        Column(
            "changed_cards",
            "变更信息卡",
            Count("person", where=(Where("@first_hlc", "lt", START),), date="@last_hlc"),
        ),
        Column("new_records", "新增业务记录", Count(EVENT_KINDS, date="@first_hlc", live=None)),
        Column(
            "changed_records",
            "变更业务记录",
            Count(EVENT_KINDS, where=(Where("@first_hlc", "lt", START),), date="@last_hlc"),
        ),
        Column(
            "retired", "撤销记录", Count(("person", *EVENT_KINDS), date="@last_hlc", live=False)
        ),
        Column(
            "total",
            "变更合计",
            Formula("new_cards + changed_cards + new_records + changed_records + retired"),
        ),
    ),
    notes="Records entered, changed or withdrawn in the month (by their network timestamps).",
)

# --- 奖励扶助 -------------------------------------------------------------------------------

ACTIVE = tuple(sorted(ACTIVE_CHANGES))
PROGRAMME_SHORT = {"reward_support": "奖励扶助", "special_support": "特别扶助", "other": "其他扶助"}
_KEYS = {"reward_support": "reward", "special_support": "special", "other": "other"}
_CHANGES = (
    ("new", "新增"),
    ("moved_in", "迁入"),
    ("moved_out", "迁出"),
    ("died", "死亡"),
    ("stopped", "停止"),
)


def _recipient_fact(programme: str, upto: Upto = "before_start") -> Latest:
    """A person's latest change in one programme before the period (or up to its end):
    a recipient then if it was 'new' or 'moved_in'."""
    where = (eq("programme", programme),)
    source = Source("benefit", "person_ref", "effective_date", value="change", where=where)
    return Latest((source,), upto=upto)


def _amount_fact(programme: str) -> Latest:
    """The yearly amount of a recipient's latest new or moved-in change up to the end."""
    where = (eq("programme", programme), is_in("change", ACTIVE))
    source = Source("benefit", "person_ref", "effective_date", value="annual_amount", where=where)
    return Latest((source,), upto="end")


def _programme_columns(programme: str) -> tuple[Column, ...]:
    key, zh = _KEYS[programme], PROGRAMME_SHORT[programme]
    start = Column(
        f"{key}_start",
        f"{zh}期初人数",
        Count("person", where=(is_in(f"${key}_at_start", ACTIVE),)),
    )
    changes = tuple(
        Column(
            f"{key}_{change}",
            f"{zh}{change_zh}",
            Count(
                "benefit",
                where=(eq("programme", programme), eq("change", change)),
                date="effective_date",
            ),
        )
        for change, change_zh in _CHANGES
    )
    end = Column(
        f"{key}_end",
        f"{zh}期末人数",
        Formula(
            f"{key}_start + {key}_new + {key}_moved_in - {key}_moved_out"
            f" - {key}_died - {key}_stopped"
        ),
    )
    amount = Column(
        f"{key}_amount",
        f"{zh}期末对象年扶助金额（元）",
        Sum(Count("person", where=(is_in(f"${key}_at_end", ACTIVE),)), f"${key}_amount"),
    )
    return (start, *changes, end, amount)


BENEFIT_FUND = TableDef(
    name="benefit-fund",
    title="计划生育奖励扶助和特别扶助资金统计表",
    periods=("half1", "year"),
    derived={
        **{f"{_KEYS[p]}_at_start": _recipient_fact(p) for p in _KEYS},
        **{f"{_KEYS[p]}_at_end": _recipient_fact(p, "end") for p in _KEYS},
        **{f"{_KEYS[p]}_amount": _amount_fact(p) for p in _KEYS},
    },
    columns=tuple(c for p in _KEYS for c in _programme_columns(p)),
    notes="Due by 10 April for the first half (1 October - 31 March) and by 10 October for "
    "the whole statistical year (1 October - 30 September, 篇4 第16条); there is no second "
    "half-year. Recipients at start: people whose latest change before the period is new "
    "or moved in; at end = start + new + moved in - moved out - died - stopped. The amount "
    "is the sum of the yearly amounts (元/年) of the recipients at the end.",
)

BENEFIT_CHANGES = ListingDef(
    name="benefit-changes",
    title="奖励扶助对象变动名单",
    periods=ALL_PERIODS,
    select=Count("benefit", date="effective_date", via="person_ref"),
    fields=(
        ListField("township", "乡镇（街道）代码", "@township"),
        ListField("village", "村（居）代码", "@village"),
        ListField("name", "姓名", "subject.name"),
        ListField("id_number", "身份证号码", "subject.id_number"),
        ListField("programme", "扶助项目", "programme", labels=True),
        ListField("change", "变动类型", "change", labels=True),
        ListField("effective_date", "生效日期", "effective_date"),
        ListField("checked", "入户核查日期", "checked_in_person_date"),
    ),
    order=("@village", "effective_date", "@key"),
    notes="Every benefit change effective in the period, with the recipient it names.",
)

DEFINITIONS: dict[str, Definition] = {
    d.name: d
    for d in (
        MONTHLY,
        MONTHLY_CHANGES,
        TABLE2,
        TABLE2_RESIDENT,
        TABLE3,
        TABLE3_RESIDENT,
        TABLE5,
        BENEFIT_FUND,
        BENEFIT_CHANGES,
    )
}
