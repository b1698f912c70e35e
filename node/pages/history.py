# SPDX-License-Identifier: Apache-2.0
"""A record's history, read from the node's change log: when, who, old -> new.

The log is the truth (design.md), so a card's history is the log entries whose ops
touch it. Which entries those are is kept in memory, per record, and extended from
the entries appended since the last look: a card view then decodes only its own
entries instead of the whole log. Who made a change comes from the audit rows the
pages leave for their writes; a change made elsewhere (the CLI, an import, an advisory
taken) says so.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from node.store.queries import writers_of
from node.store.store import NodeStore
from protocol import Retire, Upsert, decode_payload
from protocol.clock import wall_ms

HISTORY_SHOWN = 200


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Change:
    """One entry's changes to one record."""

    epoch: int
    seq: int
    at_ms: int
    writer: str  # the operator's account, or '' when not written through the pages
    fields: tuple[FieldChange, ...]
    retired: str | None = None


def _ops_for(payload: bytes | None, kind: str, record_id: str) -> list[Upsert | Retire]:
    if payload is None:  # erased at the end of its retention
        return []
    return [
        op
        for op in decode_payload(payload)
        if isinstance(op, Upsert | Retire) and op.kind == kind and op.id == record_id
    ]


def _in_order(kind: str, changed: dict[str, Any]) -> list[tuple[str, Any]]:
    """The changed fields in the order the card shows them (the schema's)."""
    from node.pages.labels import schema_fields

    order = {name: i for i, name in enumerate(schema_fields(kind))}
    return sorted(changed.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


class LogIndex:
    """Which log entries touch which record; safe to share between request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._where: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        self._done: dict[int, int] = {}  # epoch -> last seq indexed
        self._head: tuple[int, int] = (0, 0)  # the (epoch, seq) the last refresh saw

    def refresh(self, store: NodeStore) -> None:
        head = (store.changelog.log.epoch, store.changelog.head_seq)
        with self._lock:
            if head == self._head:
                return
            self._head = head
            for epoch in store.changelog.epochs():
                first = self._done.get(epoch, 0) + 1
                last = first - 1
                for entry in store.entries(first, epoch=epoch):
                    last = entry.seq
                    if entry.payload is None:
                        continue
                    for op in decode_payload(entry.payload):
                        if isinstance(op, Upsert | Retire):
                            self._where[(op.kind, op.id)].append((epoch, entry.seq))
                self._done[epoch] = last

    def history(self, store: NodeStore, kind: str, record_id: str) -> list[Change]:
        """The record's changes, oldest first (the last HISTORY_SHOWN of them)."""
        with self._lock:
            where = list(self._where.get((kind, record_id), ()))
        values: dict[str, Any] = {}
        changes: list[Change] = []
        writers = writers_of(store.db, where)
        for epoch, seq in where:
            entry = next(iter(store.entries(seq, seq, epoch=epoch)), None)
            if entry is None:
                continue
            for op in _ops_for(entry.payload, kind, record_id):
                if isinstance(op, Retire):
                    change = Change(epoch, seq, wall_ms(entry.hlc), "", (), op.reason)
                else:
                    fields = tuple(
                        FieldChange(name, values.get(name), new)
                        for name, (new, _base) in _in_order(kind, op.fields)
                        if values.get(name) != new
                    )
                    values.update({name: new for name, (new, _base) in op.fields.items()})
                    change = Change(epoch, seq, wall_ms(entry.hlc), "", fields)
                writer = writers.get((epoch, seq), "")
                changes.append(
                    Change(change.epoch, seq, change.at_ms, writer, change.fields, change.retired)
                )
        return changes[-HISTORY_SHOWN:]
