# SPDX-License-Identifier: Apache-2.0
"""``renkou keys …``: the county administrator's commands (enrolment, revocation).

Setting up a county is node/cli/keys_county.py; enrolment by code node/cli/keys_invite.py.
"""

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


def _stdin_passphrase(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value and not ctx.resilient_parsing:
        from node.keys.unlock import read_stdin_passphrase

        read_stdin_passphrase()
    return value


passphrase_option = click.option(
    "--passphrase-stdin",
    is_flag=True,
    expose_value=False,
    callback=_stdin_passphrase,
    help="Read the key's passphrase from the first line of standard input (for "
    "scripts; else RENKOU_PASSPHRASE, else it is asked at the terminal). Never logged.",
)


@click.group()
def keys() -> None:
    """County administration: the offline root, the issuing key, enrolling PCs,
    revoking lost ones.

    Every key file is sealed under a passphrase (Argon2id): it is asked at the
    terminal, or read from RENKOU_PASSPHRASE or --passphrase-stdin for scripts.
    """


@keys.command()
@passphrase_option
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
@passphrase_option
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
    from node.keys.revoking import parse_valid_through, refused
    from protocol import LogId

    valid: dict[LogId, int] = {}
    for item in through:
        log, seq = parse_valid_through(item)
        if log in valid:
            raise refused(
                f"--valid-through 两次写了 {log}",
                f"--valid-through names {log} twice",
                "bad_valid_through",
            )
        valid[log] = seq
    admin = CountyAdmin.open(admin_dir)
    raw = admin.revoke_node(code, reason, valid, _now())
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
