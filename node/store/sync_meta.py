# SPDX-License-Identifier: Apache-2.0
"""Values the sync layer keeps in ``node_meta``, under keys of its own.

``inbox_mark:<peer>`` (node/store/outbox.py), ``parent_heads:<peer>`` (our closed
epochs as the parent last reported them, node/sync/epochs.py) and
``revoked_heads:<peer>`` (revoked children's logs as the parent last reported them,
node/sync/revoked.py). The node's own settings (``node``, ``epoch``, ``next_id``...)
are the store's (node/store/store.py), never written here.
"""

from __future__ import annotations

from sqlite_utils import Database


class SyncMeta:
    """Sync's keys of the ``node_meta`` table."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> str | None:
        """The value of ``key`` (None if unset)."""
        row = self.db.execute("SELECT value FROM node_meta WHERE key = ?", [key]).fetchone()
        return str(row[0]) if row else None

    def set(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def values(self, prefix: str) -> list[str]:
        """The values of every key that starts with ``prefix``."""
        like = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
        return [
            str(value)
            for (value,) in self.db.execute(
                "SELECT value FROM node_meta WHERE key LIKE ? ESCAPE '!'", [like]
            )
        ]
