# SPDX-License-Identifier: Apache-2.0
"""Which records name which person (her births, checks, benefits, her husband's card).

A card shows every record that names her in a person reference; finding them by
scanning every record's JSON cost most of a card view on a 5,000-resident village, so
the pages keep the answer in memory and bring it up to date from the records written
since they last looked, as the search index does.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from node.store.queries import PERSON_REFS, all_changed_since
from node.store.store import NodeStore


class RefIndex:
    """person id -> the (kind, id) of records naming her; shared between request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._naming: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self._names: dict[tuple[str, str], set[str]] = {}
        self._epoch = -1
        self._seq = 0

    def refresh(self, store: NodeStore) -> None:
        log = store.changelog
        with self._lock:
            if log.log.epoch != self._epoch:
                self._naming.clear()
                self._names.clear()
                self._epoch, self._seq = log.log.epoch, 0
            head = log.head_seq
            if head == self._seq:
                return
            for kind, record_id, data, _retired in all_changed_since(store.db, self._seq):
                key = (kind, record_id)
                for person in self._names.pop(key, set()):
                    self._naming[person].discard(key)
                named = {str(data[f]) for f in PERSON_REFS if isinstance(data.get(f), str)}
                for person in named:
                    self._naming[person].add(key)
                if named:
                    self._names[key] = named
            self._seq = head

    def naming(self, person_id: str) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._naming.get(person_id, ()))
