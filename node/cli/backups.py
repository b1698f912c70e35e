# SPDX-License-Identifier: Apache-2.0
"""``renkou node backup|restore|new-epoch``: copies of the node's database, and the new
epoch of its log that a restored or forked store writes on in (SPEC §3.5)."""

from __future__ import annotations

from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors
from node.i18n import gettext as _


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
    click.echo(_("Backed up %(node)s through entry %(head)s of its log to %(target)s.",
                 node=store.node, head=head, target=target))  # fmt: skip


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
        raise click.UsageError(_("Restoring replaces this node's database: add --yes to confirm."))
    done = restore_backup(data_dir, source)
    click.echo(_("Restored from %(source)s (its log stood at entry %(head)s).", source=source,
                 head=done.backup_head))  # fmt: skip
    click.echo(_("New epoch %(epoch)s opened; sync as usual.", epoch=done.epoch))
    if done.replaced is not None:
        click.echo(_("The replaced database is kept as %(path)s.", path=done.replaced))
    from node.identity import load_certificate

    cert = load_certificate(data_dir, "node.cert")  # public: no passphrase asked again
    if cert is not None:
        click.echo(_("The cards of the lost period come back from upstream: sync, then run"
                     " renkou node recover --code %(code)s --parent-url <the parent's address>.",
                     code=cert.node.code))  # fmt: skip


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
    from node.store.carry import start_epoch_carrying
    from node.store.store import NodeStore
    from node.sync.epochs import known_epoch

    if not yes:
        raise click.UsageError(_("This closes the node's current log: add --yes to confirm."))
    store = NodeStore.open(data_dir)
    try:
        old = store.changelog.log
        done = start_epoch_carrying(store, reason, known_epoch(store))
    finally:
        store.close()
    click.echo(_("Closed %(old)s; writing on in %(new)s.", old=old, new=done.entry.log))
    if done.abandoned:
        click.echo(
            _(
                "%(n)s changes written after entry %(kept)s, which the parent does not hold,"
                " were recorded again in the new epoch",
                n=done.abandoned,
                kept=done.kept,
            )
        )
    for old_id, new_id in sorted(done.renamed.items()):
        click.echo(_("record %(old)s is now %(new)s", old=old_id, new=new_id))
    for kind, rid, name in done.unsealed:
        click.echo(
            _(
                "%(kind)s %(id)s: enter %(field)s again (it was sealed)",
                kind=kind,
                id=rid,
                field=name,
            )
        )
