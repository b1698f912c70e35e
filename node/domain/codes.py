# SPDX-License-Identifier: Apache-2.0
"""Every coded value a record may hold, with the Chinese a person reads for it.

The store keeps stable English codes (``married``, ``iud_insertion``) so that the county
can count them; forms, registers, reports and messages show only the Chinese beside them.
This is the one table of those pairs: the schemas put each set in their fields'
metadata, and the registers, the county's reports and the pages read it from there.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

Labels = MappingProxyType[str, str]


def labels(**pairs: str) -> Labels:
    """An immutable code -> Chinese label set, in the order written (the form's order)."""
    return MappingProxyType(dict(pairs))


SEXES: Final = labels(F="女", M="男")
CARD_TYPES: Final = labels(woman="育龄妇女", family="家庭成员")
MARITAL_STATUSES: Final = labels(
    unmarried="未婚", married="已婚", divorced="离婚", widowed="丧偶", remarried="再婚"
)
MARRIED: Final = frozenset({"married", "remarried"})
# A member's relationship to the head of the household (与户主关系, as the hukou booklet
# writes it): a household is the people registered at one hukou address, and one of
# them is its head (户主).
HOUSEHOLD_RELATIONS: Final = labels(
    head="户主",
    spouse="配偶",
    child="子女",
    child_in_law="儿媳/女婿",
    grandchild="孙子女/外孙子女",
    parent="父母",
    parent_in_law="公婆/岳父母",
    grandparent="祖父母/外祖父母",
    sibling="兄弟姐妹",
    other="其他",
)
HEAD: Final = "head"
# What the card says of the person's floating (流动) state; kept in step by floating
# records (node/domain/effects.py), never typed into the card.
FLOATING_STATUSES: Final = labels(resident="未流动", flowed_out="流出", flowed_in="流入")
# Hukou moves (户籍迁移): the registered residence moves; the old village closes the card.
MOVE_DIRECTIONS: Final = labels(out="迁出", **{"in": "迁入"})
MOVE_REASONS: Final = labels(
    work="务工经商", marriage="婚姻迁移", study="学习", family="投亲靠友", other="其他"
)
# Floating (流动): the person lives elsewhere while the hukou stays (domain.md section 2).
FLOATING_EVENTS: Final = labels(
    flow_out="流出（户籍在本村，外出居住）",
    flow_in="流入（户籍在外地，来本村居住）",
    **{"return": "流出人员返回本村居住"},
    leave="流入人员离开本村",
)
MARITAL_CHANGES: Final = labels(divorced="离婚", widowed="丧偶")
PROCEDURE_METHODS: Final = labels(
    iud_insertion="放置宫内节育器",
    iud_removal="取出宫内节育器",
    female_sterilisation="女性绝育术",
    male_sterilisation="男性绝育术",
    implant_insertion="皮下埋植",
    implant_removal="取出皮下埋植剂",
    other="其他",
)
CHECK_TYPES: Final = labels(
    reproductive_health="生殖健康检查",
    gynaecological="妇科检查",
    pregnancy_check="孕情检查",
    pre_pregnancy="孕前优生健康检查",
    contraceptive_status="节育情况检查",
)
# Checks of contraceptive status in any form: never organised for an unmarried woman
# (篇7 四(一)); the store applies ``rules.check_no_contraceptive_check_unmarried``.
CONTRACEPTIVE_STATUS_CHECKS: Final = frozenset({"pregnancy_check", "contraceptive_status"})
# The categories of Table 3 (已婚育龄夫妇节育情况), so follow-ups count straight into it.
METHODS_IN_USE: Final = labels(
    iud="宫内节育器",
    female_sterilisation="女性绝育",
    male_sterilisation="男性绝育",
    implant="皮下埋植",
    pill_injection="口服及注射避孕药",
    condom="避孕套",
    other="其他",
    none="未采取措施",
)
CHECK_RESULTS: Final = labels(normal="未见异常", see_doctor="建议就医复查")
SUPPLY_ITEMS: Final = labels(
    condom="避孕套", pill="口服避孕药", injection="避孕针剂", spermicide="外用杀精剂", other="其他"
)
BENEFIT_PROGRAMMES: Final = labels(
    reward_support="农村部分计划生育家庭奖励扶助",
    special_support="计划生育家庭特别扶助",
    other="其他",
)
BENEFIT_CHANGES: Final = labels(
    new="新增", moved_in="迁入", moved_out="迁出", died="死亡", stopped="停止"
)
ACTIVE_CHANGES: Final = frozenset({"new", "moved_in"})
REVIEW_RESULTS: Final = labels(passed="符合条件", not_passed="不符合条件")
BENEFIT_CHECK_RESULTS: Final = labels(
    confirmed="本人健在，核验通过", died="本人已死亡", absent="未见到本人"
)
COMPLAINT_CATEGORIES: Final = labels(complaint="信访（投诉、咨询）", tip_off="举报")
COMPLAINT_CHANNELS: Final = labels(visit="来访", phone="来电", letter="来信", online="网上信访")
COMPLAINT_STATUSES: Final = labels(
    received="已受理", investigating="调查处理中", answered="已答复", closed="已办结"
)
REPORTS: Final = labels(
    monthly_change_report="村月变更报告单",
    township_monthly_report="乡镇月报表",
    semiannual_tables_township="乡镇半年报表",
    annual_tables_township="乡镇年报表",
    benefit_fund_stats_april="奖励扶助金统计（4月）",
    benefit_fund_stats_october="奖励扶助金统计（10月，统计年度）",
)
