# SPDX-License-Identifier: Apache-2.0
"""What ``renkou node status`` loads in a fresh process (issue 13: cold start <= 1.5 s).

The time itself is a benchmark figure (``python -m tests.bench store``: node.cold_start),
never a test; what a test can hold is that a village's status does not import what only
other commands need: the county's commands and reports, the spreadsheet writer, the
pages' web framework, the pinyin tables, babel's date machinery.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from deploy.cli import cli

NOT_FOR_STATUS = ("county_aggregator", "openpyxl", "flask", "pypinyin", "babel")

RUN = """
import json, sys
from deploy.cli import main
sys.argv = ["renkou", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code
print(json.dumps({"exit": code, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _loaded_by(*args: str) -> tuple[int, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return found["exit"], set(found["loaded"])


def test_node_status_loads_only_what_it_prints(tmp_path: Path) -> None:
    where = str(tmp_path / "v")
    made = CliRunner().invoke(
        cli, ["node", "init", "--code", "441322119001", "--name", "上南村", "--data-dir", where]
    )
    assert made.exit_code == 0, made.output
    code, loaded = _loaded_by("node", "status", "--data-dir", where)
    assert code == 0
    assert "node" in loaded and "sqlite_utils" in loaded  # it did open the store
    assert loaded.isdisjoint(NOT_FOR_STATUS), sorted(loaded.intersection(NOT_FOR_STATUS))


def test_the_county_group_is_there_when_named() -> None:
    """Lazily joined, ``renkou county`` is still listed and runs in the chosen language."""
    runner = CliRunner()
    root = runner.invoke(cli, ["--lang", "en", "--help"])
    assert "county" in root.output and "County aggregator" in root.output
    county = runner.invoke(cli, ["--lang", "zh", "county", "merge", "--help"])
    assert county.exit_code == 0 and "合并上次合并以来收到的变更" in county.output
    code, loaded = _loaded_by("--lang", "en", "county", "--help")
    assert code == 0 and "county_aggregator" in loaded
