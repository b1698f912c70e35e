# SPDX-License-Identifier: Apache-2.0
"""``renkou keys init-county``: set up a county with an offline root and an issuing key."""

from __future__ import annotations

from pathlib import Path

import click

from node.cli.keys import _now, admin_dir_option, keys, passphrase_option
from node.cli_options import reports_errors


@keys.command("init-county")
@passphrase_option
@click.option("--code", required=True, help="The county's 6-digit code.")
@click.option(
    "--root-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where the county root goes: a USB stick kept offline (it is needed only to "
    "certify or replace the issuing key).",
)
@admin_dir_option
@reports_errors
def init_county(code: str, root_dir: Path, admin_dir: Path) -> None:
    """Create the county root (offline) and the issuing key it certifies.

    The root key goes to --root-dir, sealed under its passphrase: keep that stick in
    a drawer. The issuing key, which enrols and revokes PCs, goes to --admin-dir on
    the aggregator, sealed under its own passphrase (both asked at the terminal, or
    RENKOU_PASSPHRASE / --passphrase-stdin in scripts; never logged).

    Example:

    \b
        renkou keys init-county --code 441322 --root-dir /media/usb/root --admin-dir ./admin
    """
    from node.admin import CountyAdmin
    from node.keys.dates import local_time

    admin = CountyAdmin.create(admin_dir, code, _now(), root_dir=root_dir)
    click.echo(
        f"已创建 {admin.node} 的县根密钥（{root_dir}，口令加密，有效至 "
        f"{local_time(admin.root.not_after)}）和签发密钥（{admin_dir}，有效至 "
        f"{local_time(admin.issuing.not_after)}）。请把根密钥所在U盘离线保管。\n"
        f"Created the root of {admin.node} in {root_dir} and its issuing key in "
        f"{admin_dir}, each sealed under its passphrase: keep {root_dir} offline."
    )
