# SPDX-License-Identifier: Apache-2.0
"""``renkou node template KIND --out f.xlsx``: the bulk-entry sheet the pages also offer."""

from __future__ import annotations

import io
from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors
from node.i18n import gettext as _
from node.output_files import force_option, write_output


@click.command("template")
@click.argument("kind")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@force_option
@data_dir_option
@reports_errors
def template(kind: str, out: Path, force: bool, data_dir: Path) -> None:
    """Write an .xlsx template with Chinese headings for records of KIND.

    Fill one record per row, then import it on the pages (批量录入).

    Example:

    \b
        renkou node template person --out 人员信息卡.xlsx
    """
    from node.domain.records import RECORD_KINDS
    from node.errors import FieldProblem, ValidationError
    from node.pages.bulk_xlsx import write_template

    if kind not in RECORD_KINDS:
        kinds = ", ".join(RECORD_KINDS)
        raise ValidationError(
            [FieldProblem("kind", "unknown_kind", f"不认识的记录类型（可选：{kinds}）",
                          f"unknown kind; choose one of: {kinds}")]
        )  # fmt: skip
    sheet = io.BytesIO()
    write_template(kind, sheet)
    write_output(out, sheet.getvalue(), force=force, protected=[data_dir])
    click.echo(_("Template written: %(path)s", path=str(out)))
