# SPDX-License-Identifier: Apache-2.0
"""Chinese names of record kinds, fields and coded values, as printed on the forms.

The store keeps stable English codes (``married``, ``iud_insertion``) so that the
county can count them; the registers an officer prints and signs say 已婚 and
放置宫内节育器. One table here serves every register and the monthly change report, so
the same code is never translated two ways. A code this table does not know (a value
added by a later ruleset) is printed as stored rather than hidden.
"""

from __future__ import annotations

from typing import Any

from node.domain.records import REF_KINDS as REF_KINDS
from node.domain.records import SEALED_FIELDS as _SEALED

# A complainant's identity is never revealed to the party complained about, nor to the
# township officers handling the complaint (篇4 第18条).
SEALED_FIELDS: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in _SEALED.items()}

# The reference that says whose record it is (the person the change report names).
SUBJECT_REFS = ("person_ref", "woman_ref", "mother_ref", "parent_ref")

KIND_LABELS: dict[str, str] = {
    "person": "人员信息卡",
    "marriage": "婚姻",
    "pregnancy": "怀孕",
    "birth": "出生",
    "birth_registration": "生育登记",
    "death": "死亡",
    "move": "迁入迁出",
    "contraceptive_procedure": "计划生育手术",
    "health_check": "健康检查",
    "follow_up": "随访",
    "supply_receipt": "药具入库",
    "supply_handout": "药具发放",
    "benefit": "奖励扶助",
    "complaint": "信访",
    "only_child_certificate": "独生子女父母光荣证",
}

FIELD_LABELS: dict[str, dict[str, str]] = {
    "person": {
        "card_type": "卡片类别",
        "id_number": "身份证号码",
        "name": "姓名",
        "sex": "性别",
        "birth_date": "出生日期",
        "ethnicity": "民族",
        "hukou_code": "户籍地区划代码",
        "hukou_address": "户籍地址",
        "residence_code": "现居住地区划代码",
        "residence_address": "现居住地址",
        "marital_status": "婚姻状况",
        "first_marriage_date": "初婚日期",
        "spouse_ref": "配偶",
        "phone": "联系电话",
        "floating_status": "流动状态",
        "floating_since": "流动起始日期",
        "floating_place": "流入（流出）地",
    },
    "marriage": {
        "woman_ref": "女方",
        "husband_name": "男方姓名",
        "husband_id_number": "男方身份证号码",
        "marriage_date": "结婚日期",
        "first_marriage": "是否初婚",
        "registered_at": "婚姻登记机关",
    },
    "pregnancy": {
        "woman_ref": "孕妇",
        "registered_date": "登记日期",
        "last_menstrual_date": "末次月经日期",
        "expected_date": "预产期",
        "care_place": "孕期保健地点",
    },
    "birth": {
        "mother_ref": "母亲",
        "child_name": "婴儿姓名",
        "child_sex": "婴儿性别",
        "birth_date": "出生日期",
        "birth_order": "孩次",
        "birth_place": "出生地点",
        "weight_g": "出生体重（克）",
        "child_id_number": "婴儿身份证号码",
    },
    "birth_registration": {
        "mother_ref": "母亲",
        "father_name": "父亲姓名",
        "father_id_number": "父亲身份证号码",
        "child_order": "孩次",
        "registered_date": "登记日期",
        "village_opinion_date": "村级意见日期",
        "forwarded_date": "报送乡镇日期",
        "certificate_no": "生育登记服务单编号",
    },
    "death": {"person_ref": "死者", "death_date": "死亡日期", "place": "死亡地点"},
    "move": {
        "person_ref": "迁移人员",
        "direction": "迁移方向",
        "move_date": "迁移日期",
        "from_code": "迁出地代码",
        "to_code": "迁入地代码",
        "address": "地址",
        "reason": "迁移原因",
    },
    "contraceptive_procedure": {
        "person_ref": "受术者",
        "method": "手术类别",
        "chosen_date": "自主选择日期",
        "procedure_date": "手术日期",
        "provider": "施术单位",
        "informed_consent": "知情同意",
    },
    "health_check": {
        "person_ref": "受检者",
        "check_type": "检查类别",
        "scheduled_date": "预约日期",
        "done_date": "检查日期",
        "place": "检查地点",
        "requires_return_to_hukou": "是否需回户籍地",
        "result_summary": "检查结果摘要",
    },
    "follow_up": {
        "person_ref": "随访对象",
        "procedure_ref": "相关手术",
        "visit_date": "随访日期",
        "method_in_use": "现用节育措施",
        "notes": "随访记录",
    },
    "supply_receipt": {
        "item": "药具名称",
        "quantity": "数量",
        "received_date": "入库日期",
        "source": "来源",
    },
    "supply_handout": {
        "person_ref": "领取人",
        "item": "药具名称",
        "quantity": "数量",
        "handout_date": "发放日期",
    },
    "benefit": {
        "person_ref": "扶助对象",
        "programme": "扶助项目",
        "change": "变更类别",
        "effective_date": "生效日期",
        "checked_in_person_date": "本人核验日期",
    },
    "complaint": {
        "received_date": "受理日期",
        "channel": "信访形式",
        "subject": "事由",
        "content": "内容",
        "handled_date": "办理日期",
        "answered_date": "答复日期",
        "status": "办理状态",
    },
    "only_child_certificate": {
        "parent_ref": "持证人",
        "child_name": "子女姓名",
        "child_birth_date": "子女出生日期",
        "certificate_no": "证书编号",
        "issued_date": "发证日期",
    },
}

