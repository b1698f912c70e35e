# SPDX-License-Identifier: Apache-2.0
"""Certificates of other nodes that arrived over sync (after their chain verified).

Owner of ``certs``. What is trusted is decided in node/sync/trust.py at every use
(chain, validity, revocation); this table only keeps the bytes.
"""

from __future__ import annotations

from sqlite_utils import Database


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
