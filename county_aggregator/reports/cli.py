# SPDX-License-Identifier: Apache-2.0
"""``renkou county report``: build a report from the merged database and write it.

The county group lives in ``county_aggregator/cli.py``; it calls
:func:`add_report_command` so that this package stays importable on its own and the
command is defined next to the reports it serves.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from county_aggregator.reports.build import build_report
from county_aggregator.reports.definitions import DEFINITIONS
from county_aggregator.reports.render import FORMATS, report_bytes
from node.cli_options import reports_errors
from node.errors import NotFoundError
from node.i18n import gettext as _
from node.output_files import check_target, force_option, write_output


@click.command("report")
@click.argument("name", type=click.Choice(sorted(DEFINITIONS)))
@click.option(
    "--period",
    required=True,
    help="2026-03 (month), 2026H1 (Oct 1 - Mar 31) or 2026Y (Oct 1 - Sep 30).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (not over an existing file without --force).",
)
@force_option
@click.option(
    "--merged",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The county's merged database (holding merged_records).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The county node's data dir, whose key opens merged.db [default: its directory].",
)
@reports_errors
def report_command(
    name: str, period: str, fmt: str, out: Path, force: bool, merged: Path, data_dir: Path | None
) -> None:
    """Build report NAME for a period and write it as .xlsx or CSV.

    The figures are counted from the merged records; the file carries the official
    Chinese headings and the 填报人 / 审核人 line for signatures.

    Example:

    \b
        renkou county report table2 --period 2026H1 --format xlsx \\
            --out 表2.xlsx --merged data/county.db
    """
    check_target(out, force=force, protected=[merged])
    conn = _open_read_only(merged, data_dir or merged.parent)
    try:
        report = build_report(conn, name, period=period)
    finally:
        conn.close()
    data = report_bytes(report, "csv" if fmt == "csv" else "xlsx")
    write_output(out, data, force=force, protected=[merged])
    click.echo(_("%(title)s %(period)s: %(n)s row(s) written to %(out)s", title=report.title,
                 period=report.period.label, n=len(report.rows), out=out))  # fmt: skip


def _open_read_only(path: Path, data_dir: Path) -> sqlite3.Connection:
    """Open read-only: building a report must never write to the merged database.

    merged.db is encrypted under the county node's database key (store.open_merged):
    the key comes from ``data_dir``'s sealed key file, opened with the operator's
    passphrase as for every command. A plain file of an older version is read as it is
    (the next merge encrypts it)."""
    from county_aggregator.store_exchange import attach_for_reports
    from node.identity import load_identity
    from node.store.database import DB_NAME, connect, is_plain

    key = b"" if is_plain(path) else load_identity(data_dir).db_key
    conn = connect(path.resolve(), key, readonly=True)
    node_db = (data_dir / DB_NAME).resolve()
    if node_db.exists() and (key or is_plain(node_db)):
        # Table 5 counts the exchange records, kept in the county node's database.
        attach_for_reports(conn, node_db, key)
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'merged_records'"
    ).fetchone()
    if found is None:
        conn.close()
        raise NotFoundError(
            f"{path} 中没有合并数据表 merged_records",
            f"{path} holds no merged_records table.",
        )
    return conn


def add_report_command(group: click.Group) -> click.Group:
    """Register ``report`` on the county click group (``renkou county report``)."""
    group.add_command(report_command)
    return group
