# SPDX-License-Identifier: Apache-2.0
"""Every ``# type: ignore`` in the product packages names its error codes and says why.

mypy (run by ``make test``) already refuses an ignore that silences nothing
(``warn_unused_ignores``); this test refuses one that does not tell the next reader
why the checker is wrong there, so an ignore is never the quiet way out of a real bug.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "node", "county_aggregator", "deploy")
SOURCES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))
_IGNORE = re.compile(r"type:\s*ignore")
_EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[a-z-]+(?:,\s*[a-z-]+)*\]\s+#\s*\S")


def unexplained_ignores(source: str) -> Iterator[int]:
    """Line numbers of ``type: ignore`` comments without codes or without a reason."""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and _IGNORE.search(tok.string):
            if not _EXPLAINED.match(tok.string):
                yield tok.start[0]


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("x = f()  # type: ignore[attr-defined]  # C part, not in stubs\n", False),
        ("x = f()  # type: ignore[arg-type, union-attr]  # checked above\n", False),
        ("x = f()  # type: ignore[attr-defined]\n", True),
        ("x = f()  # type: ignore\n", True),
        ("x = f()  # type: ignore  # no codes, even with a reason\n", True),
        ("x = f()  # type: ignore[attr-defined] #\n", True),
        ('x = "# type: ignore"\n', False),
    ],
)
def test_scanner(source: str, bad: bool) -> None:
    """Good/bad pairs for the scanner, so an empty result below means something."""
    assert bad == bool(list(unexplained_ignores(source)))


def test_sources_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert {"protocol/canonical.py", "node/__init__.py", "county_aggregator/merge.py"} <= names


def test_every_ignore_says_why() -> None:
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{line}"
        for path in SOURCES
        for line in unexplained_ignores(path.read_text("utf-8"))
    ]
    assert [] == found
