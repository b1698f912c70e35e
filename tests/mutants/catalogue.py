# SPDX-License-Identifier: Apache-2.0
"""The defence mutants of tests/mutants/mutants.toml, read and checked.

Each mutant names one defence, the smallest change that removes it (an exact
``original`` snippet of ``file`` that must occur there exactly once, and its
``replacement``; or lists of both, for a defence that two places of one file keep
together, such as a seal and its opening) and the tests that must go red without it.
``threats`` (optional) names the rows of THREAT_MODEL.md, by their attack, whose defence
the mutant removes: tests/mutants/test_threat_model.py holds each row to citing exactly
the tests its mutants name, so a row's test is one shown to fail without its defence.
``python -m tests.mutants`` (``make mutants``) applies them one at a time in scratch
copies of the tree; this module only reads the list and says what is wrong with it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = Path(__file__).with_name("mutants.toml")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_KEYS = {"id", "defence", "file", "original", "replacement", "tests"}
_OPTIONAL = {"threats"}


@dataclass(frozen=True, slots=True)
class Mutant:
    """One defence and its minimal break."""

    id: str
    defence: str
    file: str
    edits: tuple[tuple[str, str], ...]  # (original, replacement), applied in order
    tests: tuple[str, ...]
    threats: tuple[str, ...] = ()  # THREAT_MODEL.md rows (attacks) this defence is cited for

    def apply(self, text: str) -> str:
        """``text`` with the snippets replaced; ValueError unless each occurs exactly once."""
        for n, (original, replacement) in enumerate(self.edits, 1):
            count = text.count(original)
            if count != 1:
                which = f"snippet {n}" if len(self.edits) > 1 else "snippet"
                raise ValueError(
                    f"the original {which} occurs {count} times in {self.file} (it must occur"
                    " exactly once: re-point the mutant at the defence)"
                )
            text = text.replace(original, replacement)
        return text


def load(path: Path = CATALOGUE) -> list[Mutant]:
    """Every mutant of ``path``, in file order.

    Raises:
        ValueError: an entry lacks a key or has an unknown one, an id is malformed or
            repeated, a replacement equals its original, or no test is named.
    """
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: list[Mutant] = []
    seen: set[str] = set()
    for i, item in enumerate(data.get("mutant", [])):
        where = f"{path.name} mutant #{i + 1}"
        if not _KEYS <= set(item) <= _KEYS | _OPTIONAL:
            raise ValueError(
                f"{where}: keys must be {sorted(_KEYS)} (and optionally {sorted(_OPTIONAL)}),"
                f" got {sorted(item)}"
            )
        mid = item["id"]
        if not _ID.fullmatch(mid) or mid in seen:
            raise ValueError(f"{where}: id {mid!r} is malformed or used twice")
        seen.add(mid)
        edits = _edits(item["original"], item["replacement"])
        if not edits or any(not o or o == r for o, r in edits):
            raise ValueError(f"{where} ({mid}): each replacement must change a non-empty snippet")
        tests = item["tests"]
        if not tests or not all(isinstance(t, str) and "::" in t for t in tests):
            raise ValueError(f"{where} ({mid}): tests must name file::test ids")
        threats = item.get("threats", [])
        if not isinstance(threats, list) or not all(isinstance(t, str) and t for t in threats):
            raise ValueError(f"{where} ({mid}): threats must be a list of THREAT_MODEL.md attacks")
        out.append(
            Mutant(
                mid,
                item["defence"],
                item["file"],
                edits,
                tuple(tests),
                tuple(threats),
            )
        )
    return out


def _edits(original: object, replacement: object) -> tuple[tuple[str, str], ...]:
    if isinstance(original, str) and isinstance(replacement, str):
        return ((original, replacement),)
    if (
        isinstance(original, list)
        and isinstance(replacement, list)
        and len(original) == len(replacement)
        and all(isinstance(x, str) for x in [*original, *replacement])
    ):
        return tuple(zip(original, replacement, strict=True))
    return ()


def problems(mutants: list[Mutant], root: Path = ROOT) -> list[tuple[str, str]]:
    """``(mutant id, what is stale)`` against the tree at ``root`` (empty: nothing)."""
    out: list[tuple[str, str]] = []
    for m in mutants:
        source = root / m.file
        if not source.is_file():
            out.append((m.id, f"{m.file} does not exist"))
            continue
        try:
            m.apply(source.read_text(encoding="utf-8"))
        except ValueError as exc:
            out.append((m.id, str(exc)))
        for test in m.tests:
            test_file = test.split("::", 1)[0]
            if not (root / test_file).is_file():
                out.append((m.id, f"test file {test_file} does not exist"))
    return out
