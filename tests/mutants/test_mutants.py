# SPDX-License-Identifier: Apache-2.0
"""The mutant list stays pointed at its defences, and the runner tells kills from survivors.

Running every mutant is ``make mutants`` (minutes); these checks are cheap enough for
every ``pytest``: a refactoring that moves a defence shows up here at once, naming the
mutant to re-point.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.mutants.catalogue import ROOT, Mutant, load, problems
from tests.mutants.run import main


def test_every_mutant_still_finds_its_defence() -> None:
    """Each original snippet occurs exactly once in its file; each named test file exists."""
    assert problems(load()) == []


def test_the_list_covers_at_least_forty_defences() -> None:
    mutants = load()
    assert len(mutants) >= 40
    assert len({m.id for m in mutants}) == len(mutants)


def test_every_named_test_is_collected() -> None:
    """A test id that does not exist would make its mutant an error at run time; say so
    here already (one collection of the named files, no test run)."""
    tests = sorted({t for m in load() for t in m.tests})
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *tests],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_a_mutant_whose_snippet_moved_is_stale() -> None:
    m = Mutant("x", "d", "f.py", (("a = 1", "a = 2"),), ("t.py::t",))
    with pytest.raises(ValueError, match="occurs 0 times"):
        m.apply("b = 1\n")
    with pytest.raises(ValueError, match="occurs 2 times"):
        m.apply("a = 1\na = 1\n")
    assert "a = 2\n" == m.apply("a = 1\n")


def _toy_repo(root: Path) -> None:
    """A package with two defences, one tested and one not, and their tests."""
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "__init__.py").write_text("")
    (root / "toy" / "guard.py").write_text(
        textwrap.dedent(
            """
            def check_age(age):
                if age < 0:
                    raise ValueError("negative")


            def check_name(name):
                if not name:
                    raise ValueError("empty")
            """
        )
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_guard.py").write_text(
        textwrap.dedent(
            """
            import pytest

            from toy.guard import check_age, check_name


            def test_negative_age_is_refused():
                with pytest.raises(ValueError):
                    check_age(-1)


            def test_a_name_passes():
                check_name("x")
            """
        )
    )
    (root / "mutants.toml").write_text(
        textwrap.dedent(
            """
            [[mutant]]
            id = "age"
            defence = "negative ages are refused"
            file = "toy/guard.py"
            original = '    if age < 0:'
            replacement = '    if False:'
            tests = ["tests/test_guard.py::test_negative_age_is_refused"]

            [[mutant]]
            id = "name"
            defence = "empty names are refused (no test checks it)"
            file = "toy/guard.py"
            original = '    if not name:'
            replacement = '    if False:'
            tests = ["tests/test_guard.py::test_a_name_passes"]

            [[mutant]]
            id = "moved"
            defence = "a snippet that is no longer there"
            file = "toy/guard.py"
            original = '    if age <= 0:'
            replacement = '    if False:'
            tests = ["tests/test_guard.py::test_negative_age_is_refused"]
            """
        )
    )
    for cmd in (["git", "init", "-q"], ["git", "add", "."]):
        subprocess.run(cmd, cwd=root, check=True)


def test_the_runner_kills_reports_survivors_and_stale_snippets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a scratch copy, never in the tree: the survivor and the stale snippet fail the
    run, the killed mutant counts, and the last line says how many were killed."""
    root = tmp_path / "repo"
    _toy_repo(root)
    before = (root / "toy" / "guard.py").read_text()
    status = main(["--root", str(root), "--catalogue", str(root / "mutants.toml"), "--jobs", "1"])
    out = capsys.readouterr().out.splitlines()
    assert status == 1
    assert (root / "toy" / "guard.py").read_text() == before
    verdicts = {
        line.split()[1]: line.split()[0] for line in out if line.startswith(("killed", "survived"))
    }
    assert verdicts == {"age": "killed", "name": "survived"}
    assert any(line.startswith("FAILED moved: stale") for line in out)
    assert out[-1] == "1 killed, 1 survived, 1 stale, 0 errors"
    status = main(["--root", str(root), "--catalogue", str(root / "mutants.toml"), "--only", "age"])
    assert status == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 killed"
