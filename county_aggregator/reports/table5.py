# SPDX-License-Identifier: Apache-2.0
"""Table 5 流动人口计划生育管理和服务情况: annual only, by the floating definition.

Floating population work covers people who crossed a county line, aged 18-49 (篇10 第3条),
so the table counts women aged 18-49 at the end of the statistical year whose floating
event names a place in another county (facts.py); the table is compiled once a year
(篇10 第28条), never for a half-year. Births to floating women are counted where they are
known: births to women who floated in, recorded by the residence place (the annual
register of 篇10 第23条), and births to women of this county who floated out.
"""

from __future__ import annotations

from county_aggregator.reports.facts import FACTS
from county_aggregator.reports.rules import (
    END,
    START,
    AnyOf,
    Column,
    Count,
    Formula,
    TableDef,
    absent,
    between,
    eq,
    present,
)

NOTIFICATION_KIND = "floating_notification"
"""The exchange records with other counties (county_aggregator/exchange, SPEC.md §8.11),
read from the county node's database through the view ``exchange_records``
(reports/plan.py ``source_of``): ``direction`` sent or received, ``day`` when it was
sent or received, ``answered`` on_time or late once answered (篇10 第24条: the hukou
place answers within 5 working days of receipt)."""
_SENT = (eq("direction", "sent"),)
_RECEIVED = (eq("direction", "received"),)
_ON_TIME = (eq("answered", "on_time"),)

FLOATING_AGES = (18, 49)
_IN = (eq("$float_by_end", "flow_in"),)
_OUT = (eq("$float_by_end", "flow_out"),)
# A woman who floated in and has left again still gave birth here while she lived here.
_CAME_IN = (
    present("$came_in"),
    AnyOf((eq("$float_by_end", "flow_in"), eq("$float_by_end", "leave"))),
)


def _service(kind: str, day: str, key: str, heading: str) -> Column:
    return Column(key, heading, Count(kind, date=day, via="person_ref", subject=_IN))


TABLE5 = TableDef(
    name="table5",
    title="表5 流动人口计划生育管理和服务情况",
    periods=("year",),
    derived=FACTS,
    filters={
        "person": (
            eq("sex", "F"),
            between("$age_at_end", *FLOATING_AGES),
            absent("$died_by_end"),
        )
    },
    columns=(
        Column("flowed_in", "流入育龄妇女数", Count("person", where=_IN, live=None)),
        Column(
            "flowed_in_new",
            "其中：本年新流入",
            Count("person", where=(*_IN, between("$float_in_since_end", START, END)), live=None),
        ),
        Column("flowed_out", "流出育龄妇女数", Count("person", where=_OUT, live=None)),
        Column(
            "flowed_out_new",
            "其中：本年新流出",
            Count("person", where=(*_OUT, between("$float_out_since_end", START, END)), live=None),
        ),
        Column(
            "records_kept",
            "建立流入育龄妇女信息卡数",
            Count("person", where=(*_IN, eq("card_type", "woman")), live=None),
        ),
        _service("health_check", "done_date", "health_checks", "为流入妇女生殖健康检查（人次）"),
        _service("follow_up", "visit_date", "follow_ups", "为流入妇女随访服务（人次）"),
        _service("supply_handout", "handout_date", "supplies", "为流入妇女发放药具（人次）"),
        _service("check_report_slip", "issued_date", "slips", "出具避孕节育情况报告单（份）"),
        Column(
            "services",
            "服务合计（人次）",
            Formula("health_checks + follow_ups + supplies + slips"),
        ),
        Column(
            "births_in",
            "流入妇女生育数",
            Count("birth", date="birth_date", via="mother_ref", subject=_CAME_IN),
        ),
        Column(
            "births_out",
            "流出妇女生育数",
            Count("birth", date="birth_date", via="mother_ref", subject=_OUT),
        ),
        Column("notices_sent", "发出通报（件）", Count(NOTIFICATION_KIND, where=_SENT, date="day")),
        Column(
            "notices_on_time",
            "其中：户籍地按时反馈（件）",
            Count(NOTIFICATION_KIND, where=(*_SENT, *_ON_TIME), date="day"),
        ),
        Column(
            "notices_received",
            "收到通报（件）",
            Count(NOTIFICATION_KIND, where=_RECEIVED, date="day"),
        ),
        Column(
            "notices_answered_on_time",
            "其中：本县按时反馈（件）",
            Count(NOTIFICATION_KIND, where=(*_RECEIVED, *_ON_TIME), date="day"),
        ),
    ),
    notes="Floating women aged 18-49 at the end of the statistical year who crossed a county "
    "line (篇10 第3条): floated in from another county, or floated out to one, by their "
    "floating records. Annual only. Services are those given here to women who floated "
    "in. Notifications: sent to the hukou places of women who floated in, counted in the "
    "village where she lives on the day first delivered; received from residence places, "
    "counted in her hukou village on the day received; 按时反馈 when the hukou place "
    "answered within 5 working days of receipt (篇10 第24条).",
)
