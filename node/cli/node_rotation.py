# SPDX-License-Identifier: Apache-2.0
"""``renkou node rotate-keys``: this PC replaces its keys, its old key vouching."""

from __future__ import annotations

import time
from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors


@click.command("rotate-keys")
@click.option(
    "--county-url",
    default=None,
    help="The county's address (default: keys/county.url or RENKOU_COUNTY_URL).",
)
@data_dir_option
@reports_errors
def rotate_keys_command(county_url: str | None, data_dir: Path) -> None:
    """Generate new keys and ask the county to certify them.

    The new keys wait in keys/node.key.next (under a passphrase) until the county's
    certificate for them arrives with a sync round; until then the PC syncs with its
    current keys.

    Example:

    \b
        renkou node rotate-keys --county-url https://county.example:8443
    """
    from node.keys.published import county_url as known_url
    from node.keys.published import remember_county_url
    from node.keys.rotation import send_rotation, start_rotation
    from node.sync.trust import load_certificate, not_enrolled

    own = load_certificate(data_dir, "node.cert")
    if own is None:
        raise not_enrolled("node.cert")
    url = county_url or known_url(data_dir)
    if not url:
        raise click.UsageError("no county address: pass --county-url")
    if county_url:
        remember_county_url(data_dir, url)  # the new certificate is fetched from there
    request = start_rotation(data_dir, own, time.time_ns() // 1_000_000)
    send_rotation(url, request)
    click.echo(
        "已生成新密钥并将轮换请求送达县级；县管理员签发后，下次同步时自动启用 / new keys "
        "generated and the rotation request sent to the county; they take over at the "
        "first sync after the administrator certifies them (renkou keys rotate)"
    )
