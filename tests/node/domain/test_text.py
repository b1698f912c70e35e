# SPDX-License-Identifier: Apache-2.0
"""Issue 13 item 9 / facts 11-12: control and format characters never enter a record,
and nothing a record holds can drive a terminal."""

from __future__ import annotations

import pytest

from node.domain.records import validate_record
from node.domain.text import escape_refused, first_refused, terminal_safe
from node.errors import ValidationError

from .examples import TODAY, example, woman_card

HOSTILE = {
    "zero-width space": "张\u200b秀英",
    "zero-width joiner": "张\u200d秀英",
    "byte-order mark": "\ufeff张秀英",
    "right-to-left override": "张秀英\u202e2026",
    "bidi isolate": "张\u2066秀英\u2069",
    "NUL": "张\x00秀英",
    "newline": "张秀英\n李四",
    "carriage return": "张\r秀英",
    "ANSI escape": "\x1b[2J张秀英",
    "C1 control": "张\x9b秀英",
    "DEL": "张秀英\x7f",
    "line separator": "张\u2028秀英",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_names_with_control_or_format_characters_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record("person", woman_card(name=HOSTILE[name]), today=TODAY)
    (problem,) = caught.value.problems
    assert (problem.field, problem.code) == ("name", "text_control_char")
    assert "控制字符" in problem.zh and "control" in problem.en
    assert HOSTILE[name].strip() not in problem.zh + problem.en  # the value is not echoed


def test_paragraph_fields_keep_line_breaks_but_nothing_else() -> None:
    ok = validate_record(
        "complaint", example("complaint", content="第一段\r\n第二段\r第三段"), today=TODAY
    )
    assert ok["content"] == "第一段\n第二段\n第三段"
    with pytest.raises(ValidationError) as caught:
        validate_record("complaint", example("complaint", content="内容\x1b[31m"), today=TODAY)
    assert caught.value.problems[0].field == "content"
    with pytest.raises(ValidationError):
        validate_record("complaint", example("complaint", subject="事由\n第二行"), today=TODAY)


def test_rare_characters_stay_allowed() -> None:
    """Private-use and newer ideographs are how rare characters (生僻字) are typed."""
    for name in ("张\ue000英", "王𪚥", "李䶮"):
        assert validate_record("person", woman_card(name=name), today=TODAY)["name"] == name


def test_positions_are_one_based() -> None:
    assert first_refused("ab\u200bc") == 3 and first_refused("abc") is None
    assert first_refused("a\nb", multiline=True) is None


def test_terminal_output_is_escaped() -> None:
    assert terminal_safe("张\x1b[2J\u202e秀\n") == "张\\x1b[2J\\u202e秀\\x0a"
    assert terminal_safe("普通文字 123") == "普通文字 123"
    assert escape_refused("一\n二\x00") == "一\n二\\x00"
