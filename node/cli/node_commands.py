# SPDX-License-Identifier: Apache-2.0
"""``renkou node …``: what a village or township officer runs on the node's PC."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from node.cli.options import data_dir_option, reports_errors
from node.errors import FieldProblem, ValidationError


@click.group()
def node() -> None:
    """Village and township node: records, registers, reports, sync."""


@node.command()
@click.option("--code", required=True, help="12-digit village (or 9-digit township) code.")
@click.option("--name", required=True, help="The village's name, as printed on registers.")
@data_dir_option
@reports_errors
def init(code: str, name: str, data_dir: Path) -> None:
    """Create a node: its keys, its database and the first entry of its log.

    Example:

    \b
        renkou node init --code 441322119001 --name 上南村 --data-dir ./village
    """
    from node.domain.divisions import check_node_code
    from node.store.store import NodeStore
    from protocol import NodeId

    check_node_code(code)
    store = NodeStore.init(data_dir, NodeId.for_code(code), name)
    click.echo(f"initialised {store.node} ({name}) in {data_dir}")
    click.echo("next: ask the administrator to enrol this PC (renkou keys enrol)")


@node.command()
@click.argument("kind")
@click.option(
    "--file",
    "file",
    type=click.File("rb"),
    required=True,
    help="JSON file with the record's fields ('-' for standard input).",
)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Date to validate against (default: today in Asia/Shanghai).",
)
@data_dir_option
@reports_errors
def add(kind: str, file: click.utils.LazyFile, today: object, data_dir: Path) -> None:
    """Validate and record one record of KIND; prints the new record's id.

    Example:

    \b
        renkou node add person --file card.json
    """
    from node.recording import add_record
    from node.store.store import NodeStore
    from node.timeutil import shanghai_today

    data = _read_json(file.read())
    store = NodeStore.open(data_dir)
    when = today.date() if today is not None else shanghai_today()  # type: ignore[attr-defined]
    click.echo(add_record(store, kind, data, today=when))


def _read_json(raw: bytes) -> dict[str, object]:
    if len(raw) > 1_000_000:
        raise ValidationError(
            [
                FieldProblem(
                    "file",
                    "file.too_large",
                    "文件过大（超过 1 MB）",
                    "the file is larger than 1 MB",
                )
            ]
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            [
                FieldProblem(
                    "file", "file.not_json", f"不是有效的 JSON：{exc}", f"not valid JSON: {exc}"
                )
            ]
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(
            [
                FieldProblem(
                    "file", "file.not_object", "JSON 必须是一个对象", "the JSON must be an object"
                )
            ]
        )
    return data


@node.command()
@data_dir_option
@reports_errors
def status(data_dir: Path) -> None:
    """Show the node's identity, log head and integrity.

    Example:

    \b
        renkou node status
    """
    from node.store.store import NodeStore

    store = NodeStore.open(data_dir)
    log = store.changelog
    click.echo(f"node:      {store.node} ({store.name})")
    click.echo(f"log:       {log.log}  head seq {log.head_seq}  {log.head_hash.hex()[:16]}…")
    counts = store.db.execute(
        "SELECT kind, COUNT(*) FROM records WHERE retired IS NULL GROUP BY kind ORDER BY kind"
    ).fetchall()
    click.echo("records:   " + (", ".join(f"{k} {n}" for k, n in counts) or "none"))


def today_option_default() -> date:
    from node.timeutil import shanghai_today

    return shanghai_today()
