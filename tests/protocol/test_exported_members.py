# SPDX-License-Identifier: Apache-2.0
"""The public surface of ``protocol`` (httpx tests/test_exported_members.py)."""

from __future__ import annotations

import types

import pytest

import protocol
from protocol.errors import ErrorCode, ProtocolError


def _public_names() -> list[str]:
    """Public names bound in the package, submodules excepted."""
    return [
        name
        for name, value in vars(protocol).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    ]


def test_all_imports_are_exported() -> None:
    """3 Public API = package __init__ with __all__: everything it imports is listed."""
    assert sorted(_public_names()) == sorted(protocol.__all__)


def test_all_is_unique_and_sorted() -> None:
    """3 __all__ is sorted (VERSION, the package constant, may lead)."""
    names = list(protocol.__all__)
    assert len(names) == len(set(names))
    rest = [n for n in names if n != "VERSION"]
    assert sorted(rest) == rest


@pytest.mark.parametrize("name", protocol.__all__)
def test_every_name_resolves(name: str) -> None:
    """Every name in __all__ is importable from the package and defined inside protocol."""
    value = getattr(protocol, name)
    module = getattr(value, "__module__", None)
    if isinstance(value, type) or callable(value) and module is not None:
        assert module is not None and module.startswith("protocol."), (name, module)


def test_star_import() -> None:
    """from protocol import * binds exactly __all__."""
    namespace: dict[str, object] = {}
    exec("from protocol import *", namespace)
    assert set(protocol.__all__) == set(namespace) - {"__builtins__"}


def test_exported_errors_are_protocol_errors() -> None:
    """16 base ProtocolError with code: ErrorCode; every exported *Error is rooted in it."""
    errors = [getattr(protocol, n) for n in protocol.__all__ if n.endswith("Error")]
    assert errors
    for error in errors:
        assert issubclass(error, ProtocolError), error
        assert isinstance(error.code, ErrorCode), error
