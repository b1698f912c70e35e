# SPDX-License-Identifier: Apache-2.0
"""The ``renkou`` command: one click group, a subgroup per role.

``renkou node …`` (village and township officers), ``renkou county …`` (the county
aggregator, registered from county_aggregator when installed), ``renkou keys …``
(administrators) and ``renkou demo``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from node.cli.demo import demo
from node.cli.node_commands import node


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """renkou-net: county population-services records network."""


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


cli.add_command(node)
cli.add_command(demo)

for module_name, attr in (("county_aggregator.cli", "county"), ("node.cli.keys", "keys")):
    # A role's commands appear once its package provides them; a broken one still fails.
    if importlib.util.find_spec(module_name) is not None:
        cli.add_command(getattr(importlib.import_module(module_name), attr))


def main() -> None:
    sys.exit(cli.main(prog_name="renkou", standalone_mode=True))
