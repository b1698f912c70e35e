# SPDX-License-Identifier: Apache-2.0
"""``renkou node …`` commands of a PC's keys and trust: what an officer runs on the PC
itself, with no administrator's key (those are ``renkou keys …``, node/cli/keys.py)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click

from node.cli_options import data_dir_option, reports_errors


@click.command("install-revocations")
@click.argument("file", type=click.File("rb"))
@data_dir_option
@reports_errors
def install_revocations_file(file: IO[bytes], data_dir: Path) -> None:
    """Install the county's revocation list from a file (e.g. on a USB stick).

    The list is verified against this node's county root and installed only if it is
    newer than the one held: for a village whose township is down or withholds it.

    Example:

    \b
        renkou node install-revocations /media/usb/revocations.signed
    """
    from node.keys.dates import local_time
    from node.sync.trust import install_revocations

    crl = install_revocations(data_dir, file.read(1 << 24))
    if crl is None:
        click.echo("本机已有这份吊销名单 / this list is already installed")
        return
    click.echo(
        f"已安装吊销名单第 {crl.version} 版（{len(crl.revoked)} 项，签发于 "
        f"{local_time(crl.issued_at)}）/ installed revocation list version {crl.version}"
    )


@click.command("county-url")
@click.argument("url")
@data_dir_option
@reports_errors
def county_url_command(url: str, data_dir: Path) -> None:
    """Remember the county's address: before each sync round the node fetches the
    county's revocation list from there, whatever its parent passes down.

    Enrolment by code sets it; this command is for nodes enrolled by hand.

    Example:

    \b
        renkou node county-url https://county.example:8440
    """
    from node.keys.published import remember_county_url

    if not url.startswith(("http://", "https://")):
        raise click.UsageError(f"{url!r} 不是 http(s) 地址 / is not an http(s) address")
    remember_county_url(data_dir, url)
    click.echo(f"县级地址已记下 / the county's address is now {url.rstrip('/')}")


@click.command("protect-keys")
@data_dir_option
@reports_errors
def protect_keys(data_dir: Path) -> None:
    """Seal a key file left unencrypted by an older version under a passphrase.

    The passphrase is asked at the terminal (twice), or read from RENKOU_PASSPHRASE.
    Until this is done the node refuses to start: its keys/node.key holds plaintext
    seeds that anyone who copies the data dir could sign with.

    Example:

    \b
        renkou node protect-keys --data-dir ./village
    """
    from node.identity import protect_legacy

    identity = protect_legacy(data_dir)
    click.echo(
        f"已为 {identity.node} 的密钥文件加密 / the key file of {identity.node} is now "
        "sealed under the passphrase"
    )
