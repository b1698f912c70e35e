# SPDX-License-Identifier: Apache-2.0
"""The monthly registers (登记册) and the monthly change report (月变更报告单).

Registers are views over the village's records, printed monthly (篇3 第27条, 篇4 第45条);
the change report lists the month's demographic changes for the township's check (篇4
第44条). Printing (``print_register``, ``print_slip``) archives what was printed, signed,
and audits it; building alone reads and prints nothing.
Building is pure and only reads the node's database; rendering to CSV or .xlsx is separate
(style.md rule 28), so a page, the CLI and a test all use the same built register.

Example::

    register = build_register(store.db, "births", "2026-03")
    with open("births.csv", "w", encoding="utf-8", newline="") as fp:
        render_csv(register, fp)
    render_xlsx(build_monthly_change_report(store.db, "2026-03"), "changes-2026-03.xlsx")
"""

from node.registers.build import build_register, get_definition, register_names
from node.registers.changes import build_monthly_change_report
from node.registers.definitions import REGISTERS, ColumnSpec, RegisterDef
from node.registers.model import Column, MonthRange, Register, Section, parse_month
from node.registers.printing import Printed, print_register, print_slip
from node.registers.render import render_csv, render_xlsx
from node.registers.slip import build_slip

__all__ = [
    "REGISTERS",
    "Column",
    "ColumnSpec",
    "MonthRange",
    "Printed",
    "Register",
    "RegisterDef",
    "Section",
    "build_monthly_change_report",
    "build_register",
    "build_slip",
    "get_definition",
    "parse_month",
    "print_register",
    "print_slip",
    "register_names",
    "render_csv",
    "render_xlsx",
]
