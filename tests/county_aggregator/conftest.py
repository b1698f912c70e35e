# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the county merge tests: village stores on one clock, a fresh merged db."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from county_aggregator.merge import apply_entries
from county_aggregator.store import init_merged
from tests.county_aggregator.scenario import COUNTY, Villages


@pytest.fixture
def villages(tmp_path: Path) -> Iterator[Villages]:
    v = Villages(tmp_path / "villages")
    yield v
    v.close()


@pytest.fixture
def fresh_db() -> Database:
    return init_merged(Database(memory=True))


def merge(villages: Villages) -> Database:
    """Every entry the villages wrote, merged into a fresh database."""
    db = init_merged(Database(memory=True))
    apply_entries(db, villages.entries(), county=COUNTY)
    return db


def record(db: Database, kind: str, key: str) -> dict[str, Any]:
    row = db.execute(
        "SELECT data, origins, village, retired FROM merged_records WHERE kind = ? AND key = ?",
        [kind, key],
    ).fetchone()
    assert row is not None, f"no merged {kind} {key}"
    return {
        "data": json.loads(row[0]),
        "origins": json.loads(row[1]),
        "village": row[2],
        "retired": row[3],
    }


def conflicts(db: Database) -> list[dict[str, Any]]:
    cur = db.execute("SELECT * FROM conflicts ORDER BY kind, key, field, id")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur]
