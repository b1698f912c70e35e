# SPDX-License-Identifier: Apache-2.0
"""The county's tables inside the county node's database: ``advisories_issued``.

Why there: an advisory's outbox item (the node's table, node/store/outbox.py) and the
record that it was sent must commit in one transaction, so both live in the county
node's node.db. The table is the county's all the same: created by the county's own
migration set for that database (migrations.node_migrations), read and written only
here; the node's schema knows nothing of it.
"""

from __future__ import annotations

from sqlite_utils import Database

from county_aggregator.migrations import node_migrations


class IssuedAdvisories:
    """``advisories_issued``: which advisory entry went into whose outbox, and when.

    Opening it brings the county's tables of that database up to date, so open it
    outside a transaction (once per run).
    """

    __slots__ = ("db",)

    def __init__(self, county_node_db: Database) -> None:
        self.db = county_node_db
        node_migrations.apply(county_node_db)

    def issued(self, log: str, seq: int, for_node: str) -> bool:
        """Was the advisory entry ``log``/``seq`` already queued for ``for_node``?"""
        row = self.db.execute(
            "SELECT 1 FROM advisories_issued WHERE log = ? AND seq = ? AND for_node = ?",
            [log, seq, for_node],
        ).fetchone()
        return row is not None

    def record(self, log: str, seq: int, for_node: str, child: str, at: int) -> None:
        """Note that the entry was queued for ``for_node`` in ``child``'s outbox (inside
        the transaction that queues it)."""
        self.db.execute(
            "INSERT INTO advisories_issued (log, seq, for_node, child, at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (log, seq, for_node) DO UPDATE SET at = excluded.at",
            [log, seq, for_node, child, at],
        )

    def outboxes(self, log: str, seq: int) -> list[str]:
        """The outboxes (townships) the advisory entry ``log``/``seq`` was put into."""
        return [
            str(r[0])
            for r in self.db.execute(
                "SELECT child FROM advisories_issued WHERE log = ? AND seq = ? ORDER BY child",
                [log, seq],
            )
        ]
