# SPDX-License-Identifier: Apache-2.0
"""Hooks for the whole suite: a skip fails the run unless its reason is allowed
(tests/skip_policy.py)."""

from __future__ import annotations

from tests.skip_policy import (  # noqa: F401 - pytest finds hooks by name here
    pytest_configure,
    pytest_runtest_logreport,
    pytest_sessionfinish,
)
