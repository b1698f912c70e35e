# SPDX-License-Identifier: Apache-2.0
"""The ``renkou`` command: one click group, a subgroup per role.

``renkou node …`` (village and township officers, node/cli), ``renkou county …`` (the
county aggregator, county_aggregator/cli.py), ``renkou keys …`` (administrators,
node/cli/keys.py), ``renkou demo`` and ``renkou version``. Each role's package
defines its own group and knows nothing of the others; only this module joins them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from node.cli import keys, node
from node.i18n.cli import LocalizedGroup, lang_option

PRIVATE_UMASK = 0o077
"""Every file a command creates (exports, databases, backups, keys) is its user's alone:
they hold people's cards (issue 13, fact 8 and item 7). Restored when the command ends,
so a test or a caller in the same process keeps its own."""


@click.group(cls=LocalizedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@lang_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """renkou-net: county population-services records network."""
    before = os.umask(PRIVATE_UMASK)
    ctx.call_on_close(lambda: os.umask(before))


@cli.command()
def version() -> None:
    """Print the version of renkou-net and of its protocol.

    Example:

    \b
        renkou version
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    from protocol import VERSION

    try:
        v = dist_version("renkou-net")
    except PackageNotFoundError:
        v = "unknown"
    click.echo(f"renkou-net {v} (protocol v{VERSION})")


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep all demo data here (default: a temporary directory).",
)
@click.option("--once", is_flag=True, help="Run one full round and exit.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated villages.")
def demo(directory: Path | None, once: bool, seed: int) -> None:
    """Run a whole demo county: villages write, township relays, county opens and checks.

    Example:

    \b
        renkou demo --once
    """
    from deploy.demo import run_demo

    run_demo(directory, once=once, seed=seed, echo=click.echo)


cli.add_command(node)
cli.add_command(keys)
# Imported when a command line names it: the county's reports and their .xlsx writer
# are no part of a village's `renkou node status` (issue 13's cold start).
cli.add_lazy("county", "county_aggregator.cli:county")


def main() -> None:
    sys.exit(cli.main(prog_name="renkou", standalone_mode=True))
