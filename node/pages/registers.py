# SPDX-License-Identifier: Apache-2.0
"""The registers (登记册) and the monthly change report, on screen, printed, as .xlsx.

Built by node/registers (the same build the CLI exports), shown as a table; the print
view is the official form (village, title, month, columns, signatures, page numbers on
A4); the download is the same .xlsx ``renkou node register`` writes. A register names
people, so every one goes through ``node.registers.printing``, which audits the view in
the store and archives what is printed or downloaded (signed, as printed).
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from flask import abort, g, render_template, request, send_file
from flask.typing import ResponseReturnValue

from node.errors import ValidationError
from node.pages.accounts import Right
from node.pages.context import get_store, today
from node.pages.guard import page_blueprint, requires
from node.registers import REGISTERS, Printed, print_register

bp = page_blueprint("registers", __name__, url_prefix="/registers")
REPORT = "monthly_change_report"
# ASCII digits only: \d also matches full-width ones (２０２６-０３), which int()
# reads but which would name the period differently from its ASCII twin.
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}\Z")
_MONTH_ZH = re.compile(r"([0-9]{4})年([0-9]{1,2})月\Z")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def last_month(day: date) -> str:
    return (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def asked_month(default: str) -> str:
    """The month of the page's month box ('YYYY-MM'), ``default`` when it is empty.

    The box is a text box showing 2026年3月, like the date boxes (node/pages/forms.py):
    a browser's own month picker speaks the browser's language ("March 2026"), not the
    page's. So it takes 2026年3月 as shown, or 2026-03 as the addresses carry it.

    Raises:
        werkzeug.exceptions.BadRequest: anything else (HTTP 400).
    """
    month = request.args.get("month", "").strip() or default
    written = _MONTH_ZH.match(month)
    if written is not None:
        month = f"{written[1]}-{int(written[2]):02d}"
    if not _MONTH.match(month):
        abort(400)
    return month


def _month() -> str:
    return asked_month(last_month(today()))


def _print(name: str, month: str, fmt: str, how: str) -> Printed:
    """Build, audit and (unless only shown) archive the register: node.registers.printing."""
    if name != REPORT and name not in REGISTERS:
        abort(404)
    try:
        return print_register(get_store(), name, month, fmt, actor=g.operator.name, purpose=how)
    except ValidationError:
        abort(400)


@bp.get("")
@requires(Right.REGISTERS)
def index() -> ResponseReturnValue:
    registers = [(name, d.title) for name, d in REGISTERS.items()]
    return render_template("registers.html", registers=registers, month=_month(), report=REPORT)


@bp.get("/<name>")
@requires(Right.REGISTERS)
def show(name: str) -> ResponseReturnValue:
    month = _month()
    register = _print(name, month, "screen", "shown on a page").register
    return render_template("register.html", reg=register, name=name, month=month, printing=False)


@bp.get("/<name>/print")
@requires(Right.REGISTERS)
def print_view(name: str) -> ResponseReturnValue:
    month = _month()
    register = _print(name, month, "print", "print view").register
    return render_template("register.html", reg=register, name=name, month=month, printing=True)


@bp.get("/<name>/xlsx")
@requires(Right.REGISTERS)
def download(name: str) -> ResponseReturnValue:
    month = _month()
    printed = _print(name, month, "xlsx", "export xlsx")
    return send_file(
        io.BytesIO(printed.output),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"{printed.register.full_title}.xlsx",
    )
