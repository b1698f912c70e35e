# SPDX-License-Identifier: Apache-2.0
"""Reading the project's own source for the layering tests (without importing it).

The source is parsed with ``ast`` rather than imported, so an import hidden in a
function body, behind ``if TYPE_CHECKING`` or made with importlib is found too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "node", "county_aggregator", "deploy")
_DYNAMIC = ("import_module", "__import__", "find_spec")


@dataclass(frozen=True, slots=True)
class Named:
    """A module that a line of source names: by an import, or as a string to import."""

    module: str
    line: int
    how: str  # "import", "from", "call" (importlib and friends) or "string" (a bare name)
    members: tuple[str, ...] = ()  # of ``from module import a, b``

    def names(self) -> list[str]:
        """``module`` and, for a ``from`` import, each ``module.member`` (may be modules)."""
        return [self.module, *(f"{self.module}.{m}" for m in self.members)]


def project_sources() -> list[Path]:
    """Every .py file of the product packages, sorted."""
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def module_of(path: Path) -> str:
    """``node/store/store.py`` -> ``node.store.store``; a package's __init__ -> the package."""
    parts = list(path.resolve().relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def rel(path: Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


def named_modules(source: str, module: str = "", *, is_package: bool = False) -> Iterator[Named]:
    """Every module ``source`` (the text of ``module``) imports or names for importing.

    ``from a import b`` yields ``a`` with the member ``b`` (which may be a module: see
    :meth:`Named.names`); relative imports are resolved against ``module``. Calls of
    import_module, __import__ and find_spec with a literal first argument yield that
    name; so does any other string constant that could be one (dotted identifiers), so
    a name kept in a tuple and imported in a loop is caught as well. Callers filter by
    the packages they care about.
    """
    package = module if is_package else module.rpartition(".")[0]
    for item in ast.walk(ast.parse(source)):
        if isinstance(item, ast.Import):
            for alias in item.names:
                yield Named(alias.name, item.lineno, "import")
        elif isinstance(item, ast.ImportFrom):
            base = _absolute(item.module, item.level, package)
            if base:
                members = tuple(alias.name for alias in item.names)
                yield Named(base, item.lineno, "from", members)
        elif isinstance(item, ast.Call) and _called(item) in _DYNAMIC and item.args:
            first = item.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield Named(first.value, item.lineno, "call")
        elif isinstance(item, ast.Constant) and isinstance(item.value, str):
            if _looks_like_module(item.value):
                yield Named(item.value, item.lineno, "string")


def _absolute(name: str | None, level: int, package: str) -> str:
    if level == 0:
        return name or ""
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return ""
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _looks_like_module(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")
