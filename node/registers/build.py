# SPDX-License-Identifier: Apache-2.0
"""Building a register: the live records of a month, joined to the cards they name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlite_utils import Database

from node.errors import FieldProblem, ValidationError
from node.registers.definitions import REGISTERS, ColumnSpec, RegisterDef
from node.registers.labels import REF_KINDS, display_value
from node.registers.model import Column, Register, parse_month, parse_year
from node.store.lookup import RecordLookup, node_name

NO = Column("no", "序号")
RECORD_ID = Column("record_id", "记录编号")

T = TypeVar("T")


def register_names() -> list[str]:
    """The English names of every register, in the order of domain.md section 2."""
    return list(REGISTERS)


def get_definition(name: Any) -> RegisterDef:
    """The definition of register ``name``.

    Raises:
        ValidationError: no register has that name (the message lists the names).
    """
    found = REGISTERS.get(name) if isinstance(name, str) else None
    if found is None:
        names = "、".join(REGISTERS)
        raise ValidationError(
            [
                FieldProblem(
                    "register",
                    "register.unknown",
                    f"没有这个登记册，可选：{names}",
                    f"No such register; choose one of: {', '.join(REGISTERS)}.",
                )
            ]
        )
    return found


def build_register(db: Database, name: str, month: str) -> Register:
    """Build register ``name`` of the node in ``db`` for ``month``.

    Lists the live records whose date field falls in the month (Asia/Shanghai calendar
    dates, as officers write them), oldest first, numbered from 1; a column of a
    referenced card (name, ID number, addresses) is read from that card. An annual
    register (births to floating women) takes a statistical year instead (2026Y).

    Building only reads and audits nothing: printing a register is
    :func:`node.registers.printing.print_register`, which archives and audits it.

    Args:
        db: the node's database (``NodeStore.db``); only read.
        name: a register name such as ``"marriages"`` (see :func:`register_names`).
        month: the month as 'YYYY-MM' (the statistical year as 'YYYYY' for an annual
            register).

    Returns:
        The register: title, columns (序号 first, 记录编号 last), rows of printed values,
        and for supplies and benefits the table printed under it.

    Raises:
        ValidationError: ``name`` is not a register or ``month`` is not 'YYYY-MM'
            (both problems are reported together).
    """
    problems: list[FieldProblem] = []
    definition = _collect(get_definition, name, problems)
    parse = parse_year if definition is not None and definition.annual else parse_month
    month_range = _collect(parse, month, problems)
    if definition is None or month_range is None:
        raise ValidationError(problems)
    lookup = RecordLookup(db)
    first, last = month_range.first.isoformat(), month_range.last.isoformat()
    found = lookup.between(definition.kind, definition.date_field, first, last)
    if definition.keep is not None:
        found = [(rid, data) for rid, data in found if definition.keep(lookup, data)]
    tail = () if definition.public else (RECORD_ID,)
    rows = [
        {"no": n, **_values(lookup, definition, data), **({} if definition.public else
                                                           {"record_id": record_id})}
        for n, (record_id, data) in enumerate(found, start=1)
    ]  # fmt: skip
    sections = definition.sections(lookup, month_range) if definition.sections else ()
    return Register(
        title=definition.title,
        columns=(NO, *(Column(c.key, c.heading) for c in definition.columns), *tail),
        rows=rows,
        name=definition.name,
        village=node_name(db),
        month=month_range.month,
        sections=sections,
    )


def _collect(check: Callable[[Any], T], arg: Any, problems: list[FieldProblem]) -> T | None:
    """Run one argument check, keeping its problems so the officer sees all at once."""
    try:
        return check(arg)
    except ValidationError as exc:
        problems.extend(exc.problems)
        return None


def _values(lookup: RecordLookup, definition: RegisterDef, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in definition.columns:
        value = _read(lookup, c, data)
        out[c.key] = c.transform(value) if c.transform else display_value(c.field, value)
    return out


def _read(lookup: RecordLookup, column: ColumnSpec, data: dict[str, Any]) -> Any:
    if column.via is None:
        return data.get(column.field)
    target = lookup.get(REF_KINDS[column.via], data.get(column.via))
    return None if target is None else target.get(column.field)
