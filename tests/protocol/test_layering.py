# SPDX-License-Identifier: Apache-2.0
"""protocol/ is sans-IO and the only door to cryptography's hazmat is protocol/crypto.py.

The source is scanned with ``ast`` rather than imported, so an import hidden in a
function body or behind ``if TYPE_CHECKING`` is found too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import protocol

PROTOCOL_DIR = Path(protocol.__file__).parent
SOURCES = sorted(PROTOCOL_DIR.rglob("*.py"))
BANNED = ("flask", "sqlite_utils", "requests", "socket", "node", "county_aggregator")
HAZMAT = "cryptography.hazmat"


def imported_modules(source: str) -> Iterator[str]:
    """Every absolute module an import statement (or a literal import_module call) names."""
    for item in ast.walk(ast.parse(source)):
        if isinstance(item, ast.Import):
            yield from (alias.name for alias in item.names)
        elif isinstance(item, ast.ImportFrom) and item.level == 0 and item.module:
            yield item.module
            yield from (f"{item.module}.{alias.name}" for alias in item.names)
        elif (
            isinstance(item, ast.Call)
            and isinstance(item.func, ast.Attribute | ast.Name)
            and getattr(item.func, "attr", getattr(item.func, "id", None))
            in ("import_module", "__import__")
            and item.args
            and isinstance(item.args[0], ast.Constant)
            and isinstance(item.args[0].value, str)
        ):
            yield item.args[0].value


def _is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _rel(path: Path) -> str:
    return path.relative_to(PROTOCOL_DIR.parent).as_posix()


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import flask", ["flask"]),
        ("from sqlite_utils.db import Database", ["sqlite_utils.db"]),
        ("def f():\n    import socket", ["socket"]),
        ("from cryptography import hazmat", ["cryptography.hazmat"]),
        ("import importlib\nimportlib.import_module('requests')", ["requests"]),
        ("from . import canonical", []),
        ("import nodes_of_a_graph", []),
    ],
)
def test_scanner_finds_imports(source: str, found: list[str]) -> None:
    """Good/bad pairs for the scanner itself, so an empty result means something."""
    hits = [m for m in imported_modules(source) if any(_is_under(m, b) for b in (*BANNED, HAZMAT))]
    assert set(found) <= set(hits)
    assert bool(found) == bool(hits)


def test_sources_found() -> None:
    """The scan covers the whole package, crypto.py included."""
    names = {_rel(p) for p in SOURCES}
    assert {"protocol/__init__.py", "protocol/crypto.py", "protocol/envelope.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_protocol_is_sans_io(path: Path) -> None:
    """1 protocol/ is sans-IO: no flask, sqlite_utils, sockets (nor requests, node, county)."""
    found = [
        m for m in imported_modules(path.read_text("utf-8")) if any(_is_under(m, b) for b in BANNED)
    ]
    assert [] == found


def test_only_crypto_touches_hazmat() -> None:
    """2 Only protocol/crypto.py imports cryptography.hazmat."""
    users = sorted(
        _rel(path)
        for path in SOURCES
        if any(_is_under(m, HAZMAT) for m in imported_modules(path.read_text("utf-8")))
    )
    assert ["protocol/crypto.py"] == users
