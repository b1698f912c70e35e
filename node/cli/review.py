# SPDX-License-Identifier: Apache-2.0
"""``renkou node review``: the township's review of its villages' monthly changes.

Reads only the township's review store (node/review/listing.py), which keeps what the
review needs of each village batch for the review window (SPEC.md §6.3.2), so the
review still works after the county has acknowledged the batches and the township can
no longer open them. Every record shown is audited.
"""

from __future__ import annotations

from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors
from node.i18n import gettext as _
from node.i18n.cli import table


@click.command("review")
@click.option("--month", required=True, help="YYYY-MM: the current or the previous month.")
@click.option("--village", default=None, help="One village's 12-digit code (default: all).")
@click.option("--actor", default="officer", show_default=True, help="Who reviews (audited).")
@data_dir_option
@reports_errors
def review(month: str, village: str | None, actor: str, data_dir: Path) -> None:
    """List each village's changes of a month for the township's review (audited).

    Example:

    \b
        renkou node review --month 2026-03
        renkou node review --month 2026-03 --village 440104001002
    """
    from node.domain.text import terminal_safe
    from node.review.listing import review_month
    from node.store.store import NodeStore

    store = NodeStore.open(data_dir)
    try:
        shown = review_month(store, month, actor=actor, village=village, now_ms=store.clock())
    finally:
        store.close()
    if not any(v.rows for v in shown):
        click.echo(_("No changes of %(month)s are kept for review.", month=month))
        return
    headings = [_("No."), _("Changed at"), _("Kind of record"), _("Record id"), _("Name"),
                _("What changed"), _("Kind of change")]  # fmt: skip
    keys = ("no", "time", "kind", "record_id", "name", "changes", "action")
    for one in shown:
        click.echo(_("Village %(village)s, %(month)s: %(n)s change(s)", village=one.village,
                     month=month, n=len(one.rows)))  # fmt: skip
        rows = [[terminal_safe(row[k]) for k in keys] for row in one.rows]
        for line in table([headings, *rows]):
            click.echo("  " + line)
