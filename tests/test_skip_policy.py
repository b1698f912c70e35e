# SPDX-License-Identifier: Apache-2.0
"""A skipped test fails the run unless its reason is allowed (tests/skip_policy.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pytest(directory: Path) -> tuple[int, str]:
    (directory / "conftest.py").write_text(
        textwrap.dedent(
            """
            import tests.skip_policy as policy

            policy.ALLOWED["allowed here: "] = "for this test only"
            from tests.skip_policy import (  # noqa: F401
                pytest_configure, pytest_runtest_logreport, pytest_sessionfinish,
            )
            """
        )
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory)],
        cwd=directory,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    return out.returncode, out.stdout + out.stderr


def test_a_skip_without_an_allowed_reason_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_some.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_fine():
                pass

            def test_skips_itself():
                pytest.skip("the optional module is missing")

            @pytest.mark.xfail(strict=True)
            def test_expected_to_fail():
                assert False
            """
        )
    )
    code, out = _pytest(tmp_path)
    assert code == 1, out
    assert "test_some.py::test_skips_itself: the optional module is missing" in out
    assert "1 passed, 1 skipped, 1 xfailed" in out


def test_an_allowed_reason_and_an_expected_failure_pass(tmp_path: Path) -> None:
    (tmp_path / "test_some.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.skip(reason="allowed here: a listed reason")
            def test_listed():
                pass

            @pytest.mark.xfail(strict=True)
            def test_expected_to_fail():
                assert False
            """
        )
    )
    code, out = _pytest(tmp_path)
    assert code == 0, out
