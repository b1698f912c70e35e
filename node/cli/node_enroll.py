# SPDX-License-Identifier: Apache-2.0
"""``renkou node enroll``: enrol this PC with the one-time code from the administrator.

The PC's keys are generated here (``renkou node init``, or by this command when the
data dir is new) and never leave it; only the public keys travel, in a request signed
by them and MACed with the code (node/keys/enrolment.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors


@click.command("enroll")
@click.option("--code", required=True, help="The one-time code from the administrator.")
@click.option(
    "--county-url",
    required=True,
    help="The county's address (where its revocation lists are published).",
)
@click.option(
    "--via",
    default="",
    help="Send the request through this address (the township's) instead of the county's.",
)
@click.option("--node", "node_code", default="", help="This PC's node code (for a new data dir).")
@click.option("--name", default="", help="The node's name (for a new data dir).")
@data_dir_option
@reports_errors
def enroll(code: str, county_url: str, via: str, node_code: str, name: str, data_dir: Path) -> None:
    """Enrol this PC with a one-time code: keys made here, certificates fetched.

    A new data dir is initialised first (--node and --name), its keys sealed under the
    passphrase (asked at the terminal, or RENKOU_PASSPHRASE).

    Example:

    \b
        renkou node enroll --node 441322119001 --name 上南村 --code K7QF-3XD2-9MPA \\
            --county-url http://county.example:8440 --via http://town.example:8440
    """
    from node.identity import load_identity
    from node.keys.dates import local_time
    from node.keys.enrolment import enrol_with_code
    from node.store.database import DB_NAME

    for url in (county_url, via):
        if url and not url.startswith(("http://", "https://")):
            raise click.UsageError(f"{url!r} 不是 http(s) 地址 / is not an http(s) address")
    if not (data_dir / DB_NAME).exists():
        _init(data_dir, node_code, name)
    elif node_code and load_identity(data_dir).node.code != node_code:
        raise click.UsageError(
            f"{data_dir} 中的节点是 {load_identity(data_dir).node}，不是 {node_code} / "
            f"{data_dir} holds {load_identity(data_dir).node}, not {node_code}"
        )
    answer = enrol_with_code(
        data_dir, code, via or county_url, time.time_ns() // 1_000_000, county_url=county_url
    )
    cert = answer.node
    click.echo(
        f"已登记 {cert.node}（证书 {cert.serial}，有效至 {local_time(cert.not_after)}），"
        f"上级 {answer.parent.node} / enrolled {cert.node} (certificate {cert.serial}), "
        f"parent {answer.parent.node}"
    )
    from node.sync.parent import parent_url

    kept = parent_url(data_dir)
    step = f"--data-dir {data_dir}" if kept else f"--parent-url URL --data-dir {data_dir}"
    click.echo(f"下一步 / next: renkou node sync {step}")


def _init(data_dir: Path, node_code: str, name: str) -> None:
    from node.domain.divisions import check_node_code
    from node.domain.text import check_node_name
    from node.store.store import NodeStore
    from protocol import NodeId

    if not node_code or not name:
        raise click.UsageError(
            f"{data_dir} 中还没有节点：请同时给出 --node 和 --name / {data_dir} holds no node "
            "yet: give --node and --name to create it"
        )
    check_node_code(node_code, field="node")
    check_node_name(name)
    store = NodeStore.init(data_dir, NodeId.for_code(node_code), name)
    store.close()
    click.echo(f"已在 {data_dir} 创建节点 {store.node} / initialised {store.node} in {data_dir}")
