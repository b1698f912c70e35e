# SPDX-License-Identifier: Apache-2.0
"""Stores kept open between page requests.

Opening a store (connect, pragmas, the migration check, the keys) and closing it (the
last connection to close checkpoints the WAL) cost more than the rest of a page, so
each app keeps up to MAX_IDLE open stores, as the sync server does with its own. A kept
store is handed out only while the database is the same file (a node.db put back from a
backup is opened afresh), and its change log is re-read from the database when handed
out, so a write never builds on a head another connection has since moved.
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path

from node.store.changelog import ChangeLog
from node.store.database import DB_NAME
from node.store.store import NodeStore

MAX_IDLE = 4


def _file_id(data_dir: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(data_dir / DB_NAME)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _close_all(stores: list[NodeStore]) -> None:
    for store in stores:
        store.close()
    stores.clear()


class StorePool:
    """The idle stores of one app (closed when the app goes away, or at exit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[NodeStore] = []
        self._file: tuple[int, int] | None = None
        self._finalizer = weakref.finalize(self, _close_all, self._idle)

    def take(self, data_dir: Path) -> NodeStore:
        file_id = _file_id(data_dir)
        stale: list[NodeStore] = []
        with self._lock:
            if file_id is None or file_id != self._file:
                stale, self._idle[:] = list(self._idle), []
                self._file = file_id
            kept = self._idle.pop() if self._idle else None
        for old in stale:
            old.close()
        if kept is None:
            return NodeStore.open(data_dir)
        _refresh(kept)
        return kept

    def give_back(self, store: NodeStore, data_dir: Path) -> None:
        if store.db.conn.in_transaction:  # a request that failed mid-write: never reuse
            store.close()
            return
        with self._lock:
            if len(self._idle) < MAX_IDLE and _file_id(data_dir) == self._file:
                self._idle.append(store)
                return
        store.close()

    def close(self) -> None:
        with self._lock:
            _close_all(self._idle)


def _refresh(store: NodeStore) -> None:
    """Re-read the head of the store's log (and its epoch) from the database."""
    epoch = int(store.meta()["epoch"])
    log = store.changelog
    store.changelog = ChangeLog(store.db, store.node, store.identity.suite, epoch, store.clock)
    store.changelog.clock.last = max(store.changelog.clock.last, log.clock.last)
