# SPDX-License-Identifier: Apache-2.0
"""design.md, Wiring: node/ never imports county_aggregator/.

The county may use the node (its store's API, its domain); the node must work without
the county, so the root ``renkou`` command and the demo, which join both, live in
deploy/. Any way of naming the county package from node/ counts: an import statement
(at the top, in a function, behind TYPE_CHECKING), importlib.import_module,
__import__, importlib.util.find_spec, or its module name kept in a string to import
later.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.source_scan import ROOT, is_under, module_of, named_modules, rel

NODE_SOURCES = sorted((ROOT / "node").rglob("*.py"))
COUNTY = "county_aggregator"


def county_names(source: str, module: str = "node.x") -> list[str]:
    named = (name for n in named_modules(source, module) for name in n.names())
    return [name for name in named if is_under(name, COUNTY)]


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import county_aggregator", True),
        ("from county_aggregator.merge import merge_new", True),
        ("def f():\n    from county_aggregator import store", True),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import county_aggregator", True),
        ("import importlib\nimportlib.import_module('county_aggregator.cli')", True),
        ("__import__('county_aggregator')", True),
        ("import importlib.util\nimportlib.util.find_spec('county_aggregator.cli')", True),
        (
            "for name in ('county_aggregator.cli', 'node.cli.keys'):\n"
            "    importlib.util.find_spec(name)",
            True,
        ),
        ("from node.store.store import NodeStore", False),
        ('"""See county_aggregator/outcomes.py for the sender."""', False),
        ("x = 'county_aggregator is the county side'", False),
        ("from . import county_aggregator_like", False),
    ],
)
def test_scanner_finds_the_county(source: str, found: bool) -> None:
    """Good/bad pairs for the scanner itself, so an empty result below means something."""
    assert found == bool(county_names(source))


def test_node_sources_found() -> None:
    names = {rel(p) for p in NODE_SOURCES}
    assert {"node/__init__.py", "node/cli/__init__.py", "node/store/store.py"} <= names


@pytest.mark.parametrize("path", NODE_SOURCES, ids=rel)
def test_node_never_names_the_county(path: Path) -> None:
    """node/ imports nothing from county_aggregator/, by any means."""
    module = module_of(path)
    found = county_names(path.read_text("utf-8"), module)
    assert [] == found


def test_the_root_command_joins_both() -> None:
    """The one entry point still offers every role (it lives in deploy/ now)."""
    from click.testing import CliRunner

    from deploy.cli import cli

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    for group in ("node", "county", "keys", "demo", "version"):
        assert f"  {group} " in result.output
