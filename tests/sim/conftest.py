# SPDX-License-Identifier: Apache-2.0
"""``pytest tests/sim --seed N`` runs exactly simulation seed N, with its full report.

``--seed-range A:B`` keeps only seeds A <= s < B of every seeded test: a slow run split
over processes (``-m slow --seed-range 200:2700`` and ``--seed-range 2700:5200``).

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
_NO = type("NoCallspec", (), {"params": {}})()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--seed",
        action="store",
        type=int,
        default=None,
        help="tests/sim: run only this simulation seed (as named in a failure report)",
    )
    parser.addoption(
        "--seed-range",
        action="store",
        default=None,
        help="tests/sim: run only the seeds A <= s < B of each seeded test (A:B)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "seeds(seeds): simulation seeds a tests/sim test runs (see conftest.py)"
    )


def _chosen(config: pytest.Config) -> int | None:
    return config.getoption("seed", default=None)  # type: ignore[no-any-return]


def _range(config: pytest.Config) -> tuple[int, int]:
    text = config.getoption("seed_range", default=None)
    if text is None:
        return 0, 2**63
    low, sep, high = str(text).partition(":")
    if not sep or not low.isdigit() or not high.isdigit():
        raise pytest.UsageError(f"--seed-range takes A:B (two whole numbers), not {text!r}")
    return int(low), int(high)


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
    low, high = _range(metafunc.config)
    for s in marker.args[0]:
        if not low <= s < high:
            continue
        marks = []
        if s in BUG_SEEDS:
            reason = KNOWN_BUGS[BUG_SEEDS[s]]
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(s, id=f"seed{s}", marks=marks))
    metafunc.parametrize("seed", params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("seed_range", default=None) is not None:
        # A seeded test none of whose seeds is in the range is deselected, not skipped
        # with an empty parameter set.
        empty = [
            i
            for i in items
            if i.get_closest_marker("seeds") and "seed" not in getattr(i, "callspec", _NO).params
        ]
        if empty:
            config.hook.pytest_deselected(items=empty)
            items[:] = [i for i in items if i not in empty]
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
