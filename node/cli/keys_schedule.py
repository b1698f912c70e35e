# SPDX-License-Identifier: Apache-2.0
"""``renkou keys sign-schedule``: publish a year's official holidays to every node."""

from __future__ import annotations

from pathlib import Path

import click

from node.cli.keys import admin_dir_option, passphrase_option
from node.cli_options import reports_errors


@click.command("sign-schedule")
@passphrase_option
@click.option("--year", type=click.IntRange(1900, 2200), required=True, help="The year.")
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The official dates, one line each (deploy/schedules/holidays-2026.txt shows the format).",
)
@click.option(
    "--published",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Publication date (YYYY-MM-DD); default today in Asia/Shanghai. A correction "
    "needs a later date than the schedule it corrects.",
)
@click.option(
    "--county-data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The county node's data dir: install the schedule there, so it travels down "
    "with every sync.",
)
@admin_dir_option
@reports_errors
def sign_schedule_command(
    year: int, file: Path, published: object, county_data_dir: Path | None, admin_dir: Path
) -> None:
    """Sign YEAR's holidays and make-up working days with the county's issuing key.

    The signed schedule is kept in --admin-dir/schedules/; with --county-data-dir it is
    installed at the county node, and every node takes it with its next sync (no file
    is carried to villages; `renkou node import-schedule FILE` remains for a PC that
    cannot sync).

    Example:

    \b
        renkou keys sign-schedule --year 2027 --file holidays-2027.txt \\
            --admin-dir ./admin --county-data-dir ./county
    """
    from node.admin import CountyAdmin
    from node.keys.schedule_signing import sign_schedule
    from node.timeutil import shanghai_today

    day = published.date() if hasattr(published, "date") else shanghai_today()
    from node.keys.schedule_file import MAX_FILE_BYTES

    data = file.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise click.UsageError(f"{file}: over {MAX_FILE_BYTES} bytes, not a schedule file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    admin = CountyAdmin.open(admin_dir)
    schedule, raw = sign_schedule(admin_dir, admin.signing, year, text, day)
    where = admin_dir / "schedules" / f"holidays-{year}.signed"
    click.echo(
        f"已签发 {year} 年节假日安排：放假 {len(schedule.holidays)} 天，调休上班 "
        f"{len(schedule.workdays)} 天，发布日期 {day.year}年{day.month}月{day.day}日"
        f"（{day.isoformat()}）/ signed the {year} schedule ({len(schedule.holidays)} "
        f"holidays, {len(schedule.workdays)} make-up working days): {where}"
    )
    if county_data_dir is None:
        return
    from node.calendar_store import install_schedule

    install_schedule(county_data_dir, raw)
    click.echo(
        "已安装到县节点，随同步下发到每个节点 / installed at the county node; every node "
        "takes it with its next sync"
    )
