# SPDX-License-Identifier: Apache-2.0
"""Many records of one kind in one go: every row checked, all or (by choice) the good ones.

Each row goes through the one recording path (``add_record``: validate, village checks,
one log entry), inside one transaction, each row in its own savepoint: a refused row
leaves nothing behind and the next row is checked against the rows before it (the stock
a hand-out draws on, a card a later row names). At the end the transaction is committed
only if every row passed, or, when the officer chose so, with the good rows alone; the
problems are listed by row and field either way. One transaction means one fsync for
the whole file instead of one per card.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from node.errors import ValidationError
from node.recording import add_record
from node.store.store import NodeStore


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # 1-based, as the officer counts the rows of her file
    field: str
    code: str
    zh: str
    en: str


@dataclass
class BatchResult:
    ids: list[str | None] = field(default_factory=list)  # per row; None where refused
    entries: list[tuple[int, int]] = field(default_factory=list)  # (epoch, seq) per id written
    problems: list[RowProblem] = field(default_factory=list)
    written: int = 0

    @property
    def refused_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})


class _Discard(Exception):
    """Raised inside the transaction to roll every row back."""


def add_many(
    store: NodeStore,
    kind: str,
    rows: Sequence[dict[str, Any]],
    *,
    today: date,
    keep_good: bool = False,
    numbers: Sequence[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Check and record ``rows`` of ``kind``; see the module docstring.

    Args:
        numbers: each row's number as the officer sees it (its spreadsheet row);
            1, 2, 3, ... if not given.
        progress: called with (rows done, rows in all) as it goes.
    """
    result = BatchResult()
    try:
        with store.bulk():
            for n, row in enumerate(rows):
                try:
                    result.ids.append(add_record(store, kind, row, today=today))
                    log = store.changelog
                    result.entries.append((log.log.epoch, log.head_seq))
                except ValidationError as refused:
                    result.ids.append(None)
                    result.problems += [
                        RowProblem(numbers[n] if numbers else n + 1, p.field, p.code, p.zh, p.en)
                        for p in refused.problems
                    ]
                if progress is not None:
                    progress(n + 1, len(rows))
            if result.problems and not keep_good:
                raise _Discard
    except _Discard:
        result.ids, result.entries = [None] * len(rows), []
    result.written = sum(1 for i in result.ids if i is not None)
    return result
