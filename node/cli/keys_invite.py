# SPDX-License-Identifier: Apache-2.0
"""``renkou keys invite``: a one-time enrolment code for one PC (SPEC.md §8.8).

The administrator runs it on the aggregator; the code is printed (with a QR code in the
terminal) and put on an A4 page to print (node/keys/invite_page.py) that goes to the
PC's operator. The code is shown once and kept nowhere: the administrator's directory
holds only what checks it.
"""

from __future__ import annotations

from pathlib import Path

import click

from node.cli.keys import _now, admin_dir_option, keys, passphrase_option
from node.cli_options import reports_errors


@keys.command("invite")
@passphrase_option
@click.option("--node", "code", required=True, help="Code of the PC's node (12 or 9 digits).")
@click.option(
    "--role",
    type=click.Choice(["village", "township"]),
    required=True,
    help="The node's role (it must match the code's length).",
)
@click.option(
    "--expires", default="7d", show_default=True, help="How long the code works: 7d, 48h."
)
@click.option("--name", default="", help="The node's name, printed on the page.")
@click.option(
    "--county-url",
    default="",
    help="The county's address the PC enrols with (printed on the page and in the QR).",
)
@click.option(
    "--page",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the A4 page (HTML; print it or save it as PDF). Default: "
    "invite-<node>-<time>.html here. An existing file is never overwritten.",
)
@admin_dir_option
@reports_errors
def invite(
    code: str,
    role: str,
    expires: str,
    name: str,
    county_url: str,
    page: Path | None,
    admin_dir: Path,
) -> None:
    """Make a one-time enrolment code for the PC of one node.

    The PC's operator then runs `renkou node enroll` with it. A code works once, only
    for this node, and only until it expires.

    Example:

    \b
        renkou keys invite --node 441322119001 --role village --expires 7d \\
            --county-url http://county.example:8440 --admin-dir ./admin
    """
    from node.admin import CountyAdmin
    from node.domain.divisions import check_node_code
    from node.keys.dates import local_time
    from node.keys.files import write_new
    from node.keys.invite_page import enrol_command, invite_page
    from node.keys.invites import create_invite, parse_expiry
    from protocol import NodeId
    from protocol.enrolment import format_code

    check_node_code(code, field="node")
    node = NodeId.for_code(code)
    if node.role.label != role:
        raise click.UsageError(
            f"--role {role} 与代码 {code} 不符（{node.role.label}）/ --role {role} does not "
            f"match the code {code}, which is a {node.role.label}"
        )
    valid_ms = parse_expiry(expires)
    admin = CountyAdmin.open(admin_dir)  # the issuing key must open here before a code exists
    now = _now()
    secret, made = create_invite(admin.directory, node, now, valid_ms)
    shown = format_code(secret)
    command = enrol_command(node, shown, county_url, name)
    target = page or Path(f"invite-{code}-{now // 1000}.html")
    write_new(target, invite_page(node, name, shown, made.expires_at, command).encode("utf-8"))
    click.echo(f"节点 / node:        {node} {name}".rstrip())
    click.echo(f"邀请码 / code:       {shown}")
    click.echo(f"有效至 / expires:    {local_time(made.expires_at)}")
    click.echo(f"在该电脑上运行 / on the PC run:\n    {command}")
    _terminal_qr(command)
    click.echo(f"打印页 / page to print: {target}")


def _terminal_qr(text: str) -> None:
    """The QR code of ``text`` in the terminal (half-block characters, dark on light)."""
    import io

    import segno

    out = io.StringIO()
    segno.make(text, error="m").terminal(out=out, compact=True)
    click.echo(out.getvalue(), nl=False)
