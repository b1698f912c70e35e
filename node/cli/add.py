# SPDX-License-Identifier: Apache-2.0
"""``renkou node add KIND --file F``: records from a card file, all checked before any is written.

The file may hold one card, a JSON array or JSON lines, in UTF-8 (with or without BOM)
or GBK (node/cli/card_files.py); the records go through node/batch.py in one process
and one transaction, and ``--help`` lists every kind's fields with an example card.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import IO

import click

from node.cli.card_files import KindsHelpCommand
from node.cli_options import DAY, data_dir_option, reports_errors
from node.i18n import gettext as _


@click.command("add", cls=KindsHelpCommand)
@click.argument("kind")
@click.option(
    "--file",
    "file",
    type=click.File("rb"),
    required=True,
    help="JSON file: one card, a JSON array of cards, or one card per line "
    "('-' for standard input). UTF-8 (with or without BOM) or GBK.",
)
@click.option(
    "--today",
    type=DAY,
    default=None,
    help="Date to validate against (default: today in Asia/Shanghai).",
)
@click.option(
    "--keep-good",
    is_flag=True,
    help="Record the rows that pass even if others are refused (default: all or nothing).",
)
@data_dir_option
@reports_errors
def add(
    kind: str, file: IO[bytes], today: datetime | None, keep_good: bool, data_dir: Path
) -> None:
    """Validate and record records of KIND from a file; prints each new record's id.

    Every record is checked before anything is written; with problems nothing is
    written (unless --keep-good), and every problem is listed by record and field.

    Example:

    \b
        renkou node add person --file card.json
        renkou node add person --file cards.json --keep-good
    """
    from node.batch import add_many
    from node.cli.card_files import read_cards
    from node.pages.forms import plain_codes
    from node.store.store import NodeStore
    from node.timeutil import shanghai_today

    cards, note = read_cards(file.read())
    if note:
        click.echo(note, err=True)
    store = NodeStore.open(data_dir)
    when = today.date() if today is not None else shanghai_today()
    try:
        cards = [plain_codes(kind, card) for card in cards]
        result = add_many(store, kind, cards, today=when, keep_good=keep_good)
    finally:
        store.close()
    for record_id in result.ids:
        if record_id is not None:
            click.echo(record_id)
    if result.problems:
        click.echo("错误 / error [invalid_input]:", err=True)
        for p in result.problems:
            where = f"#{p.row} " if len(cards) > 1 else ""
            click.echo(f"  {where}{p.field}: {p.zh} / {p.en} [{p.code}]", err=True)
        click.echo(_("%(written)s recorded, %(refused)s refused.", written=result.written,
                     refused=len(result.refused_rows)), err=True)  # fmt: skip
        raise SystemExit(1)
