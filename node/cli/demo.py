# SPDX-License-Identifier: Apache-2.0
"""``renkou demo``: a county on this machine, from a village's records to the county."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
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
    from node.demo import run_demo

    run_demo(directory, once=once, seed=seed, echo=click.echo)
