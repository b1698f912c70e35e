# SPDX-License-Identifier: Apache-2.0
"""The benchmark runner prints one JSON object per figure; its verdicts read targets.

Figures are never asserted against targets (machines are noisy); these tests only keep
the runner and the report working. Every group at its quick size runs under -m slow.
"""

from __future__ import annotations

import json

import pytest

from tests.bench.__main__ import GROUPS, main
from tests.bench.report import TARGETS, verdict


def test_a_group_prints_json_lines_with_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--quick"]) == 0
    lines = capsys.readouterr().out.splitlines()
    figures = [json.loads(line) for line in lines]
    assert [f["name"] for f in figures] == ["diff.vs_changeset"]
    figure = figures[0]
    assert figure["rows"] > 0 and figure["ops_per_s"] > 0 and figure["changeset_ops_per_s"] > 0
    assert figure["machine"]["cpus"] >= 1


def test_verdicts_compare_with_the_target() -> None:
    assert verdict("merge.apply", {"ops_per_s": 120_000})[2] == "met"
    assert verdict("merge.apply", {"ops_per_s": 20_000})[2] == "**not met**"
    assert verdict("protocol.wire", {"ratio_to_floor": 1.2})[2] == "met"
    assert verdict("sync.wire", {"ratio_to_floor": 9})[1] == "reported"


def test_an_unknown_group_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["nonsense"])
    assert "unknown group" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_group_runs_at_its_quick_size(group: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([group, "--quick"]) == 0
    names = [json.loads(line)["name"] for line in capsys.readouterr().out.splitlines()]
    assert names and all(name in TARGETS for name in names), names  # each has a doc row
