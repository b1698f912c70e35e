# SPDX-License-Identifier: Apache-2.0
"""``renkou keys …``: the county administrator's commands (root, enrolment, revocation)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors

admin_dir_option = click.option(
    "--admin-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    envvar="RENKOU_ADMIN_DIR",
    help="The administrator's directory holding the root key.",
)


def _now() -> int:
    return time.time_ns() // 1_000_000


@click.group()
def keys() -> None:
    """County administration: the root key, enrolling PCs, revoking lost ones."""


@keys.command("init-county")
@click.option("--code", required=True, help="The county's 6-digit code.")
@admin_dir_option
@reports_errors
def init_county(code: str, admin_dir: Path) -> None:
    """Create the county root key and certificate (once per county; keep it offline).

    Example:

    \b
        renkou keys init-county --code 441322 --admin-dir ./admin
    """
    from node.admin import CountyAdmin

    if (admin_dir / "root.key").exists():
        raise click.UsageError(f"{admin_dir} already holds a root key")
    admin = CountyAdmin.create(admin_dir, code, _now())
    click.echo(f"created the root of {admin.node} in {admin_dir} (root.key is 0600: keep it safe)")


@keys.command()
@admin_dir_option
@data_dir_option
@reports_errors
def enrol(admin_dir: Path, data_dir: Path) -> None:
    """Certify the node in --data-dir and give it the certificates it needs to sync.

    Enrol the county node first, then the towns, then the villages.

    Example:

    \b
        renkou keys enrol --admin-dir ./admin --data-dir ./village
    """
    from node.admin import CountyAdmin

    admin = CountyAdmin.open(admin_dir)
    try:
        cert = admin.enrol_node(data_dir, _now())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"enrolled {cert.node} (certificate {cert.serial}, valid until {cert.not_after})")


@keys.command()
@click.option("--code", required=True, help="Code of the node whose PC was lost or stolen.")
@click.option(
    "--reason", type=click.Choice(["lost", "stolen", "compromised", "retired"]), required=True
)
@click.option(
    "--valid-through",
    "through",
    multiple=True,
    help="LOG=SEQ: entries up to SEQ of LOG were received before the loss and stay "
    "valid (e.g. village:441322119001#1=120).",
)
@click.option(
    "--county-data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The county node's data dir: install the new list there, so it travels down "
    "with every sync.",
)
@admin_dir_option
@reports_errors
def revoke(
    code: str,
    reason: str,
    through: tuple[str, ...],
    county_data_dir: Path | None,
    admin_dir: Path,
) -> None:
    """Revoke a node's certificate; writes revocations.signed (and installs it at the
    county node with --county-data-dir, from where every sync passes it down).

    Example:

    \b
        renkou keys revoke --code 441322119001 --reason stolen \\
            --valid-through village:441322119001#1=120 --admin-dir ./admin \\
            --county-data-dir ./county
    """
    from node.admin import CountyAdmin
    from protocol import LogId

    valid: dict[LogId, int] = {}
    for item in through:
        log, _, seq = item.rpartition("=")
        if not seq.isdigit():
            raise click.UsageError(f"--valid-through {item!r} must look like LOG=SEQ")
        valid[LogId.parse(log)] = int(seq)
    admin = CountyAdmin.open(admin_dir)
    try:
        raw = admin.revoke_node(code, reason, valid, _now())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if county_data_dir is None:
        click.echo(
            f"revoked {code}; install {admin_dir / 'revocations.signed'} at the county node "
            "(renkou keys install-revocations): every sync then passes it down"
        )
        return
    from node.sync.trust import install_revocations

    install_revocations(county_data_dir, raw)
    click.echo(
        f"已吊销 {code}，吊销名单已安装到县节点，随同步下发 / revoked {code}; the list is "
        "installed at the county node and reaches every node with its next sync"
    )


@keys.command("install-revocations")
@admin_dir_option
@data_dir_option
@reports_errors
def install_revocations_command(admin_dir: Path, data_dir: Path) -> None:
    """Install the administrator's current revocation list at a node (the county node:
    from there it travels down with sync). An older list is refused.

    Example:

    \b
        renkou keys install-revocations --admin-dir ./admin --data-dir ./county
    """
    from node.sync.trust import install_revocations

    path = admin_dir / "revocations.signed"
    if not path.exists():
        raise click.UsageError(f"{path} does not exist: nothing was revoked yet")
    crl = install_revocations(data_dir, path.read_bytes())
    if crl is None:
        click.echo("this list is already installed (已安装)")
    else:
        click.echo(
            f"已安装吊销名单第 {crl.version} 版 / installed revocation list version {crl.version}"
        )
