# SPDX-License-Identifier: Apache-2.0
"""``renkou node edit RECORD --set field=value``: the pages' correction, from the terminal.

The same path as the correction form (node/editing.py): the whole record validated as
it would be after the change, only the changed fields written, each with its base
version. Values are typed as on the form: dates YYYY-MM-DD, codes as stored (``F``),
yes/no as true/false (or 是/否); an empty value clears an optional field.
"""

from __future__ import annotations

from pathlib import Path

import click

from node.cli_options import DAY, data_dir_option, reports_errors
from node.i18n import gettext as _


@click.command("edit")
@click.argument("record_id")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    metavar="FIELD=VALUE",
    help="A field and its new value; repeat for several fields.",
)
@click.option("--actor", default="officer", show_default=True, help="Who corrects it (audited).")
@click.option("--today", type=DAY, default=None)
@data_dir_option
@reports_errors
def edit(
    record_id: str, assignments: tuple[str, ...], actor: str, today: object, data_dir: Path
) -> None:
    """Correct fields of a record (a card or any other record), by its id.

    Example:

    \b
        renkou node edit P12 --set phone=13800000000 --set marital_status=married
    """
    from node.editing import correct_record
    from node.errors import FieldProblem, NotFoundError, ValidationError
    from node.pages.forms import coerce
    from node.pages.labels import schema_fields
    from node.store.queries import entry_mark, kinds_of
    from node.store.store import NodeStore
    from node.timeutil import shanghai_today

    store = NodeStore.open(data_dir)
    try:
        kinds = kinds_of(store.db, record_id)
        if len(kinds) != 1:
            raise NotFoundError(f"记录 {record_id} 不存在", f"record {record_id} does not exist")
        kind = kinds[0]
        fields = schema_fields(kind)
        changes: dict[str, object] = {}
        problems = []
        for item in assignments:
            name, eq, raw = item.partition("=")
            if not eq or name not in fields:
                problems.append(
                    FieldProblem(
                        name or item,
                        "edit.unknown_field",
                        f"{kind} 没有这个字段（可用：{', '.join(fields)}）",
                        f"{kind} has no such field (fields: {', '.join(fields)})",
                    )
                )
                continue
            changes[name] = coerce(fields[name], raw, kind, name) if raw.strip() else None
        if problems:
            raise ValidationError(problems)
        day = today.date() if today is not None else shanghai_today()  # type: ignore[attr-defined]  # click.DateTime gives a datetime
        with store.bulk():  # the correction and its audit row: one durable commit
            entry = correct_record(store, kind, record_id, changes, today=day)
            if entry is not None:
                mark = entry_mark(entry.log.epoch, entry.seq)
                store.audit(actor, "correct", kind, record_id, mark)
        if entry is None:
            click.echo(_("Nothing was changed."))
            return
        click.echo(_("Correction saved."))
    finally:
        store.close()
