# SPDX-License-Identifier: Apache-2.0
"""Messages going down the sync tree, and how far we read our parent's.

Owner of ``outbox`` (per child, the numbered messages it fetches with ``GET
/sync/v1/outbox``: acknowledgements, notices, advisories) and ``inbox_cursor`` (per
parent, the last item of its outbox we took), with the mark of that item kept in
``node_meta`` (``inbox_mark:<peer>``, SPEC.md §15.5) so a renumbered outbox is noticed.
"""

from __future__ import annotations

from sqlite_utils import Database

from node.store.sync_meta import SyncMeta
from protocol import OutboxItem, item_mark

_INBOX_MARK = "inbox_mark:{peer}"


class Outbox:
    """The ``outbox`` table of one database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def last(self, child: str) -> int:
        """The number of ``child``'s last item (0 when its outbox is empty)."""
        row = self.db.execute("SELECT MAX(n) FROM outbox WHERE child = ?", [child]).fetchone()
        return int(row[0] or 0)

    def add(self, child: str, raw: bytes) -> int:
        """Append a message for ``child``; return its number."""
        n = self.last(child) + 1
        self.db.execute("INSERT INTO outbox (child, n, raw) VALUES (?, ?, ?)", [child, n, raw])
        return n

    def mark(self, child: str, n: int) -> str:
        """The mark of ``child``'s item ``n``; "" when there is none."""
        row = self.db.execute(
            "SELECT raw FROM outbox WHERE child = ? AND n = ?", [child, n]
        ).fetchone()
        return item_mark(bytes(row[0])) if row is not None else ""

    def page(self, child: str, after: int, limit: int, max_bytes: int) -> list[OutboxItem]:
        """``child``'s items after ``after``, oldest first: at most ``limit``, and no more
        than ``max_bytes`` of them (but always the first, whatever its size)."""
        out: list[OutboxItem] = []
        size = 0
        for n, raw in self.db.execute(
            "SELECT n, raw FROM outbox WHERE child = ? AND n > ? ORDER BY n LIMIT ?",
            [child, after, limit],
        ):
            size += len(raw)
            if out and size > max_bytes:
                break
            out.append(OutboxItem(int(n), bytes(raw)))
        return out

    def items(self, child: str) -> list[bytes]:
        """Every message for ``child``, oldest first."""
        return [
            bytes(raw)
            for (raw,) in self.db.execute(
                "SELECT raw FROM outbox WHERE child = ? ORDER BY n", [child]
            )
        ]


class Inbox:
    """How far we took our parents' outboxes: ``inbox_cursor`` and its marks."""

    __slots__ = ("db", "meta")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.meta = SyncMeta(db)

    def cursor(self, peer: str) -> int:
        row = self.db.execute("SELECT n FROM inbox_cursor WHERE peer = ?", [peer]).fetchone()
        return int(row[0]) if row else 0

    def mark(self, peer: str) -> str:
        """The mark of the last item we took from ``peer``'s outbox ("" if unknown)."""
        return self.meta.get(_INBOX_MARK.format(peer=peer)) or ""

    def set(self, peer: str, n: int, mark: str) -> None:
        """We have taken ``peer``'s outbox through item ``n``, whose mark is ``mark``."""
        self.db.execute(
            "INSERT INTO inbox_cursor (peer, n) VALUES (?, ?) ON CONFLICT (peer)"
            " DO UPDATE SET n = excluded.n",
            [peer, n],
        )
        self.meta.set(_INBOX_MARK.format(peer=peer), mark)
