# SPDX-License-Identifier: Apache-2.0
"""``renkou node recover``: get this village's current cards back from the county (SPEC.md
§8.10), on a new PC enrolled for it or after a restore from an old backup."""

from __future__ import annotations

import time
from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors
from node.errors import NodeError
from node.i18n import gettext as _


@click.command("recover")
@click.option("--code", required=True, help="The code of the node whose cards to get back.")
@click.option(
    "--parent-url",
    envvar="RENKOU_PARENT_URL",
    default=None,
    help="The parent's address (the township's).",
)
@click.option(
    "--wait",
    type=click.IntRange(0, 86_400),
    default=600,
    show_default=True,
    help="Seconds to wait for the county's answer (0: ask and return).",
)
@click.option("--again", is_flag=True, help="Ask anew instead of repeating the waiting request.")
@data_dir_option
@reports_errors
def recover(code: str, parent_url: str | None, wait: int, again: bool, data_dir: Path) -> None:
    """Ask the county for this node's current cards and start a new epoch from them.

    The county makes the cards from the entries it holds, seals them for this PC's
    key alone and sends them down through the township, which passes them on at its
    next sync. Enrol the PC first (renkou node enroll); after a restore, sync first.

    Example:

    \b
        renkou node recover --code 441322119001 --parent-url http://town.example:8440
    """
    from node.store.store import NodeStore
    from node.sync.client import SyncClient
    from node.sync.parent import parent_url as kept_parent_url
    from node.sync.recover import ask, collect

    parent_url = parent_url or kept_parent_url(data_dir)  # kept at enrolment
    if not parent_url:
        raise click.UsageError(_("--parent-url (or RENKOU_PARENT_URL) is required."))
    if not parent_url.startswith(("http://", "https://")):
        raise click.UsageError(f"{parent_url!r} 不是 http(s) 地址 / is not an http(s) address")
    store = NodeStore.open(data_dir)
    try:
        if store.node.code != code:
            raise NodeError(
                f"本机是 {store.node}，不是 {code}：只能取回本机所登记节点的卡片",
                f"this PC is {store.node}, not {code}: it can recover only its own cards",
                code="recovery.wrong_node",
            )
        client = SyncClient(store, parent_url)
        ask(client, again=again)
        click.echo(_("Asked the county for the cards of %(node)s.", node=store.node))
        deadline = time.monotonic() + wait
        event = collect(client)
        while event is None and time.monotonic() < deadline:
            time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
            event = collect(client)
        if event is None:
            click.echo(_("The cards have not come yet; run this command again later."))
            return
    finally:
        store.close()
    click.echo(_("Recovered %(n)s cards from the county; writing on in epoch %(epoch)s.",
                 n=event.records, epoch=event.epoch))  # fmt: skip
