# SPDX-License-Identifier: Apache-2.0
"""What a page request works with: the node's store, the clock, today's date.

A store is opened for the request that needs it and closed when the request ends; the
clock comes from ``RENKOU_NOW_MS`` (UTC milliseconds) so tests and simulations can move
time (session expiry, deadlines) without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from flask import current_app, g

from node.store.accounts import OperatorStore
from node.store.store import NodeStore
from node.timeutil import shanghai_today


def get_store() -> NodeStore:
    """The node's store for this request (from the app's pool, given back at teardown)."""
    if "pages_store" not in g:
        g.pages_store = state().pool.take(Path(current_app.config["RENKOU_DATA_DIR"]))
    store: NodeStore = g.pages_store
    return store


def operators() -> OperatorStore:
    return OperatorStore(get_store().db)


def close_store(exc: BaseException | None = None) -> None:
    store = g.pop("pages_store", None)
    if store is not None:
        state().pool.give_back(store, Path(current_app.config["RENKOU_DATA_DIR"]))


def now_ms() -> int:
    clock: Callable[[], int] = current_app.config.get("RENKOU_NOW_MS") or _wall_ms
    return clock()


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def now() -> datetime:
    return datetime.fromtimestamp(now_ms() / 1000, UTC)


def today() -> date:
    """Today in Asia/Shanghai, the date officers and deadlines count by."""
    return shanghai_today(now())


class PagesState:
    """What the pages keep between requests: the search index and the log index."""

    def __init__(self) -> None:
        from node.pages.history import LogIndex
        from node.pages.people_index import PeopleIndex
        from node.pages.pool import StorePool
        from node.pages.refs_index import RefIndex

        self.people = PeopleIndex()
        self.log = LogIndex()
        self.pool = StorePool()
        self.refs = RefIndex()


def state() -> PagesState:
    found: PagesState = current_app.extensions["renkou_pages"]
    return found


def audit_time() -> str:
    """The audit table's timestamp format (UTC, seconds), from the pages' clock."""
    return now().isoformat(timespec="seconds")
