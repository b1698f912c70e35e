# SPDX-License-Identifier: Apache-2.0
"""One error tree (style.md, httpx's _exceptions.py): every error the project raises to
a person or a peer is a NodeError (stable ``code``, Chinese and English message), or a
ProtocolError from protocol/ (which imports nothing of ours, so it has its own root).

Private classes (``_Stale``) that carry control flow inside one module are not errors
anyone sees, and are left out.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from node.errors import PROTOCOL_ZH, NodeError, protocol_message
from protocol import ErrorCode, MalformedError, ProtocolError

PACKAGES = ("node", "county_aggregator", "deploy")

TODAY: dict[str, str] = {}
"""Errors still outside the tree (each says whose); an entry that joined it must leave."""


def project_errors() -> dict[str, type[BaseException]]:
    """``{module.Class: class}`` of every public exception class the packages define."""
    found: dict[str, type[BaseException]] = {}
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if "." in info.name.removeprefix(f"{package}.").split(".")[-1]:
                continue
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if (
                    inspect.isclass(obj)
                    and issubclass(obj, BaseException)
                    and obj.__module__ == module.__name__
                    and not name.startswith("_")
                ):
                    found[f"{module.__name__}.{name}"] = obj
    return found


def test_errors_are_found() -> None:
    names = set(project_errors())
    assert {"node.errors.ValidationError", "county_aggregator.rejected.Rejected"} <= names


def test_every_error_is_a_node_error() -> None:
    outside = sorted(
        name
        for name, cls in project_errors().items()
        if not issubclass(cls, NodeError | ProtocolError) and name not in TODAY
    )
    assert [] == outside


def test_the_list_of_errors_outside_only_shrinks() -> None:
    errors = project_errors()
    joined = sorted(n for n in TODAY if n in errors and issubclass(errors[n], NodeError))
    gone = sorted(n for n in TODAY if n not in errors)
    assert [] == joined + gone


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_protocol_error_code_has_its_chinese(code: ErrorCode) -> None:
    """The CLI and the server's error bodies read the same table; no code falls through
    to a generic sentence."""
    assert PROTOCOL_ZH[code]


def test_protocol_message_keeps_the_errors_own_detail() -> None:
    zh, en = protocol_message(MalformedError("frontier must be a list"))
    assert zh == "数据格式错误，已拒收（frontier must be a list）"
    assert en == "frontier must be a list"


def test_rejected_entries_carry_a_code_and_both_languages() -> None:
    from county_aggregator.rejected import Rejected

    exc = Rejected("hash", "payload does not match its hash")
    assert (exc.code, str(exc), exc.en) == ("hash", exc.en, "payload does not match its hash")
    assert exc.zh.startswith("变更内容与其哈希值不符")
