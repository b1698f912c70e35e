# SPDX-License-Identifier: Apache-2.0
"""``renkou node backup|restore|new-epoch``: copies of the node's database, and the new
epoch of its log that a restored or forked store writes on in (SPEC §3.5)."""

from __future__ import annotations

from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors


@click.command()
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The backup file to create (must not exist yet).",
)
@data_dir_option
@reports_errors
def backup(target: Path, data_dir: Path) -> None:
    """Write a consistent copy of the node's database (safe while the node runs).

    The copy holds people's cards: keep it on encrypted media, locked away. The keys
    are not in it; keys/ stays on the PC (or with the administrator).

    Example:

    \b
        renkou node backup --to /media/usb/上南村-2026-11-29.db
    """
    from node.store.backup import backup as make_backup
    from node.store.store import NodeStore

    store = NodeStore.open(data_dir)
    try:
        head = make_backup(store, target)
    finally:
        store.close()
    click.echo(f"backed up {store.node} through entry {head} of its log to {target}")


@click.command()
@click.option(
    "--from",
    "source",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="A backup made by `renkou node backup`.",
)
@click.option("--yes", is_flag=True, help="Confirm: replace the node's database.")
@data_dir_option
@reports_errors
def restore(source: Path, yes: bool, data_dir: Path) -> None:
    """Put a backup in place of the node's database and start a new epoch of its log.

    Stop `renkou node serve` first. The replaced database is kept beside it as
    node.db.replaced-<time>. Changes the county already received from the lost copy
    stay there; the restored node writes on in a new log, so nothing forks.

    Example:

    \b
        renkou node restore --from /media/usb/上南村-2026-11-29.db --yes
    """
    from node.store.backup import restore as restore_backup

    if not yes:
        raise click.UsageError("恢复会替换本节点数据库，请加 --yes 确认 / add --yes to confirm")
    done = restore_backup(data_dir, source)
    click.echo(f"restored from {source} (its log stood at entry {done.backup_head})")
    click.echo(f"new epoch {done.epoch} opened; sync as usual")
    if done.replaced is not None:
        click.echo(f"the replaced database is kept as {done.replaced}")


@click.command("new-epoch")
@click.option(
    "--reason",
    type=click.Choice(["restore", "fork"]),
    required=True,
    help="restore: this store is an old copy; fork: the parent reported a fork of our log.",
)
@click.option("--yes", is_flag=True, help="Confirm: close the current log for good.")
@data_dir_option
@reports_errors
def new_epoch(reason: str, yes: bool, data_dir: Path) -> None:
    """Close this node's log and write on in a new one (SPEC §3.5).

    For a store that sync reports as behind its parent (put back by hand from an old
    copy) or whose log forked. Entries of the closed log the parent lacks are still
    sent; nothing written from now on can collide with what the parent holds.

    Example:

    \b
        renkou node new-epoch --reason restore --yes
    """
    from node.store.store import NodeStore
    from node.sync.epochs import known_epoch

    if not yes:
        raise click.UsageError("会关闭本节点当前日志，请加 --yes 确认 / add --yes to confirm")
    store = NodeStore.open(data_dir)
    try:
        old = store.changelog.log
        entry = store.start_epoch(reason, known_epoch(store))
    finally:
        store.close()
    click.echo(f"closed {old}; writing on in {entry.log}")
