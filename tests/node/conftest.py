# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the node's tests: a fresh village store on disk; a county's administrator
and its nodes, made with the ``renkou`` command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from node.store.store import NodeStore
from protocol import NodeId


@pytest.fixture
def store(tmp_path: Path) -> Iterator[NodeStore]:
    """A new village node (440104001002, 测试村), closed after the test."""
    opened = NodeStore.init(tmp_path / "v", NodeId.for_code("440104001002"), "测试村")
    yield opened
    opened.close()


@pytest.fixture
def admin_dir(tmp_path: Path, renkou: Callable[..., str]) -> str:
    """The administrator's directory of county 440104 with its issuing key, the root
    made offline in ``root`` beside it (``renkou keys init-county``)."""
    admin = str(tmp_path / "admin")
    root = str(tmp_path / "root")
    renkou("keys", "init-county", "--code", "440104", "--admin-dir", admin, "--root-dir", root)
    return admin


@pytest.fixture
def node_dirs(tmp_path: Path, admin_dir: str, renkou: Callable[..., str]) -> dict[str, str]:
    """Data dirs of the county, a township and a village below it, by code, each
    initialised (``renkou node init``) but not yet enrolled."""
    dirs = {code: str(tmp_path / code) for code in ("440104", "440104001", "440104001002")}
    for code, d in dirs.items():
        renkou("node", "init", "--code", code, "--name", code, "--data-dir", d)
    return dirs


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """What node code prints, in English for the test's words: an English terminal
    (``LANG=en_US.UTF-8``), so commands the test runs keep it too; Chinese, the default,
    is tests/node/test_cli_language.py's."""
    from node.i18n import set_cli_locale

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    set_cli_locale(None)
