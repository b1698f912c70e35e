# SPDX-License-Identifier: Apache-2.0
"""Hooks and fixtures for the whole suite.

Hooks: a skip fails the run unless its reason is allowed (tests/skip_policy.py).

Fixtures every test folder may use (flaskr's and sqlite-utils' tests/conftest.py);
folder conftest.py files add their own (tests/node: a fresh village store; tests/
county_aggregator: a scenario and a merged database; tests/protocol: seeded keys).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner

from tests.skip_policy import (  # noqa: F401 - pytest finds hooks by name here
    pytest_configure,
    pytest_runtest_logreport,
    pytest_sessionfinish,
)


@pytest.fixture
def runner() -> CliRunner:
    """click's runner for the ``renkou`` command."""
    return CliRunner()


@pytest.fixture
def renkou(runner: CliRunner) -> Callable[..., str]:
    """Run ``renkou ARGS…`` as an officer would; it must succeed. Returns what it printed,
    in English (``--lang en``: the tests read its words; the Chinese every command prints
    by default is tests/node/test_cli_language.py's)."""

    from deploy.cli import cli

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--lang", "en", *args])
        assert result.exit_code == 0, result.output
        return result.output

    return run
