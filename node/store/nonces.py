# SPDX-License-Identifier: Apache-2.0
"""The hello nonces a sync server has taken: the SQL of ``hello_nonces`` (migration m009).

A hello is fresh while its time is within ``MAX_SKEW_MS`` of the server's clock
(protocol.session), so a recorded hello can be replayed for as long as that holds: up
to twice the skew after it arrived, when the client's clock ran ahead. Each nonce is
therefore kept until ``max(hello time, arrival) + 2 × MAX_SKEW_MS``, and a nonce whose
``until`` equals now is still held (the hello is still fresh at that instant). Kept in
the node's database, not in the server's memory: a restarted server refuses a hello
recorded before the restart as the running one would (issue 13, fact 13).
"""

from __future__ import annotations

from sqlite_utils import Database

from node.store.database import INTEGRITY_ERRORS
from protocol.session import MAX_SKEW_MS

NONCE_KEEP_MS = 2 * MAX_SKEW_MS
"""How long after the later of its hello time and its arrival a nonce is kept."""


class HelloNonces:
    """The ``hello_nonces`` table of one node database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def take(self, nonce: bytes, hello_at: int, now_ms: int) -> bool:
        """Record ``nonce`` as used; False if it was already taken and is still kept.

        The caller holds the write transaction (the nonce is taken in the transaction
        that lets the session open). Nonces whose time has passed are forgotten first.
        """
        self.db.execute("DELETE FROM hello_nonces WHERE until < ?", [now_ms])
        try:
            self.db.execute(
                "INSERT INTO hello_nonces (nonce, until) VALUES (?, ?)",
                [nonce, max(hello_at, now_ms) + NONCE_KEEP_MS],
            )
        except INTEGRITY_ERRORS:  # plain or encrypted (SQLCipher) store alike
            return False
        return True

    def held(self) -> int:
        """How many nonces are kept (for tests and status)."""
        return int(self.db.execute("SELECT COUNT(*) FROM hello_nonces").fetchone()[0])
