# SPDX-License-Identifier: Apache-2.0
"""Rendering a built report to CSV and .xlsx with the official Chinese headings.

The registers' renderers (``node.registers.render``) already do what a county table
needs: a UTF-8 BOM for Excel on Chinese Windows, long digit strings kept as text
(12-digit village codes, ID numbers), formula injection neutralised, a title row, and
the 填报人 / 审核人 / 填报日期 line for signatures. So a report is converted into a
:class:`~node.registers.model.Register` and rendered by them; this module only formats.
"""

from __future__ import annotations

import io
import os
from typing import IO, Literal

from county_aggregator.reports.model import Report
from node.registers.model import Column, Register
from node.registers.render import render_csv, render_xlsx

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")


def to_register(report: Report) -> Register:
    """The report as a register: lead columns (code, name, level), then the figures.

    The period goes into the title ("表2 … 2026统计年度上半年（…）"); ``month`` is set
    only for monthly reports, which makes the xlsx timestamps the month's first day.
    """
    columns = tuple(Column(c.key, c.heading) for c in (*report.lead, *report.columns))
    month = report.period.text if report.period.kind == "month" else ""
    title = report.title if month else f"{report.title} {report.period.label}"
    return Register(
        title=title, columns=columns, rows=report.as_rows(), name=report.name, month=month
    )


def render_report_csv(report: Report, fp: IO[str]) -> None:
    """Write ``report`` as CSV to a text stream opened with ``newline=""``."""
    render_csv(to_register(report), fp)


def render_report_xlsx(report: Report, target: str | os.PathLike[str] | IO[bytes]) -> None:
    """Write ``report`` as a one-sheet .xlsx form, ready to print and sign."""
    render_xlsx(to_register(report), target)


def report_bytes(report: Report, fmt: Format) -> bytes:
    """The file ``report`` makes in ``fmt``, in memory: the CLI writes it private to the
    user and never over a file it should not (node.output_files).

    Raises:
        ValueError: an unknown format.
    """
    if fmt == "csv":
        text = io.StringIO(newline="")
        render_report_csv(report, text)
        return text.getvalue().encode("utf-8")
    if fmt == "xlsx":
        sheet = io.BytesIO()
        render_report_xlsx(report, sheet)
        return sheet.getvalue()
    raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")


def write_report(report: Report, fmt: Format, path: str | os.PathLike[str]) -> None:
    """Write ``report`` to ``path`` in ``fmt``.

    Raises:
        ValueError: an unknown format.
    """
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fp:
            render_report_csv(report, fp)
    elif fmt == "xlsx":
        render_report_xlsx(report, path)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")
