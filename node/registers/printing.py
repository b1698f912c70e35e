# SPDX-License-Identifier: Apache-2.0
"""Printing a register, a report or a slip: render it, archive it as printed, audit it.

The one door through which a register's personal data leaves the node, on screen or on
paper: the CLI and the pages call these, and the store keeps what was printed, signed,
with the audit row of who printed it and why (node/store/archive.py). Building a
register (``build_register``) only reads; it is printing that is audited.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from node.domain.text import terminal_safe
from node.errors import FieldProblem, ValidationError
from node.registers.build import build_register
from node.registers.changes import build_monthly_change_report
from node.registers.model import Column, Register
from node.registers.render import render_csv, render_xlsx
from node.registers.slip import build_slip
from node.store import archive
from node.store.store import NodeStore

FORMATS = ("csv", "xlsx", "print", "screen")
ARCHIVED = frozenset({"csv", "xlsx", "print"})
"""What leaves the screen (a file, a sheet of paper) is archived; a register shown on a
screen is audited only."""
MONTHLY_CHANGES = archive.MONTHLY_CHANGES


@dataclass(frozen=True)
class Printed:
    """What was printed: the register, the bytes, and the archive that keeps them
    (``archive_id`` None for a screen view, which is audited but not archived)."""

    register: Register
    output: bytes
    archive_id: int | None

    @property
    def text(self) -> str:
        """The screen's text (``screen`` or ``print``), already escaped for a terminal."""
        return self.output.decode("utf-8")


def print_register(
    store: NodeStore,
    name: str,
    period: str,
    fmt: str,
    *,
    actor: str,
    purpose: str,
    now: datetime | None = None,
) -> Printed:
    """Print register ``name`` (or ``monthly_change_report``, the change report) for a
    period.

    Raises:
        ValidationError: an unknown register, period or format (all listed together).
    """
    _check_format(fmt)
    if name == MONTHLY_CHANGES:
        register = build_monthly_change_report(store.db, period)
    else:
        register = build_register(store.db, name, period)
    return _print(store, register, name, period, fmt, actor, purpose, now)


def print_slip(
    store: NodeStore,
    slip_id: str,
    fmt: str,
    *,
    actor: str,
    purpose: str,
    now: datetime | None = None,
) -> Printed:
    """Print a check report slip with its stub (篇10 第23条)."""
    _check_format(fmt)
    register = build_slip(store.db, slip_id)
    return _print(store, register, "check_slip", slip_id, fmt, actor, purpose, now)


def render_bytes(register: Register, fmt: str) -> bytes:
    """The bytes of ``register`` in ``fmt``: a CSV file, an .xlsx file, or its text (the
    screen's, and what a print view's sheet holds)."""
    if fmt == "csv":
        text = io.StringIO(newline="")
        render_csv(register, text)
        return text.getvalue().encode("utf-8")
    if fmt == "xlsx":
        out = io.BytesIO()
        render_xlsx(register, out)
        return out.getvalue()
    return "\n".join(screen_lines(register)).encode("utf-8")


def screen_lines(register: Register) -> list[str]:
    """The register as terminal lines, every value escaped (node.domain.text)."""
    lines = [register.full_title]
    for title, columns, rows in _tables(register):
        if title:
            lines += ["", title]
        lines.append(" | ".join(c.heading for c in columns))
        lines += [" | ".join(str(row.get(c.key, "")) for c in columns) for row in rows]
    return [terminal_safe(line) for line in lines]


def content_of(register: Register) -> dict[str, Any]:
    """The register as canonical-JSON data (what the archive's signature covers)."""
    return {
        "title": _nfc(register.full_title),
        "tables": [
            {
                "title": _nfc(title),
                "columns": [_nfc(c.heading) for c in columns],
                "rows": [[_cell(row.get(c.key)) for c in columns] for row in rows],
            }
            for title, columns, rows in _tables(register)
        ],
    }


def _tables(
    register: Register,
) -> list[tuple[str, tuple[Column, ...], list[dict[str, Any]]]]:
    main = ("", register.columns, register.rows)
    return [main, *((s.title, s.columns, s.rows) for s in register.sections)]


def _cell(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _nfc("" if value is None else str(value))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _print(
    store: NodeStore,
    register: Register,
    name: str,
    period: str,
    fmt: str,
    actor: str,
    purpose: str,
    now: datetime | None,
) -> Printed:
    output = render_bytes(register, fmt)
    if fmt not in ARCHIVED:
        store.audit(actor, archive.print_action(name), name, period, purpose)
        return Printed(register, output, None)
    archive_id = archive.keep(
        store,
        name=name,
        period=period,
        title=_nfc(register.full_title),
        content=content_of(register),
        output=output,
        fmt=fmt,
        actor=actor,
        purpose=purpose,
        now=now,
    )
    return Printed(register, output, archive_id)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError(
            [
                FieldProblem(
                    "format",
                    "print.format",
                    "打印格式应为 csv、xlsx 或 screen（屏幕）",
                    "The format is csv, xlsx or screen.",
                )
            ]
        )


__all__ = ["FORMATS", "Printed", "print_register", "print_slip", "render_bytes", "screen_lines"]
