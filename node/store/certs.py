# SPDX-License-Identifier: Apache-2.0
"""Certificates: those of other nodes that arrived over sync, and those a peer holds.

Owner of ``certs`` (the certificates we kept after their chain verified: what is
trusted is decided in node/sync/trust.py at every use, by chain, validity and
revocation; this table only keeps the bytes) and ``peer_certs`` (which certificates our
parent holds, as far as we know, so each travels to it once: SPEC.md §15.4, §15.6).
"""

from __future__ import annotations

from sqlite_utils import Database

from node.store.database import OPERATIONAL_ERRORS


class Certs:
    """The ``certs`` table of one database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def keep(self, node: str, serial: int, raw: bytes) -> None:
        """Keep a certificate (idempotent)."""
        self.db.execute(
            "INSERT OR IGNORE INTO certs (node, serial, raw) VALUES (?, ?, ?)", [node, serial, raw]
        )

    def serials(self) -> list[tuple[str, int]]:
        """``(node, serial)`` of every certificate we keep."""
        try:
            return self.db.execute("SELECT node, serial FROM certs").fetchall()
        except OPERATIONAL_ERRORS:  # not a node's database (no migrations applied)
            return []

    def nodes(self) -> list[str]:
        """Every node we keep a certificate of."""
        return [str(n) for (n,) in self.db.execute("SELECT DISTINCT node FROM certs ORDER BY node")]

    def of(self, node: str, serial: int | None = None) -> list[bytes]:
        """The certificates of ``node`` we keep (with ``serial`` only), newest first."""
        if serial is None:
            rows = self.db.execute(
                "SELECT raw FROM certs WHERE node = ? ORDER BY serial DESC", [node]
            )
        else:
            rows = self.db.execute(
                "SELECT raw FROM certs WHERE node = ? AND serial = ?", [node, serial]
            )
        return [bytes(raw) for (raw,) in rows]


class PeerCerts:
    """The ``peer_certs`` table: certificates a peer is known to hold."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def holds(self, peer: str, node: str, serial: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM peer_certs WHERE peer = ? AND node = ? AND serial = ?",
            [peer, node, serial],
        ).fetchone()
        return row is not None

    def note(self, peer: str, node: str, serial: int, at: int) -> None:
        """``peer`` kept the certificate ``serial`` of ``node`` (it said so)."""
        self.db.execute(
            "INSERT INTO peer_certs (peer, node, serial, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (peer, node, serial) DO UPDATE SET at = excluded.at",
            [peer, node, serial, at],
        )

    def forget(self, peer: str, node: str, serial: int) -> None:
        """``peer`` said it does not hold it (it was restored from a backup, say)."""
        self.db.execute(
            "DELETE FROM peer_certs WHERE peer = ? AND node = ? AND serial = ?",
            [peer, node, serial],
        )
