# SPDX-License-Identifier: Apache-2.0
"""No import circles among the project's modules (design.md, Wiring).

A circle means two modules that cannot be understood, tested or moved one without the
other, and it is usually held together by an import hidden in a function body. So
every import counts here, wherever it stands (module level, function body, behind
TYPE_CHECKING, importlib with a literal name). Edges are the imports between the
modules of protocol/, node/, county_aggregator/ and deploy/. Importing ``a.b.c`` also
runs ``a/b/__init__``: that counts as an edge too, from a module outside package
``a.b`` (one inside it runs after that __init__ started, so the import adds nothing):
``node/bulk_xlsx.py`` importing ``node.pages.forms`` ran ``node/pages/__init__``, which
imported the view that imports ``node.bulk_xlsx``, and ``import node.bulk_xlsx`` failed.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from tests.source_scan import Named, module_of, named_modules, project_sources

Graph = dict[str, set[str]]


def project_graph() -> Graph:
    """``{module: modules of the project it imports}`` (strings alone do not count)."""
    paths = {module_of(p): p for p in project_sources()}
    graph: Graph = {m: set() for m in paths}
    for module, path in paths.items():
        is_package = path.name == "__init__.py"
        for named in named_modules(path.read_text("utf-8"), module, is_package=is_package):
            if named.how != "string":
                for target in _imported(named, paths):
                    graph[module].add(target)
                    graph[module].update(_packages_run(module, target, paths))
        graph[module].discard(module)
    return graph


def _packages_run(importer: str, target: str, modules: Iterable[str]) -> set[str]:
    """The package __init__ modules that importing ``target`` runs, seen from
    ``importer``: every package above ``target`` that ``importer`` is not inside."""
    parts = target.split(".")
    above = {".".join(parts[:i]) for i in range(1, len(parts))}
    return {p for p in above if not importer.startswith(p + ".")} & set(modules)


def _imported(named: Named, modules: Iterable[str]) -> set[str]:
    """The project modules an import runs: ``from a import b`` runs ``a.b`` if that is a
    module, else ``a`` itself (where ``b`` is defined)."""
    if named.how != "from":
        return {named.module} & set(modules)
    subs = {f"{named.module}.{m}" for m in named.members} & set(modules)
    defined_in_base = len(subs) < len(named.members)
    return subs | ({named.module} & set(modules) if defined_in_base else set())


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a long chain of imports cannot hit the recursion limit.
        work: list[tuple[str, Iterable[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b"], ["c", "d"]]),
    ],
)
def test_cycle_finder(graph: Graph, expected: list[list[str]]) -> None:
    """Good/bad pairs for the finder, so an empty result below means something."""
    assert expected == cycles(graph)


def test_graph_sees_imports_in_function_bodies() -> None:
    graph = project_graph()
    assert "county_aggregator.store" in graph["county_aggregator.merge"]
    assert len(graph) > 100


def test_an_import_runs_the_packages_above_its_target() -> None:
    modules = ["a", "a.b", "a.b.c", "a.d"]
    assert {"a.b"} == _packages_run("a.d", "a.b.c", modules)  # a/__init__ already runs
    assert {"a", "a.b"} == _packages_run("x", "a.b.c", modules)
    assert set() == _packages_run("a.b.e", "a.b.c", modules)


def test_no_import_cycles() -> None:
    assert [] == cycles(project_graph())
