# SPDX-License-Identifier: Apache-2.0
"""Card files for ``renkou node add``: the encodings a village PC produces, one card or many.

Notepad on a Chinese Windows PC saves UTF-8 with a byte-order mark, or GBK ("ANSI");
both are read (GBK with a note, since a file that is neither would be misread as GBK
only if it also decodes as GBK, which the note lets the officer check). A file holds
one card (a JSON object), many (a JSON array) or one card per line (JSON lines), so a
village's cards go in one process and one transaction instead of a process each.
"""

from __future__ import annotations

import json
from typing import Any

import click

from node.errors import FieldProblem, ValidationError

MAX_FILE = 50 * 1024 * 1024
MAX_CARDS = 100_000


def _refuse(code: str, zh: str, en: str) -> ValidationError:
    return ValidationError([FieldProblem("file", code, zh, en)])


def decode_text(raw: bytes) -> tuple[str, str | None]:
    """The file's text, and a note when it was not UTF-8.

    Raises:
        ValidationError: neither UTF-8 nor GBK.
    """
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gbk"), "文件不是 UTF-8 编码，已按 GBK 读取 / read as GBK (not UTF-8)"
    except UnicodeDecodeError:
        raise _refuse(
            "file.encoding",
            "文件编码无法识别：请用记事本“另存为”UTF-8 编码",
            "the file is neither UTF-8 nor GBK; save it as UTF-8",
        ) from None


def read_cards(raw: bytes) -> tuple[list[dict[str, Any]], str | None]:
    """The cards in a file, and the encoding note of :func:`decode_text`.

    Raises:
        ValidationError: too large, not JSON, or an item that is not an object (with
            its line or position).
    """
    if len(raw) > MAX_FILE:
        raise _refuse("file.too_large", "文件过大（超过 50 MB）", "the file is larger than 50 MB")
    text, note = decode_text(raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        data = _json_lines(text, exc)
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_CARDS:
        raise _refuse(
            "file.too_many", f"一次最多{MAX_CARDS}条", f"at most {MAX_CARDS} records at once"
        )
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise _refuse(
                "file.not_object",
                f'第{n}条不是一个对象（应为 {{"字段": 值}}）',
                f"item {n} is not a JSON object",
            )
    return items, note


def _json_lines(text: str, first: json.JSONDecodeError) -> list[Any]:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise _refuse(
            "file.not_json",
            f"不是有效的 JSON：第{first.lineno}行第{first.colno}列",
            f"not valid JSON: {first}",
        )
    out = []
    for n, line in enumerate(lines, start=1):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _refuse(
                "file.not_json",
                f"不是有效的 JSON：第{n}行第{exc.colno}列",
                f"not valid JSON on line {n}: {exc}",
            ) from None
    return out


class KindsHelpCommand(click.Command):
    """A command whose help ends with :func:`kinds_help`, worked out only when the help
    is shown (it reads every schema; ``renkou`` should start fast otherwise)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = kinds_help()
        super().format_epilog(ctx, formatter)


def kinds_help() -> str:
    """The kinds ``node add`` accepts and their fields (required ones starred), with
    the Chinese names officers know them by, and an example card."""
    from wcwidth import wcswidth

    from node.domain.records import RECORD_KINDS
    from node.domain.schemas.fields import Choice
    from node.i18n import gettext as _
    from node.pages.labels import choice_labels, field_label, kind_label, schema_fields

    lines = [
        "\b",
        _(
            "Kinds and their fields (* required); a coded value may be given as its code or "
            "its Chinese name (F or 女):"
        ),  # fmt: skip
    ]
    for kind in RECORD_KINDS:
        names = []
        for name, f in schema_fields(kind).items():
            codes = ""
            if isinstance(f, Choice):
                pairs = choice_labels(kind, name, f.choices)
                codes = ": " + " ".join(f"{c}={label}" for c, label in pairs)
            names.append(f"{name}{'*' if f.required else ''}({field_label(kind, name)}{codes})")
        lines.append(f"  {kind} {kind_label(kind)}:")
        line = "    "
        for name in names:
            if wcswidth(line) + wcswidth(name) > 96 and line.strip():
                lines.append(line.rstrip())
                line = "    "
            line += name + " "
        lines.append(line.rstrip())
    lines += ["", "\b", _("Example card (person):"), *EXAMPLE.splitlines()]
    lines.append("  " + _("A file may hold one card, a JSON array of cards, or one card per line."))
    return "\n".join(lines)


EXAMPLE = """  {"card_type": "woman", "id_number": "44132219900315002X", "name": "张三妹",
   "sex": "F", "birth_date": "1990-03-15", "hukou_code": "441322119001",
   "hukou_address": "上南村3组45号", "residence_code": "441322119001",
   "residence_address": "上南村3组45号", "marital_status": "married",
   "household_relation": "户主"}"""