_SEX = {"F": "女", "M": "男"}

# Coded values by field name; no two kinds use one field name for different codes.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "sex": _SEX,
    "child_sex": _SEX,
    "card_type": {"woman": "育龄妇女", "family": "家庭成员"},
    "marital_status": {
        "unmarried": "未婚",
        "married": "已婚",
        "divorced": "离婚",
        "widowed": "丧偶",
        "remarried": "再婚",
    },
    "floating_status": {"resident": "常住", "flowed_out": "流出", "flowed_in": "流入"},
    "direction": {"out": "迁出", "in": "迁入"},
    "reason": {
        "work": "务工经商",
        "marriage": "婚姻迁移",
        "study": "学习",
        "family": "投亲靠友",
        "other": "其他",
    },
    "method": {
        "iud_insertion": "放置宫内节育器",
        "iud_removal": "取出宫内节育器",
        "female_sterilisation": "女性绝育术",
        "male_sterilisation": "男性绝育术",
        "implant_insertion": "皮下埋植",
        "implant_removal": "取出皮下埋植剂",
        "other": "其他",
    },
    "method_in_use": {
        "iud": "宫内节育器",
        "female_sterilisation": "女性绝育",
        "male_sterilisation": "男性绝育",
        "implant": "皮下埋植",
        "pill_injection": "口服及注射避孕药",
        "condom": "避孕套",
        "other": "其他",
        "none": "未采取措施",
    },
    "check_type": {
        "reproductive_health": "生殖健康检查",
        "gynaecological": "妇科检查",
        "pregnancy_check": "孕情检查",
        "pre_pregnancy": "孕前优生健康检查",
    },
    "item": {
        "condom": "避孕套",
        "pill": "口服避孕药",
        "injection": "避孕针剂",
        "spermicide": "外用杀精剂",
        "other": "其他",
    },
    "programme": {
        "reward_support": "农村部分计划生育家庭奖励扶助",
        "special_support": "计划生育家庭特别扶助",
        "other": "其他",
    },
    "change": {
        "new": "新增",
        "moved_in": "迁入",
        "moved_out": "迁出",
        "died": "死亡",
        "stopped": "停止",
    },
    "channel": {"visit": "来访", "phone": "来电", "letter": "来信", "online": "网上信访"},
    "status": {
        "received": "已受理",
        "investigating": "调查处理中",
        "answered": "已答复",
        "closed": "已办结",
    },
}

RETIRE_REASONS: dict[str, str] = {
    "entered_in_error": "录入错误",
    "duplicate": "重复记录",
    "retention": "保存期满删除",
}

# Items in the order the stock ledger lists them; unknown items follow alphabetically.
ITEM_ORDER = ("condom", "pill", "injection", "spermicide", "other")


def field_label(kind: str, field: str) -> str:
    """The printed name of ``field`` of ``kind`` (the code itself if unknown)."""
    return FIELD_LABELS.get(kind, {}).get(field, field)


def is_sealed(kind: str, field: str) -> bool:
    return field in SEALED_FIELDS.get(kind, frozenset())


def display_value(field: str, value: Any) -> Any:
    """A stored value as the form prints it: codes translated, booleans 是/否.

    Numbers stay numbers so that a spreadsheet can add them up; None becomes an
    empty cell rather than the word "None".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return VALUE_LABELS.get(field, {}).get(value, value)
    return value
