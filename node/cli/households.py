# SPDX-License-Identifier: Apache-2.0
"""``renkou node change-head PERSON``: make a person the head of her household (户主).

A household has one head at a time (node/households.py), so the head changes in one edit
of two cards: this person becomes the head, the former head takes the relationship the
officer names. The same path as the pages' household form.
"""

from __future__ import annotations

from pathlib import Path

import click

from node.cli_options import DAY, data_dir_option, reports_errors
from node.i18n import gettext as _


@click.command("change-head")
@click.argument("record_id")
@click.option(
    "--former-relation",
    default="",
    help="The former head's relationship to the new head (spouse, parent, other...).",
)
@click.option(
    "--address",
    default=None,
    help="The household's hukou address, when the person joins another household as its head.",
)
@click.option("--actor", default="officer", show_default=True, help="Who corrects it (audited).")
@click.option("--today", type=DAY, default=None)
@data_dir_option
@reports_errors
def change_head_command(
    record_id: str,
    former_relation: str,
    address: str | None,
    actor: str,
    today: object,
    data_dir: Path,
) -> None:
    """Make person RECORD_ID the head of her household; the former head gets a new relation.

    Example:

    \b
        renkou node change-head P12 --former-relation parent
    """
    from node.households import change_head
    from node.store.queries import entry_mark
    from node.store.store import NodeStore
    from node.timeutil import shanghai_today

    store = NodeStore.open(data_dir)
    try:
        day = today.date() if today is not None else shanghai_today()  # type: ignore[attr-defined]  # click.DateTime gives a datetime
        with store.bulk():  # the cards and their audit rows: one durable commit
            done = change_head(
                store, record_id, former_relation=former_relation, today=day, address=address
            )
            mark = entry_mark(done.entry.log.epoch, done.entry.seq)
            for changed in done.record_ids:
                store.audit(actor, "correct", "person", changed, mark)
        card = store.record("person", record_id) or {}
        click.echo(
            _(
                "%(name)s is now the head of the household at %(address)s.",
                name=card.get("name", record_id),
                address=card.get("hukou_address", ""),
            )
        )
    finally:
        store.close()
