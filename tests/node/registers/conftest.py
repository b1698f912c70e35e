# SPDX-License-Identifier: Apache-2.0
"""Fixtures: a store whose change-log clock the test sets, and the sample village."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import node.store.changelog as changelog
from node.store.store import NodeStore
from tests.node.registers.sample import VILLAGE, FakeClock, Village, build_village


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Patch the change log's clock before a store is opened (it is read at open)."""
    fake = FakeClock()
    monkeypatch.setattr(changelog, "now_ms", fake)
    return fake


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[NodeStore]:
    opened = NodeStore.init(tmp_path / "v", VILLAGE, "测试村")
    yield opened
    opened.close()


@pytest.fixture
def village(store: NodeStore) -> Village:
    return build_village(store)
