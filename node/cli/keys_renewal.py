# SPDX-License-Identifier: Apache-2.0
"""``renkou keys renew``, ``rotate`` and ``list``: certificates after enrolment."""

from __future__ import annotations

import time
from pathlib import Path

import click

from node.cli.keys import admin_dir_option, passphrase_option
from node.cli_options import reports_errors
from protocol import Certificate

county_data_dir_option = click.option(
    "--county-data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The county node's data dir: publish the new certificate there, from where the "
    "node takes it before its next sync and its children in their next session.",
)
years_option = click.option(
    "--years", type=click.IntRange(1, 5), default=2, show_default=True, help="Validity."
)


def _now() -> int:
    return time.time_ns() // 1_000_000


def _published(county_data_dir: Path | None, cert: Certificate) -> None:
    from node.keys.renewal import publish

    if county_data_dir is None:
        click.echo(
            "未发布：请加 --county-data-dir 将证书安装到县节点 / not published: pass "
            "--county-data-dir so the node takes it with sync"
        )
        return
    publish(county_data_dir, cert)
    click.echo(
        "已发布到县节点，随同步送达 / published at the county node: the node takes it "
        "before its next sync, its children at their next session"
    )


@click.command("renew")
@passphrase_option
@click.option("--code", required=True, help="Division code of the node to renew.")
@years_option
@county_data_dir_option
@admin_dir_option
@reports_errors
def renew_command(code: str, years: int, county_data_dir: Path | None, admin_dir: Path) -> None:
    """Renew a node's certificate (same keys, a new serial and validity).

    Example:

    \b
        renkou keys renew --code 441322119 --admin-dir ./admin --county-data-dir ./county
    """
    from node.admin import CountyAdmin
    from node.keys.dates import local_time
    from node.keys.reissue import renew

    admin = CountyAdmin.open(admin_dir)
    cert = renew(admin, code, _now(), years)
    click.echo(
        f"已续期 {cert.node}：证书 {cert.serial}，有效至 {local_time(cert.not_after)} / "
        f"renewed {cert.node}: certificate {cert.serial}"
    )
    _published(county_data_dir, cert)


@click.command("rotate")
@passphrase_option
@years_option
@click.option(
    "--county-data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The county node's data dir, which keeps the nodes' rotation requests.",
)
@admin_dir_option
@reports_errors
def rotate_command(years: int, county_data_dir: Path, admin_dir: Path) -> None:
    """Certify the new keys of every node that asked to rotate (renkou node rotate-keys).

    Each request is signed by the node's current key; a request of a revoked or
    replaced certificate, or not signed by its key, is refused and kept for review.

    Example:

    \b
        renkou keys rotate --admin-dir ./admin --county-data-dir ./county
    """
    from node.admin import CountyAdmin
    from node.errors import NodeError
    from node.keys.reissue import certify_rotation, pending_rotations
    from node.keys.renewal import publish

    pending = pending_rotations(county_data_dir)
    if not pending:
        click.echo("没有待处理的密钥轮换请求 / no rotation requests are waiting")
        return
    admin = CountyAdmin.open(admin_dir)
    for path in pending:
        try:
            cert = certify_rotation(admin, path.read_bytes(), _now(), years)
        except NodeError as exc:
            click.echo(f"未处理 {path.name}：{exc.zh} / refused {path.name}: {exc.en}", err=True)
            continue
        publish(county_data_dir, cert)
        path.unlink()
        click.echo(
            f"已为 {cert.node} 的新密钥签发证书 {cert.serial} / certified the new keys of "
            f"{cert.node}: certificate {cert.serial}, published at the county node"
        )


@click.command("list")
@click.option(
    "--within-days",
    type=click.IntRange(0, 3650),
    default=30,
    show_default=True,
    help="Mark certificates that expire within this many days.",
)
@admin_dir_option
@reports_errors
def list_command(within_days: int, admin_dir: Path) -> None:
    """List the certificates issued here, soonest to expire first, marking those that
    expire within --within-days (30) or have expired.

    Example:

    \b
        renkou keys list --admin-dir ./admin
    """
    from node.keys.dates import local_date
    from node.keys.expiry import expiry_note
    from node.keys.fingerprint_list import issued_certificates

    now, soon = _now(), 0
    for where, cert in issued_certificates(admin_dir):
        note = expiry_note(cert, now, within_days)
        soon += bool(note)
        mark = f"  <- {note}" if note else ""
        click.echo(
            f"{str(cert.node):24} {cert.serial:>6}  {local_date(cert.not_after)}  {where}{mark}"
        )
    click.echo(
        f"{soon} 个证书 {within_days} 天内到期或已过期 / {soon} certificate(s) expire within "
        f"{within_days} days or have expired"
    )
