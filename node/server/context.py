# SPDX-License-Identifier: Apache-2.0
"""The node's store and trust for one request, kept open between requests.

Opening a store (connect, pragmas, the migration check, the keys) cost as much as the
rest of an idle sync request, so stores are kept open between requests, one per
request running at once (at most ``MAX_IDLE_STORES`` idle), as flaskr's ``get_db`` /
``close_db`` do per request. A kept store is used only while the database file is the
same file (device and inode): a node.db put back from a backup while the server runs is
opened afresh. Certificates and revocations are read anew at every request
(:func:`trust`); only the node's own keys are kept, and changing those means
restarting the server anyway.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app, g

from node.store.database import DB_NAME
from node.store.store import NodeStore
from node.sync.trust import Trust

MAX_IDLE_STORES = 8
EXTENSION = "renkou_stores"


@dataclass
class KeptStores:
    lock: threading.Lock = field(default_factory=threading.Lock)
    stores: list[NodeStore] = field(default_factory=list)
    store_file: tuple[int, int] | None = None
    """The identity (device, inode) of the database file the kept stores opened."""
    closed: bool = False
    """Set by :func:`close_kept_stores`: a request ending afterwards closes its store."""


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = KeptStores()
    app.config.setdefault("RENKOU_NOW_MS", lambda: time.time_ns() // 1_000_000)
    app.teardown_appcontext(_close_store)


def now_ms() -> int:
    """The app's clock (UTC ms; a simulation sets ``RENKOU_NOW_MS``)."""
    clock: Callable[[], int] = current_app.config["RENKOU_NOW_MS"]
    return clock()


def store() -> NodeStore:
    """The node's store for this request, reused from an earlier request when we can."""
    if "store" not in g:
        data_dir = Path(current_app.config["RENKOU_DATA_DIR"])
        try:
            info = os.stat(data_dir / DB_NAME)
            file_id: tuple[int, int] | None = (info.st_dev, info.st_ino)
        except OSError:
            file_id = None
        kept = _kept()
        stale: list[NodeStore] = []
        with kept.lock:
            if file_id is None or file_id != kept.store_file:
                stale, kept.stores, kept.store_file = kept.stores, [], file_id
            reused = kept.stores.pop() if kept.stores else None
        for old in stale:
            old.close()
        g.store = reused if reused is not None else NodeStore.open(data_dir)
    return g.store


def trust() -> Trust:
    """The trust store for this request, loaded once: the revocation check of every
    authenticated request and the handler then read the same list."""
    if "trust" not in g:
        held = store()
        g.trust = Trust.load(held.db, held.data_dir)
    return g.trust


def _close_store(exc: BaseException | None = None) -> None:
    """Keep the request's store for the next request, unless something went wrong."""
    held = g.pop("store", None)
    if held is None:
        return
    if exc is None and not held.db.conn.in_transaction:
        kept = _kept()
        with kept.lock:
            if not kept.closed and len(kept.stores) < MAX_IDLE_STORES:
                kept.stores.append(held)
                return
    held.close()


def close_kept_stores(app: Flask) -> None:
    """Close the stores ``app`` keeps between requests, and keep none from now on.

    For a server that stops: its database handles are released now, not whenever the
    collector reaches the app (a process that starts and stops servers, as the demo and
    the tests do, ran out of file descriptors that way).
    """
    kept: KeptStores | None = app.extensions.get(EXTENSION)
    if kept is None:  # an app without the sync API keeps no stores
        return
    with kept.lock:
        kept.closed = True
        stores, kept.stores = kept.stores, []
    for old in stores:
        old.close()


def _kept() -> KeptStores:
    return current_app.extensions[EXTENSION]
