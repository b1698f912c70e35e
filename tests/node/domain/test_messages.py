# SPDX-License-Identifier: Apache-2.0
"""The bilingual catalogue: every code has Chinese and English with the same parameters."""

from __future__ import annotations

import re
import string

import pytest

from node.domain.messages import CATALOGUE, Message, is_rule_code, message, problem

CJK = re.compile(r"[\u4e00-\u9fff]")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_is_bilingual(code):
    zh, en = CATALOGUE[code]
    assert CJK.search(zh), f"{code}: Chinese text has no Chinese"
    assert en and not CJK.search(en), f"{code}: English text missing or not English"
    assert placeholders(zh) == placeholders(en)


def test_message_renders_both_languages():
    m = message("text_too_long", max=40)
    assert Message("text_too_long", "不能超过40个字", "Must be at most 40 characters.") == m
    p = problem("name", "text_too_long", max=40)
    assert ("name", "text_too_long") == (p.field, p.code)


def test_unknown_code_is_a_programming_mistake():
    with pytest.raises(KeyError):
        message("no_such_code")


def test_rule_codes():
    assert is_rule_code("rule.no_consent")
    assert not is_rule_code("required")
