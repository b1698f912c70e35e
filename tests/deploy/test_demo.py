# SPDX-License-Identifier: Apache-2.0
"""`renkou demo --once`, the README's first command, end to end on loopback.

Real stores, real waitress servers, real sync, the county's merge and the outcome
notices back to every village; the summary must say every village was confirmed.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from deploy.cli import cli
from node.store.store import NodeStore


def test_the_demo_county_syncs_merges_and_tells_every_village(
    tmp_path: Path, runner: CliRunner
) -> None:
    result = runner.invoke(cli, ["demo", "--once", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    confirmed = re.findall(r"(\d)/4$", result.output, re.M)
    assert confirmed == ["4", "4", "4"], result.output
    assert "12 villages told the merge outcome" in result.output
    # Issue 15: each village's pages, with a demo sign-in for each role.
    assert "officer (村计生专干) · reviewer (乡镇审核员)" in result.output
    assert "password renkou-demo" in result.output
    assert len(re.findall(r"^  \S+第\d村 +http://127\.0\.0\.1:\d+/$", result.output, re.M)) == 12
    stored = int(re.search(r"(\d+) entries verified and stored", result.output).group(1))
    village = NodeStore.open(tmp_path / "441322119001")
    try:
        assert village.db.execute("SELECT COUNT(*) FROM county_outcome_ranges").fetchone()[0] == 1
    finally:
        village.close()
    county = NodeStore.open(tmp_path / "441322")
    try:
        held = county.db.execute("SELECT COUNT(*) FROM received_entries").fetchone()[0]
    finally:
        county.close()
    assert held == stored > 10_000
    # Issue 14: every town and village PC enrolled with a one-time code over the network
    # (a village through its town), the root offline and never in the aggregator's dir.
    enrolled = re.findall(
        r"^  enrolled (township|village):\d+ with code [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4} "
        r"via http://127\.0\.0\.1:\d+ ",
        result.output,
        re.M,
    )
    assert sorted(enrolled) == ["township"] * 3 + ["village"] * 12, result.output
    assert len(list((tmp_path / "admin" / "invites" / "used").iterdir())) == 15
    assert not (tmp_path / "admin" / "root.key").exists()
