# SPDX-License-Identifier: Apache-2.0
"""``renkou keys …``: the county administrator's commands (root, enrolment, revocation)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors
from node.i18n import gettext as _
from node.timeutil import SHANGHAI

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
        raise click.UsageError(_("%(dir)s already holds a root key.", dir=admin_dir))
    admin = CountyAdmin.create(admin_dir, code, _now())
    click.echo(_("Created the root of %(node)s in %(dir)s (root.key is 0600: keep it safe).",
                 node=admin.node, dir=admin_dir))  # fmt: skip


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
    until = datetime.fromtimestamp(cert.not_after / 1000, SHANGHAI).date().isoformat()
    click.echo(_("Enrolled %(node)s (certificate %(serial)s, valid until %(until)s).",
                 node=cert.node, serial=cert.serial, until=until))  # fmt: skip


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
        log, _sep, seq = item.rpartition("=")
        if not seq.isdigit():
            raise click.UsageError(_("--valid-through %(item)s must look like LOG=SEQ.",
                                     item=repr(item)))  # fmt: skip
        valid[LogId.parse(log)] = int(seq)
    admin = CountyAdmin.open(admin_dir)
    try:
        raw = admin.revoke_node(code, reason, valid, _now())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if county_data_dir is None:
        click.echo(
            _(
                "Revoked %(code)s; install %(path)s at the county node (renkou keys "
                "install-revocations): every sync then passes it down.",
                code=code,
                path=admin_dir / "revocations.signed",
            )  # fmt: skip
        )
        return
    from node.sync.trust import install_revocations

    install_revocations(county_data_dir, raw)
    click.echo(
        _(
            "Revoked %(code)s; the list is installed at the county node and reaches every "
            "node with its next sync.",
            code=code,
        )  # fmt: skip
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
        raise click.UsageError(_("%(path)s does not exist: nothing was revoked yet.", path=path))
    crl = install_revocations(data_dir, path.read_bytes())
    if crl is None:
        click.echo(_("This list is already installed."))
    else:
        click.echo(_("Installed revocation list version %(version)s.", version=crl.version))
