# SPDX-License-Identifier: Apache-2.0
"""``renkou county …`` through click's CliRunner, on a county node directory."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from county_aggregator.cli import county
from deploy.cli import cli
from tests.county_aggregator.scenario import Villages, county_db
from tests.county_aggregator.test_rules import H, R, two_cards


@pytest.fixture
def county_dir(villages: Villages, tmp_path: Path) -> Path:
    two_cards(villages, hukou_knows=False)
    villages.write(H, "person", "P1", {"phone": "13700000000"})
    villages.write(R, "person", "P7", {"phone": "13600000000"})
    store = county_db(tmp_path, villages.entries(), villages.clock)
    store.close()
    return store.data_dir


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["--lang", "en", "county", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_rebuild_merge_conflicts_resolve_quality(county_dir: Path) -> None:
    d = ["--data-dir", str(county_dir)]
    assert "entries merged" in run("rebuild", *d, "--merged", str(county_dir / "m.db"))
    assert "Merged: 0 entries" in run("merge", *d, "--merged", str(county_dir / "m.db"))
    run("merge", *d)  # the default merged.db in the data dir
    items = json.loads(run("conflicts", "list", *d, "--json"))
    phone = next(i for i in items if "phone" in i["fields"])
    assert phone["status"] == "open"
    shown = run("conflicts", "show", phone["id"][:8], *d)
    assert phone["id"] in shown and "phone" in shown
    assert "Advisory written" in run("conflicts", "resolve", phone["id"], "--choose", "b", *d)
    assert "advised" in run("conflicts", "list", *d, "--status", "advised")
    pending = json.loads(run("advisories", *d, "--json"))
    assert any(p["conflict"] == phone["id"] for p in pending)
    assert isinstance(json.loads(run("quality", *d, "--json")), list)


def test_unknown_conflict_is_a_bilingual_error(county_dir: Path) -> None:
    run("merge", "--data-dir", str(county_dir))
    result = CliRunner().invoke(
        cli, ["county", "conflicts", "show", "ffff", "--data-dir", str(county_dir)]
    )
    assert result.exit_code == 1
    assert "conflict_not_found" in result.output


def test_every_command_has_an_example() -> None:
    """style.md: hyphenated verbs, an ``Example:`` block in every docstring."""
    import click

    def walk(group: click.Group) -> list[click.Command]:
        out: list[click.Command] = []
        for command in group.commands.values():
            out += walk(command) if isinstance(command, click.Group) else [command]
        return out

    for command in walk(county):
        # The docstring, in English: ``help`` is in the language of the last run.
        assert "Example:" in (command.callback.__doc__ or ""), command.name
        assert command.name == command.name.lower() and "_" not in (command.name or "")


def test_the_merged_database_is_private_to_its_user(county_dir: Path, tmp_path: Path) -> None:
    """Issue 13, fact 8 (the county's part): merged.db was created 0644 under the usual
    umask. The ``renkou`` command runs under umask 077, so every file it creates is its
    user's alone; the caller's umask is back when it returns."""
    merged = tmp_path / "m.db"
    before = os.umask(0o022)
    try:
        run("merge", "--data-dir", str(county_dir), "--merged", str(merged))
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(before)
    assert stat.S_IMODE(merged.stat().st_mode) == 0o600

