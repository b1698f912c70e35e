# SPDX-License-Identifier: Apache-2.0
"""Hooks and fixtures for the whole suite.

Hooks: a skip fails the run unless its reason is allowed (tests/skip_policy.py).

Fixtures every test folder may use (flaskr's and sqlite-utils' tests/conftest.py);
folder conftest.py files add their own (tests/node: a fresh village store; tests/
county_aggregator: a scenario and a merged database; tests/protocol: seeded keys).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from node.keys import sealed
from tests.skip_policy import (  # noqa: F401 - pytest finds hooks by name here
    pytest_configure,
    pytest_runtest_logreport,
    pytest_sessionfinish,
)

# Key files are sealed under the operator's passphrase (node/keys/unlock.py). The suite
# runs unattended, so the passphrase comes from the environment, as a script's would;
# the Argon2id cost is lowered to its minimum, as Django's tests use a fast password
# hasher (a new node derives a key once, and the suite makes thousands of nodes). The
# OS keyring stays out: a developer's own keychain must not fill with test keys.
TEST_PASSPHRASE = "test passphrase of the suite"
os.environ.setdefault("RENKOU_PASSPHRASE", TEST_PASSPHRASE)
os.environ["RENKOU_KEYRING"] = "off"
sealed.KDF_COST = sealed.KdfCost(time=1, memory_kib=8, lanes=1)


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
