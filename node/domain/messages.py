# SPDX-License-Identifier: Apache-2.0
"""The bilingual message catalogue of every validator and rule in ``node.domain``.

Officers read these messages in Chinese, the county's technicians and logs in English, so
one stable code maps to one pair of templates and no validator writes its own wording.
Templates take only non-personal parameters (limits, choices, field names): an error may be
logged, and a message that echoed an ID number or a name would leak it into the log.

Codes starting with ``rule.`` are safeguards of the law in force (domain.md section 5); the
record validator raises :class:`node.errors.RuleViolation` when those are the only problems.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.errors import FieldProblem

RULE_PREFIX = "rule."

CATALOGUE: dict[str, tuple[str, str]] = {
    # Shape of the record and of single fields.
    "required": ("此项必填", "This field is required."),
    "null": ("此项不能为空", "This field may not be null."),
    "unknown_field": ("不认识的字段，请删除", "Unknown field; remove it."),
    "not_object": ("记录必须是字段和值的对象", "The record must be an object of fields."),
    "unknown_kind": ("不认识的记录类型", "Unknown record kind."),
    "invalid": ("内容无效", "Invalid value."),
    "not_text": ("应填写文字", "Must be text."),
    "text_empty": ("不能为空白", "Must not be blank."),
    "text_too_long": ("不能超过{max}个字", "Must be at most {max} characters."),
    "text_control_char": (
        "第{position}个字符是控制字符或看不见的格式字符（如零宽空格、文字方向控制符、换行），"
        "请删除后重新输入",
        "Character {position} is a control or invisible format character (a zero-width "
        "space, a direction override, a line break...); remove it.",
    ),
    "not_one_of": ("请从以下选项中选择：{choices}", "Must be one of: {choices}."),
    "not_integer": ("应填写整数", "Must be a whole number."),
    "out_of_range": ("应在{lo}到{hi}之间", "Must be between {lo} and {hi}."),
    "not_boolean": ("应填写 true（是）或 false（否）", "Must be true or false."),
    "not_digits": ("只能填写数字", "Must contain digits only."),
    "digits_length": ("应为{lo}到{hi}位数字", "Must be {lo} to {hi} digits."),
    "ref_invalid": ("记录编号格式不对", "Not a valid record reference."),
    # Dates.
    "date_format": ("日期格式应为 YYYY-MM-DD", "A date must be written YYYY-MM-DD."),
    "invalid_date": ("不是有效的日期", "Not a real calendar date."),
    "date_too_early": ("日期不能早于1900年", "The date must not be before 1900."),
    "date_in_future": ("日期不能晚于今天", "The date must not be later than today."),
    "date_order": ("日期不能早于 {other}", "The date must not be before {other}."),
    "date_not_after": ("日期应晚于 {other}", "The date must be after {other}."),
    # Resident ID numbers (GB 11643-1999).
    "id_number.length": ("身份证号码应为18位", "A resident ID number has 18 characters."),
    "id_number.characters": (
        "身份证号码前17位应为数字，最后一位为数字或X",
        "The first 17 characters must be digits and the last a digit or X.",
    ),
    "id_number.check_digit": (
        "身份证号码校验码不符，可能输错了数字",
        "The check digit does not match; a digit was probably mistyped.",
    ),
    "id_number.region": (
        "身份证号码前6位不是有效的行政区划代码",
        "The first six digits are not a valid region code.",
    ),
    "id_number.birth_date": (
        "身份证号码中的出生日期不是有效日期",
        "The birth date inside the ID number is not a real date.",
    ),
    "id_number.birth_future": (
        "身份证号码中的出生日期晚于今天",
        "The birth date inside the ID number is later than today.",
    ),
    "id_number.birth_too_early": (
        "身份证号码中的出生日期早于1900年",
        "The birth date inside the ID number is before 1900.",
    ),
    "id_number.birth_mismatch": (
        "出生日期与身份证号码不一致",
        "The birth date does not match the ID number.",
    ),
    "id_number.sex_mismatch": ("性别与身份证号码不一致", "The sex does not match the ID number."),
    # Administrative division codes.
    "division.length": (
        "区划代码应为{lengths}位数字",
        "A division code here has {lengths} digits.",
    ),
    "division.not_digits": ("区划代码只能包含数字", "A division code contains digits only."),
    "division.zero_segment": (
        "区划代码的{level}部分不能全为0",
        "The {level} part of a division code must not be all zeros.",
    ),
    "division.unknown_county": (
        "不是有效的县级区划代码（{edition}年版）",
        "Not a county-level code of the official list ({edition} edition).",
    ),
    "division.county_prefix": (
        "代码前6位不是有效的县级区划代码（{edition}年版）",
        "The first six digits are not a county-level code of the official list "
        "({edition} edition).",
    ),
    "division.unknown_township": (
        "不是已知的乡镇（街道）代码，既不在{edition}年版名录中，也不在本县节点登记中",
        "Not a known township code: neither in the {edition} official list nor in the "
        "county's registry of its nodes.",
    ),
    "division.township_prefix": (
        "代码前9位不是已知的乡镇（街道）代码",
        "The first nine digits are not a known township code.",
    ),
    "division.not_in_registry": (
        "本县节点登记中没有这个村（居）代码",
        "This village code is not in the county's registry of its nodes.",
    ),
    # Consistency inside one record.
    "woman_card_sex": (
        "育龄妇女信息卡只登记女性，其他人请用家庭成员卡",
        "A woman's information card is for women only; use a family card otherwise.",
    ),
    "unmarried_with_marriage_date": (
        "婚姻状况为未婚时不应填写初婚日期",
        "An unmarried person has no first-marriage date.",
    ),
    "same_place": ("迁出地和迁入地不能相同", "The from and to places must differ."),
    "floating_needs": ("流入或流出人员须填写此项", "A floating person's card needs this field."),
    "amount_needed": (
        "新增、迁入或发证的扶助对象须填写扶助金额（元/年）",
        "A new, moved-in or certified recipient needs the annual amount (yuan).",
    ),
    "step_incomplete": (
        "此步骤的日期与其结果（或编号）须同时填写",
        "A step's date and its result (or number) are recorded together.",
    ),
    "review_not_passed": (
        "上一级审核结果为不符合条件，不能进行此步骤",
        "The previous review did not pass, so this step cannot follow.",
    ),
    "period_format": (
        "统计期格式应为 YYYY-MM（月）、YYYYH1（上半年）或 YYYYY（统计年度）",
        "A period is YYYY-MM, YYYYH1 or YYYYY.",
    ),
    "answered_without_date": (
        "状态为已答复时须填写答复日期",
        "Status 'answered' needs an answered_date.",
    ),
    # Safeguards of the law in force (domain.md section 5).
    "rule.before_birth": ("日期早于本人出生日期", "The date is before the person's birth."),
    "rule.mother_too_young": (
        "母亲生育时不满{min_age}周岁，不合常理，请核实",
        "The mother would be under {min_age} at the birth, which is implausible; please check.",
    ),
    "rule.after_death": ("日期晚于本人死亡日期", "The date is after the person's death."),
    "rule.pregnancy_check_unmarried": (
        "不得为未婚女性安排孕情检查",
        "An unmarried woman is never scheduled for a pregnancy check.",
    ),
    "rule.contraceptive_check_unmarried": (
        "不得对未婚女性开展任何形式的避孕节育情况检查（含孕情检查、节育情况检查、"
        "非术后的节育随访和避孕节育情况报告单）",
        "No contraceptive-status check of any kind is organised for an unmarried woman "
        "(pregnancy checks, checks of the method in use, contraception follow-ups other "
        "than aftercare of a procedure, check report slips).",
    ),
    "rule.no_consent": (
        "节育手术只能在本人知情选择、同意后登记",
        "A contraceptive procedure is recorded only as chosen with informed consent.",
    ),
    "rule.return_to_hukou": (
        "不得要求回户籍地检查，检查可以在现居住地进行",
        "No one is made to return to the hukou place for a check; "
        "it may be done at the residence place.",
    ),
    "rule.stock_negative": (
        "{date}的库存将变为{balance}：发放数量超过当时的库存",
        "The stock on {date} would be {balance}: more handed out than was on hand.",
    ),
    "rule.age_band": (
        "年龄应在{lo}至{hi}周岁之间",
        "The person must be aged {lo} to {hi}.",
    ),
}


@dataclass(frozen=True, slots=True)
class Bilingual:
    """A message parameter spelled per language (a list of choices: labels for the
    Chinese text, codes for the English one)."""

    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered message not yet tied to a field (a validator does not know its path)."""

    code: str
    zh: str
    en: str

    def at(self, field: str) -> FieldProblem:
        """Attach the message to the field path the caller knows."""
        return FieldProblem(field, self.code, self.zh, self.en)


def message(code: str, **params: object) -> Message:
    """Render the catalogue entry ``code`` with ``params``.

    Raises:
        KeyError: ``code`` is not in the catalogue (a programming mistake, caught by tests).
    """
    zh, en = CATALOGUE[code]
    zh_params = {k: v.zh if isinstance(v, Bilingual) else v for k, v in params.items()}
    en_params = {k: v.en if isinstance(v, Bilingual) else v for k, v in params.items()}
    return Message(code, zh.format(**zh_params), en.format(**en_params))


def problem(field: str, code: str, **params: object) -> FieldProblem:
    """A :class:`FieldProblem` for ``field`` with the catalogue's wording for ``code``."""
    return message(code, **params).at(field)


def is_rule_code(code: str) -> bool:
    """True for the safeguards of section 5, which make a refusal a RuleViolation."""
    return code.startswith(RULE_PREFIX)
