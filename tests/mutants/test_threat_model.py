# SPDX-License-Identifier: Apache-2.0
"""Every row of THREAT_MODEL.md cites tests that a mutant shows fail without its defence.

A row used to cite tests that stayed green with the defence removed (issue 17: "forge a
batch", "fork a log", "poison the merge", SQL and formula injection, power cuts). Now
each row's tests are tied to the mutants of tests/mutants/mutants.toml that name the
row's attack in ``threats``: a row cites exactly the tests those mutants name (no more,
so no cited test is one nothing proves; no less, so the reader sees every proof), and
``make mutants`` shows each of them going red without the defence. A row whose test
cell cites no test says why in words (a defence still to come).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.mutants.catalogue import ROOT, Mutant, load

THREAT_MODEL = ROOT / "THREAT_MODEL.md"
_TABLE = "## Attacks, defences, tests"


@dataclass(frozen=True)
class Row:
    attack: str
    tests: tuple[str, ...]  # file::function, as cited (parameters dropped)
    line: int


def rows(text: str) -> list[Row]:
    """The rows of the attacks table; ``::name`` is a test of the file cited before it."""
    out: list[Row] = []
    lines = text.splitlines()
    start = lines.index(_TABLE)
    for n, line in enumerate(lines[start + 1 :], start + 2):
        if line.startswith("## "):
            break
        if not line.startswith("| ") or line.startswith(("| attack ", "| ---")):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        cited: list[str] = []
        current = ""
        for ref in re.findall(r"`([^`]+)`", cells[-1]):
            if ref.startswith("tests/"):
                current = ref.split("::")[0]
                cited.append(ref)
            elif ref.startswith("::") and current:
                cited.append(current + ref)
        out.append(Row(cells[0], tuple(_function(t) for t in cited), n))
    return out


def _function(test_id: str) -> str:
    """``file::test[param]`` -> ``file::test``."""
    return test_id.split("[", 1)[0]


def _defines(test_id: str) -> bool:
    path, _, name = test_id.partition("::")
    source = ROOT / path
    return bool(name) and source.is_file() and f"def {name}(" in source.read_text("utf-8")


def problems(table: list[Row], mutants: list[Mutant]) -> list[str]:
    out: list[str] = []
    attacks = {r.attack for r in table}
    for m in mutants:
        for threat in m.threats:
            if threat not in attacks:
                out.append(f"mutant {m.id} names {threat!r}, which is no row of THREAT_MODEL.md")
    for row in table:
        where = f"THREAT_MODEL.md:{row.line} ({row.attack})"
        for test in row.tests:
            if not _defines(test):
                out.append(f"{where}: cites {test}, which does not exist")
        if not row.tests:
            continue  # says in words why nothing is cited (a defence still to come)
        proving = [m for m in mutants if row.attack in m.threats]
        if not proving:
            out.append(
                f"{where}: no mutant of tests/mutants/mutants.toml names this attack in its"
                " threats (add one that removes the row's defence, naming the cited tests)"
            )
            continue
        proven = {_function(t) for m in proving for t in m.tests}
        for test in sorted(set(row.tests) - proven):
            out.append(f"{where}: cites {test}, which none of its mutants names")
        for test in sorted(proven - set(row.tests)):
            out.append(f"{where}: does not cite {test}, which its mutants name")
    return out


def test_every_row_cites_the_tests_its_mutants_show_failing() -> None:
    assert problems(rows(THREAT_MODEL.read_text(encoding="utf-8")), load()) == []


def test_every_row_cites_a_test() -> None:
    """The last row without one (enumeration through the pages' search) has its proofs."""
    uncited = [r.attack for r in rows(THREAT_MODEL.read_text(encoding="utf-8")) if not r.tests]
    assert uncited == []


_SAMPLE = f"""# x

{_TABLE}

| attack | defence | test |
| --- | --- | --- |
| forge | a signature | `tests/mutants/test_threat_model.py::test_the_check_finds`, `::_defines` |
| later | none yet | (to come) |

## next
"""


@pytest.mark.parametrize(
    ("threats", "tests", "found"),
    [
        (("forge",), ("test_the_check_finds", "_defines"), []),
        ((), (), ["no mutant"]),
        (("forge",), ("test_the_check_finds",), ["cites tests/mutants/test_threat_model.py::_d"]),
        (("forge",), ("test_the_check_finds", "_defines", "rows"), ["does not cite"]),
        (("forged",), ("test_the_check_finds",), ["no row", "no mutant"]),
    ],
    ids=["proven", "no-mutant", "cited-unproven", "proven-uncited", "unknown-attack"],
)
def test_the_check_finds(
    threats: tuple[str, ...], tests: tuple[str, ...], found: list[str]
) -> None:
    """The check itself: each way a row and its mutants can part is reported."""
    here = "tests/mutants/test_threat_model.py::"
    mutant = Mutant("m", "d", "f.py", (("a", "b"),), tuple(here + t for t in tests), threats)
    table = rows(_SAMPLE)
    assert [r.attack for r in table] == ["forge", "later"]
    assert table[0].tests == (here + "test_the_check_finds", here + "_defines")
    out = problems(table, [mutant])
    assert len(out) == len(found) and all(f in p for f, p in zip(found, out, strict=True)), out


def test_a_cited_test_that_does_not_exist_is_reported() -> None:
    table = [Row("forge", ("tests/mutants/test_threat_model.py::no_such_test",), 1)]
    assert any("does not exist" in p for p in problems(table, []))
