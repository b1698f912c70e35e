# SPDX-License-Identifier: Apache-2.0
"""No value is ever spliced into SQL: values travel as parameters (issue 17 item 1).

An audit made ``stock_balance`` injectable by building its SQL from input, and no test
noticed. This test reads the source (``ast``, without importing it) and holds every
piece of SQL the product builds to one rule: the text of a statement is a constant, or
is put together only from constants and from names in :data:`IDENTIFIERS`, each of which
is an identifier or a piece of SQL from a fixed list (a table name of the store's own,
a column list, ``?`` placeholders, a checked field name), with the reason beside it.
A value (a name, an ID number, a date, anything an officer or a peer sends) is never
among them: it goes in the parameters. Two checks:

* every statement run on a database (``.execute(``, ``executemany(``,
  ``executescript(``, sqlite-utils' ``.query(``) has SQL that is a constant, or is built
  (in the call, or in the names it uses, assigned in the same function or at module
  level) only from constants and allowed pieces;
* every f-string, ``str.format`` or ``%`` formatting, and every ``+`` whose constant
  text reads as SQL, wherever it stands (SQL built in one function and run in another),
  splices in only allowed pieces.

An entry of :data:`IDENTIFIERS` that no longer matches anything fails too, so the list
says what the code does today. tests/node/test_hostile_values.py writes hostile values
through the CLI, the store and the pages' search and reads them back intact.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.source_scan import ROOT, rel

SQL_CALLS = frozenset({"execute", "executemany", "executescript", "query"})
SCANNED = ("node", "county_aggregator")

SQL_TEXT = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|ATTACH|DETACH|WHERE|VALUES"
    r"|FROM|ORDER BY|GROUP BY|LIMIT|AND|OR|NOT|IN|IS|NULL|LIKE|SET|JOIN"
    r"|json_extract|typeof|substr)\b"
)
"""Constant text that reads as SQL (keywords in upper case, as the project writes its
SQL, and the functions that take a JSON path or a column)."""

IDENTIFIERS: dict[str, dict[str, str]] = {
    "node/store/accounts.py": {"_COLUMNS": "the operators table's column list (a constant)"},
    "node/store/apply.py": {
        "\", data = '{}', versions = '{}'\" if erase else ''": "one of two constants",
    },
    "node/store/archive.py": {"' WHERE name = ?' if name else ''": "one of two constants"},
    "node/store/audit.py": {"AUDIT_FIELDS": "the audit table's column list (a constant)"},
    "node/store/audit_chain.py": {"AUDIT_FIELDS": "the audit table's column list"},
    "node/store/backup.py": {
        "source_key.hex()": "PRAGMA key takes no parameter; a key's hex is [0-9a-f] only",
        "into": "the target key as x'<hex>' ([0-9a-f] only) or empty",
    },
    "node/store/database.py": {
        "key.hex()": "PRAGMA key takes no parameter; a key's hex is [0-9a-f] only",
    },
    "node/store/holdings.py": {
        "bound": "one of two constants ('last_seq > ?', 'last_seq <= ?'), the seq a parameter",
    },
    "node/store/lookup.py": {"sql": "the constant above, with a constant clause added"},
    "node/store/outcomes.py": {"where": "'WHERE log = ?' or '' (the log a parameter)"},
    "node/store/queries.py": {"marks": "'?' placeholders, one per value"},
    "node/store/recovery.py": {
        "table": "a table name from the fixed tuple the loop runs over",
        "_COLUMNS": "the records tables' column list (a constant)",
        "marks": "'?' placeholders, one per value",
        "', '.join('?' * 8)": "'?' placeholders, one per column",
    },
    "node/store/store.py": {"sql": "the constant above, with a constant clause added"},
    "county_aggregator/store.py": {
        "int(busy_timeout_ms)": "PRAGMA takes no parameter; an int",
        "table": "a table name from the fixed tuple the loop runs over",
        "name": "a table name read from sqlite_master (this store's own schema)",
        "order": "primary-key column names from PRAGMA table_info, or rowid",
        "_LOCAL_COLUMNS": "the local_records table's column list (a constant)",
        "' WHERE id = ?' if conflict else ''": "one of two constants",
        "sql": "the constant above, with a constant clause added",
    },
    "county_aggregator/reports/build.py": {
        "_quote(ix[1])": "an index name from sqlite_master, quoted as an identifier",
    },
    "county_aggregator/reports/model.py": {
        "marks": "'?' placeholders, one per value",
        "source_of(kind)": "merged_records or a view name from plan.EXCHANGE_KINDS (fixed)",
    },
    "county_aggregator/reports/engine.py": {
        "ks.sql": "built by plan.query from checked field names (its holes are checked here)",
        "marks": "'?' placeholders, one per value",
        "_ORDER": "a constant",
    },
    "county_aggregator/reports/plan.py": {
        "f": "a field name of the layout, passed check_name (a plain identifier)",
        "name": "a field name that passed check_name (a plain identifier)",
        "rule.field": "the AgeAt field, passed check_name (a plain identifier)",
        "expr": "json_extract of a checked field name, or a column from _META_SQL",
        "same": "'=' or '!=' (a constant)",
        "marks": "'?' placeholders, one per value",
        "meta": "columns from _META_SQL (a fixed table)",
        "cols": "json_extract of the layout's checked field names",
        "' AND '.join(where)": "constant clauses and clauses of to_sql (checked here)",
        "source_of(layout.kind)": "merged_records or a view name from EXCHANGE_KINDS (fixed)",
    },
    "county_aggregator/store_exchange.py": {
        "_SENT": "the exchange_sent column list (a constant)",
        "_INBOX": "the exchange_inbox column list (a constant)",
        "where": "one of two constant clauses",
        "_SCHEMA": "the attached schema's name (a constant)",
        "REPORT_VIEW": "the report view's name (a constant)",
        "answered": "a constant CASE expression",
        "key.hex()": "ATTACH ... KEY takes no parameter; a key's hex is [0-9a-f] only",
        "subject": "a reference field name from exchange/derive.py EVENTS (constants)",
    },
}
"""Per module: the pieces it may splice into SQL (their source text) and why each is
not a value."""


@dataclass(frozen=True, slots=True)
class Splice:
    path: str
    line: int
    piece: str  # source text of what is spliced in

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.piece}"


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                out[target.id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.value is not None:
                out[stmt.target.id] = stmt.value
    return out


class _Module:
    """One module's SQL, checked against its allowed pieces."""

    def __init__(self, path: str, source: str, allowed: dict[str, str]) -> None:
        self.path = path
        self.tree = ast.parse(source)
        self.allowed = allowed
        self.constants = _module_constants(self.tree)
        self.used: set[str] = set()
        self.found: list[Splice] = []
        self._seen: set[tuple[int, int, str]] = set()

    # -- the pieces a piece of SQL splices in ------------------------------------------

    def _piece(self, node: ast.expr, at: ast.AST, text: str = "") -> None:
        text = text or ast.unparse(node)
        if text in self.allowed:
            self.used.add(text)
            return
        key = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0), text)
        if key not in self._seen:
            self._seen.add(key)
            self.found.append(Splice(self.path, getattr(at, "lineno", 0), text))

    def _format_args(self, call: ast.Call) -> None:
        for arg in call.args:
            self._piece(arg, call)
        for kw in call.keywords:
            self._piece(kw.value, call, f"{kw.arg}={ast.unparse(kw.value)}" if kw.arg else "")

    def built(self, node: ast.expr, scope: list[ast.stmt], depth: int = 0) -> None:
        """Check SQL ``node`` (an argument of a statement run on a database)."""
        if depth > 8 or _text(node) is not None:
            return
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    self._piece(part.value, node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            self.built(node.left, scope, depth + 1)
            self.built(node.right, scope, depth + 1)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            self.built(node.left, scope, depth + 1)
            self._piece(node.right, node)
        elif isinstance(node, ast.Tuple | ast.List):
            for item in node.elts:
                self.built(item, scope, depth + 1)
        elif isinstance(node, ast.IfExp):
            self.built(node.body, scope, depth + 1)
            self.built(node.orelse, scope, depth + 1)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        ):
            self.built(node.func.value, scope, depth + 1)
            self._format_args(node)
        elif isinstance(node, ast.Name):
            values = _assigned(node.id, scope) or (
                [self.constants[node.id]] if node.id in self.constants else []
            )
            if not values:
                self._piece(node, node)
            for value in values:
                self.built(value, scope, depth + 1)
        else:
            self._piece(node, node)

    # -- the two checks ------------------------------------------------------------------

    def statements(self) -> None:
        """Check one: the SQL of every statement run on a database."""
        for func, call in _calls(self.tree):
            if isinstance(call.func, ast.Attribute) and call.func.attr in SQL_CALLS and call.args:
                self.built(call.args[0], func)

    def sql_looking(self) -> None:
        """Check two: every formatting whose constant text reads as SQL, anywhere."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(_text(v) or "" for v in node.values)
                if SQL_TEXT.search(text):
                    for part in node.values:
                        if isinstance(part, ast.FormattedValue):
                            self._piece(part.value, node)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                template = node.func.value
                if isinstance(template, ast.Name):
                    template = self.constants.get(template.id, template)
                text = _text(template)
                if node.func.attr == "format" and text and SQL_TEXT.search(text):
                    self._format_args(node)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
                text = _text(node.left)
                if text and SQL_TEXT.search(text):
                    self._piece(node.right, node)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                sides = (node.left, node.right)
                if any(SQL_TEXT.search(_text(s) or "") for s in sides):
                    for side in sides:
                        if _text(side) is None and not _is_sql_sum(side):
                            self._piece(side, node)


def _is_sql_sum(node: ast.expr) -> bool:
    """A ``+`` of SQL text whose own parts are checked where it stands."""
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)


def _calls(tree: ast.Module) -> Iterator[tuple[list[ast.stmt], ast.Call]]:
    """Every call, with the body of the function it stands in (the module's, at top)."""
    scopes: list[tuple[list[ast.stmt], ast.AST]] = [(tree.body, tree)]
    scopes += [
        (f.body, f) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    owner: dict[int, list[ast.stmt]] = {}
    for body, root in scopes:  # inner functions come later and win
        for node in ast.walk(root):
            if isinstance(node, ast.Call):
                owner[id(node)] = body
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield owner[id(node)], node


def _assigned(name: str, scope: list[ast.stmt]) -> list[ast.expr]:
    """What ``name`` is assigned (or ``+=``-ed) in ``scope``, outside inner functions."""
    out: list[ast.expr] = []
    for stmt in scope:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        out.append(node.value)
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        for t, v in zip(target.elts, node.value.elts, strict=False):
                            if isinstance(t, ast.Name) and t.id == name:
                                out.append(v)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                target = node.target
                if isinstance(target, ast.Name) and target.id == name and node.value:
                    out.append(node.value)
            elif isinstance(node, ast.NamedExpr) and node.target.id == name:
                out.append(node.value)
            elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
                if node.target.id == name:
                    out.append(node.iter)  # each item is checked (a tuple of constants)
    return out


def check(path: str, source: str, allowed: dict[str, str]) -> tuple[list[Splice], set[str]]:
    """The splices of ``source`` that ``allowed`` does not cover, and the entries used."""
    module = _Module(path, source, allowed)
    module.statements()
    module.sql_looking()
    return module.found, module.used


def _sources() -> list[Path]:
    return sorted(p for top in SCANNED for p in (ROOT / top).rglob("*.py"))


def test_no_value_is_spliced_into_sql() -> None:
    found: list[str] = []
    used: dict[str, set[str]] = {}
    for path in _sources():
        name = rel(path)
        splices, used[name] = check(name, path.read_text("utf-8"), IDENTIFIERS.get(name, {}))
        found += [str(s) for s in splices]
    assert found == [], (
        "SQL built from something that is not an allowed identifier: pass values as"
        " parameters (?), or add an identifier from a fixed list to IDENTIFIERS with why"
    )
    stale = [
        f"{path}: {piece}"
        for path, pieces in IDENTIFIERS.items()
        for piece in pieces
        if piece not in used.get(path, set())
    ]
    assert stale == [], "IDENTIFIERS entries no code uses any more: remove them"


@pytest.mark.parametrize(
    ("source", "spliced"),
    [
        ("db.execute('SELECT * FROM t WHERE a = ?', [a])", []),
        ("db.execute(f\"SELECT * FROM t WHERE a = '{a}'\")", ["a"]),
        ("db.execute('SELECT * FROM t WHERE a = ' + repr(a))", ["repr(a)"]),
        ("db.execute(\"SELECT * FROM t WHERE a = '%s'\" % a)", ["a"]),
        ("db.execute(\"SELECT * FROM t WHERE a = '{}'\".format(a))", ["a"]),
        ("Q = \"DELETE FROM t WHERE a = '{a}'\"\ndb.execute(Q.format(a=a))", ["a=a"]),
        (
            "def f(db, a):\n    sql = 'SELECT 1'\n    sql += f' AND b = {a}'\n    db.execute(sql)",
            ["a"],
        ),
        ("def f(a):\n    return f\"json_extract(data, '$.x') = {a} AND 1\"", ["a"]),
        ("def f(db, a):\n    db.execute(build(a))", ["build(a)"]),
        ("print(f'{n} records OR more')", ["n"]),  # reads as SQL: a false alarm is cheap
        ("print(f'{n} records')", []),
        ("for t in ('a', 'b'):\n    db.execute(t)", []),
        ("for t in tables:\n    db.execute(t)", ["tables"]),
        ("db.execute(f'SELECT {COLS} FROM t')", []),
    ],
)
def test_the_check_finds_spliced_values(source: str, spliced: list[str]) -> None:
    """Good/bad pairs for the check itself (``COLS`` allowed), so an empty result above
    means something."""
    found, _ = check("x.py", source, {"COLS": "a column list"})
    assert [s.piece for s in found] == spliced
