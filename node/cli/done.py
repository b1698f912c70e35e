# SPDX-License-Identifier: Apache-2.0
"""``renkou node done ITEM``: record that an open item was done, as the pages' button does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from node.cli_options import DAY, data_dir_option, reports_errors
from node.i18n import gettext as _


@click.command("done")
@click.argument("item")
@click.option(
    "--date",
    "done_date",
    type=DAY,
    default=None,
    help="The day it was done (default: today in Asia/Shanghai).",
)
@click.option("--what", default=None, help="What was done, where the item asks (see node due).")
@click.option("--actor", default="officer", show_default=True, help="Who did it (audited).")
@data_dir_option
@reports_errors
def done(
    item: str, done_date: datetime | None, what: str | None, actor: str, data_dir: Path
) -> None:
    """Record that an open item was done, which closes it (ITEM as node due lists it).

    Example:

    \b
        renkou node done monthly_change_report/report/2026-03
        renkou node done birth_registration_to_township/birth_registration/R12 --date 2026-03-04
    """
    from node.closing import close_item
    from node.store.store import NodeStore
    from node.timeutil import shanghai_today

    today = shanghai_today()
    day = done_date.date() if done_date is not None else today
    store = NodeStore.open(data_dir)
    try:
        record_id = close_item(store, item, day, what, actor=actor, today=today)
    finally:
        store.close()
    click.echo(_("Recorded as done (%(record)s).", record=record_id))
