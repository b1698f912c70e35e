# SPDX-License-Identifier: Apache-2.0
"""``renkou node retention destroy-prints``: archived prints at the end of retention.

Kept apart from node_commands.py (a module being split by job) and attached to its
``retention`` group.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from node.cli.node_commands import retention
from node.cli_options import DAY, data_dir_option, reports_errors
from node.i18n import gettext as _


@retention.command("destroy-prints")
@click.argument("archive_ids", nargs=-1, required=True, type=int)
@click.option("--today", type=DAY, default=None)
@click.option("--actor", default="officer", show_default=True, help="Who destroys them.")
@click.option("--yes", is_flag=True, help="Confirm the controlled destruction.")
@data_dir_option
@reports_errors
def retention_destroy_prints(
    archive_ids: tuple[int, ...], today: datetime | None, actor: str, yes: bool, data_dir: Path
) -> None:
    """Destroy archived prints whose retention ended (the signed header stays).

    Example:

    \b
        renkou node retention destroy-prints 12 13 --yes
    """
    from node.store import archive
    from node.store.store import NodeStore
    from node.timeutil import shanghai_today

    if not yes:
        raise click.UsageError(_("Controlled destruction needs --yes."))
    store = NodeStore.open(data_dir)
    day = today.date() if today is not None else shanghai_today()
    count = archive.destroy(store, list(archive_ids), day, actor=actor)
    click.echo(_("Destroyed %(count)s of %(total)s (the others are not due).", count=count,
                 total=len(archive_ids)))  # fmt: skip
