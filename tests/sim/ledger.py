# SPDX-License-Identifier: Apache-2.0
"""The write ledger: every entry a node wrote, recorded as it wrote it, outside its store.

The invariants used to take "what the node wrote" from the node's own store. A store
that silently loses a committed write, or writes one twice, then agrees with itself
and with everything upstream of it, and nothing is found. The ledger is the independent
record: :meth:`Ledger.watch` wraps the write methods of each store instance the
world opens (``write``, ``start_epoch``) and keeps a copy of every entry they return,
i.e. every write the officer was told was saved; the install entry is taken the moment
the store is created. The invariants then hold the stores, the township and the county
to the ledger: same seqs, same entry hashes, same payload bytes.

A restore throws a store away: entries only it held died with it, unless a parent took
them. :meth:`Ledger.restored` marks, per log, the first seq the restored copy lacks;
the invariants excuse exactly those (and only when nobody acknowledged them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from county_aggregator.store import EntryRow
from node.store.store import NodeStore
from protocol import Entry


@dataclass(frozen=True, slots=True)
class Written:
    """One entry as its node wrote it."""

    node: str  # node code
    log: str
    seq: int
    hash: bytes
    hlc: int
    ruleset: int
    flags: int
    payload: bytes | None
    payload_hash: bytes

    @classmethod
    def of(cls, node: str, entry: Entry) -> Written:
        return cls(
            node,
            str(entry.log),
            entry.seq,
            entry.hash,
            entry.hlc,
            entry.ruleset,
            entry.flags,
            entry.payload,
            entry.payload_hash,
        )

    def row(self) -> EntryRow:
        """The row form the county's merge reads."""
        return (
            self.log,
            self.seq,
            self.hlc,
            self.ruleset,
            self.flags,
            self.payload,
            self.payload_hash,
        )

    def held(self) -> tuple[int, bytes, bytes, bytes | None]:
        """``(seq, entry hash, payload hash, payload)``: what a holder must match."""
        return (self.seq, self.hash, self.payload_hash, self.payload)


@dataclass
class Ledger:
    """Every entry written in a world, by log and seq (a list: a log may fork)."""

    logs: dict[str, dict[int, list[Written]]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # log -> node code
    died: dict[str, int] = field(default_factory=dict)  # log -> first seq lost in a restore

    def record(self, node: str, entry: Entry) -> None:
        written = Written.of(node, entry)
        self.owners[written.log] = node
        seqs = self.logs.setdefault(written.log, {})
        held = seqs.setdefault(written.seq, [])
        if written not in held:
            held.append(written)

    def created(self, node: str, store: NodeStore) -> None:
        """A store was just created: its install entry is the first write."""
        for entry in store.entries():
            self.record(node, entry)

    def watch(self, node: str, store: NodeStore) -> None:
        """Record every entry this store instance writes from now on, once committed.

        ``write`` commits before it returns; the simulation never groups writes in
        ``store.bulk()``, where the commit would come later. ``start_epoch_after`` is
        the epoch a recovery from upstream starts (node/sync/recovered.py), in the
        transaction that takes the cards (tests/sim/replace_pc.py).
        """
        for name in ("write", "start_epoch", "start_epoch_after"):
            method = getattr(type(store), name)
            setattr(store, name, self._recording(node, store, method))

    def _recording(
        self, node: str, store: NodeStore, method: Callable[..., Entry]
    ) -> Callable[..., Entry]:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Entry:
            entry = method(store, *args, **kwargs)
            self.record(node, entry)
            return entry

        return wrapper

    def restored(self, store: NodeStore) -> None:
        """``store`` is a copy put back from a backup: what it lacks of each log died."""
        held: dict[str, int] = {}
        for epoch in store.changelog.epochs():
            for entry in store.entries(epoch=epoch):
                held[str(entry.log)] = entry.seq
        node = store.node
        for log, seqs in self.logs.items():
            if self.owners[log] != node.code or not seqs:
                continue
            kept = held.get(log, 0)
            if kept < max(seqs):
                self.died[log] = min(self.died.get(log, kept + 1), kept + 1)

    # -- reading ---------------------------------------------------------------------

    def of_node(self, code: str) -> dict[str, dict[int, Written]]:
        """The node's logs, one entry per seq (the first written, if it forked)."""
        return {
            log: {seq: held[0] for seq, held in sorted(seqs.items())}
            for log, seqs in self.logs.items()
            if self.owners[log] == code
        }

    def entries(self, log: str) -> list[Written]:
        return [held[0] for _, held in sorted(self.logs.get(log, {}).items())]

    def forks(self) -> Iterator[tuple[str, int, list[Written]]]:
        """Seqs at which a node wrote two different entries into one log."""
        for log, seqs in sorted(self.logs.items()):
            for seq, held in sorted(seqs.items()):
                if len(held) > 1:
                    yield log, seq, held
