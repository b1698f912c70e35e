# SPDX-License-Identifier: Apache-2.0
"""Fixtures: a store whose change-log clock the test sets, and the sample village."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.store.store import NodeStore
from tests.node.registers.sample import VILLAGE, FakeClock, Village, build_village


@pytest.fixture
def clock() -> FakeClock:
    """The change log's clock, set by each test (the store takes it at init)."""
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[NodeStore]:
    opened = NodeStore.init(tmp_path / "v", VILLAGE, "测试村", clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def village(store: NodeStore) -> Village:
    return build_village(store)
