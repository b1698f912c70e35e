# SPDX-License-Identifier: Apache-2.0
"""One owner per table: SQL lives with the store that owns the table (design.md, Wiring).

The node's tables belong to node/store/, the county's to its store modules; other code
calls their methods. So a statement run on a database (``.execute(``, ``executemany(``,
``executescript(``, sqlite-utils' ``.query(``) may stand only in a store module, a
migration module or a report module (county_aggregator/reports/ builds its own queries
over the merged store's contract table, merged_records). And each side's SQL names only
its own tables: the county reads what its node received through node/store's methods,
never with its own SQL on the node's tables, and node/ never touches a county table.

``TODAY`` lists the modules that still hold SQL while the areas are moved (each entry
says whose it is); an entry whose module no longer offends fails too, so the list only
shrinks, and it ends empty.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.source_scan import ROOT, project_sources, rel

SQL_CALLS = frozenset({"execute", "executemany", "executescript", "query"})

NODE_STORE = ("node/store/",)
COUNTY_STORE = ("county_aggregator/store.py", "county_aggregator/store_")
MIGRATIONS = ("county_aggregator/migrations.py",)  # the node's are node/store/schema.py
REPORTS = ("county_aggregator/reports/",)
ALLOWED = NODE_STORE + COUNTY_STORE + MIGRATIONS + REPORTS

TODAY: dict[str, str] = {}
"""Modules that still run SQL of their own (to be moved; see the module docstring)."""

FOREIGN_TODAY: dict[str, str] = {}
"""Store modules that still name the other side's tables (to be moved)."""


def sql_calls(source: str) -> Iterator[int]:
    """Lines of calls ``<anything>.execute(`` (and the other SQL_CALLS)."""
    for item in ast.walk(ast.parse(source)):
        if (
            isinstance(item, ast.Call)
            and isinstance(item.func, ast.Attribute)
            and item.func.attr in SQL_CALLS
        ):
            yield item.lineno


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("db.execute('SELECT 1')", True),
        ("store.db.conn.executemany('INSERT INTO t VALUES (?)', rows)", True),
        ("def f(db):\n    return db.executescript(SQL)", True),
        ("rows = list(db.query('SELECT * FROM t'))", True),
        ('"""Never call .execute( here."""', False),
        ("executor.submit(job)", False),
        ("execute(plan)", False),
    ],
)
def test_scanner_finds_sql(source: str, found: bool) -> None:
    """Good/bad pairs for the scanner itself, so an empty result below means something."""
    assert found == bool(list(sql_calls(source)))


def _allowed(path: str) -> bool:
    return path.startswith(ALLOWED)


def _offenders() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in project_sources():
        name = rel(path)
        if not _allowed(name):
            lines = sorted(sql_calls(path.read_text("utf-8")))
            if lines:
                found[name] = lines
    return found


def test_sql_only_in_store_migration_and_report_modules() -> None:
    """A module outside the stores that runs SQL (and is not on TODAY's list) fails."""
    new = {path: lines for path, lines in _offenders().items() if path not in TODAY}
    assert {} == new


def test_the_list_of_todays_offenders_only_shrinks() -> None:
    """A module on TODAY's list that holds no SQL any more must leave the list."""
    gone = sorted(set(TODAY) - set(_offenders()))
    assert [] == gone


# -- whose tables --------------------------------------------------------------------

_IF = r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?!IF\b)"
_CREATE = re.compile(r"CREATE\s+(?:TABLE|VIEW)\s+" + _IF + r"(\w+)")
_USE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+" + _IF + r"(\w+)")


def created_tables(paths: list[Path]) -> set[str]:
    """Tables and views the migration modules at ``paths`` create."""
    return {name for path in paths for name in created_tables_in(path.read_text("utf-8"))}


def created_tables_in(text: str) -> set[str]:
    return set(_CREATE.findall(text))


NODE_MIGRATIONS = [ROOT / "node/store/schema.py"]
COUNTY_MIGRATIONS = [ROOT / m for m in MIGRATIONS]


def tables_named(source: str) -> set[str]:
    """Tables the SQL in ``source``'s string literals reads or writes."""
    names: set[str] = set()
    for item in ast.walk(ast.parse(source)):
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            names.update(_USE.findall(item.value))
    return names


def test_both_schemas_are_found() -> None:
    node, county = created_tables(NODE_MIGRATIONS), created_tables(COUNTY_MIGRATIONS)
    assert {"log", "records", "received_entries", "certs"} <= node
    assert {"merged_records", "conflicts", "local_records", "merged_upto"} <= county
    assert {"received_entries"} == tables_named('f"SELECT log FROM received_entries {x}"')
    assert {"t"} == created_tables_in("CREATE TABLE IF NOT EXISTS t (a)")
    assert set() == created_tables_in("a docstring naming ``CREATE TABLE IF NOT EXISTS``")


def test_no_table_has_two_owners() -> None:
    assert set() == created_tables(NODE_MIGRATIONS) & created_tables(COUNTY_MIGRATIONS)


def _foreign() -> dict[str, list[str]]:
    node, county = created_tables(NODE_MIGRATIONS), created_tables(COUNTY_MIGRATIONS)
    found: dict[str, list[str]] = {}
    for path in project_sources():
        name = rel(path)
        foreign = county if name.startswith("node/") else node
        if name.startswith(("node/", "county_aggregator/")):
            named = sorted(tables_named(path.read_text("utf-8")) & foreign)
            if named:
                found[name] = named
    return found


def test_each_side_names_only_its_own_tables() -> None:
    """The county reads the node's tables through node/store; node/ never names the
    county's tables (the names both could use, e.g. ``meta``, are told apart by owner:
    only a table the other side creates and this side does not counts)."""
    new = {path: names for path, names in _foreign().items() if path not in FOREIGN_TODAY}
    assert {} == new


def test_the_list_of_foreign_readers_only_shrinks() -> None:
    gone = sorted(set(FOREIGN_TODAY) - set(_foreign()))
    assert [] == gone
