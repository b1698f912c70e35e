# SPDX-License-Identifier: Apache-2.0
"""``pytest tests/sim --seed N`` runs exactly simulation seed N, with its full report.

Tests that take seeds are marked ``@pytest.mark.seeds(<seeds>)``; seeds that show a
known bug (tests/sim/seeds.py BUG_SEEDS) run as strict xfails. With ``--seed N`` only
``test_seed`` runs, on N alone and without any xfail, so the failure shows.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

MAIN = "test_seed"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--seed",
        action="store",
        type=int,
        default=None,
        help="tests/sim: run only this simulation seed (as named in a failure report)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "seeds(seeds): simulation seeds a tests/sim test runs (see conftest.py)"
    )


def _chosen(config: pytest.Config) -> int | None:
    return config.getoption("seed", default=None)  # type: ignore[no-any-return]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("seeds")
    if marker is None or "seed" not in metafunc.fixturenames:
        return
    from tests.sim.invariants import KNOWN_BUGS
    from tests.sim.seeds import BUG_SEEDS

    chosen = _chosen(metafunc.config)
    if chosen is not None:
        seeds = [chosen] if metafunc.definition.originalname == MAIN else []
        metafunc.parametrize("seed", seeds, ids=[f"seed{s}" for s in seeds])
        return
    params = []
    for s in marker.args[0]:
        marks = []
        if s in BUG_SEEDS:
            reason = KNOWN_BUGS[BUG_SEEDS[s]]
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(s, id=f"seed{s}", marks=marks))
    metafunc.parametrize("seed", params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _chosen(config) is None:
        return
    here = Path(__file__).parent
    keep, drop = [], []
    for item in items:
        in_sim = here in Path(str(item.fspath)).parents
        is_main = getattr(item, "originalname", "") == MAIN
        (drop if in_sim and not is_main else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def sim_root(tmp_path: Path) -> Iterator[Path]:
    """A scratch dir for one world, on tmpfs when there is one: every hand-made write
    is an fsync (synchronous=FULL), which tmpfs makes free; crash semantics are the same
    (a restart sees what SQLite committed)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(prefix="renkou-sim-", dir=shm) as d:
            yield Path(d)
    else:
        yield tmp_path
