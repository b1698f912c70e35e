# SPDX-License-Identifier: Apache-2.0
"""The node's operator accounts and page sessions: the SQL of ``operators`` and
``operator_sessions`` (migration m005), and nothing else.

Policy (who may do what, how many wrong passwords lock an account, how long a session
may idle) lives in ``node.pages.accounts``; this module only reads and writes rows, so
the CLI and the pages change accounts the same way. Accounts are local to the node and
never travel in the change log: they are not records about people.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database


@dataclass(frozen=True, slots=True)
class Operator:
    """One account as stored (``password_hash`` is an Argon2id hash string)."""

    name: str
    role: str
    password_hash: str
    disabled: bool
    failed: int
    locked_until: int
    created_at: int
    password_set_at: int


@dataclass(frozen=True, slots=True)
class PageSession:
    operator: str
    created_at: int
    last_seen: int
    ended_at: int | None


_COLUMNS = "name, role, password_hash, disabled, failed, locked_until, created_at, password_set_at"


def token_hash(token: str) -> bytes:
    """What the table keeps of a session token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).digest()


class OperatorStore:
    """Rows of ``operators`` and ``operator_sessions`` in one node database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- accounts ---------------------------------------------------------------------

    def get(self, name: str) -> Operator | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM operators WHERE name = ?", [name]).fetchone()
        return _operator(row) if row else None

    def all(self) -> list[Operator]:
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM operators ORDER BY name").fetchall()
        return [_operator(r) for r in rows]

    def add(self, name: str, role: str, password_hash: str, now_ms: int) -> bool:
        """Insert a new account; False if the name is taken (nothing changed then)."""
        with self.db.atomic():
            if self.get(name) is not None:
                return False
            self.db.execute(
                f"INSERT INTO operators ({_COLUMNS}) VALUES (?, ?, ?, 0, 0, 0, ?, ?)",
                [name, role, password_hash, now_ms, now_ms],
            )
        return True

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """Disable (and end every session of) or re-enable an account; False if unknown."""
        with self.db.atomic():
            cur = self.db.execute(
                "UPDATE operators SET disabled = ? WHERE name = ?", [int(disabled), name]
            )
            if disabled:
                self._end_all(name)
        return cur.rowcount == 1

    def set_password(self, name: str, password_hash: str, now_ms: int) -> bool:
        """Replace the password, clear the lockout and end every session; False if unknown."""
        with self.db.atomic():
            cur = self.db.execute(
                "UPDATE operators SET password_hash = ?, password_set_at = ?, failed = 0,"
                " locked_until = 0 WHERE name = ?",
                [password_hash, now_ms, name],
            )
            self._end_all(name)
        return cur.rowcount == 1

    def record_failure(self, name: str, lock_after: int, lock_until_ms: int) -> int:
        """Count one wrong password; lock the account at ``lock_after`` failures.

        Returns:
            The number of failures counted since the last success or lockout.
        """
        with self.db.atomic():
            self.db.execute("UPDATE operators SET failed = failed + 1 WHERE name = ?", [name])
            row = self.db.execute("SELECT failed FROM operators WHERE name = ?", [name]).fetchone()
            failed = int(row[0]) if row else 0
            if failed >= lock_after:
                self.db.execute(
                    "UPDATE operators SET failed = 0, locked_until = ? WHERE name = ?",
                    [lock_until_ms, name],
                )
        return failed

    def record_success(self, name: str) -> None:
        self.db.execute("UPDATE operators SET failed = 0, locked_until = 0 WHERE name = ?", [name])

    # -- sessions ---------------------------------------------------------------------

    def open_session(self, token: str, name: str, now_ms: int) -> None:
        self.db.execute(
            "INSERT INTO operator_sessions (token_hash, operator, created_at, last_seen)"
            " VALUES (?, ?, ?, ?)",
            [token_hash(token), name, now_ms, now_ms],
        )

    def session(self, token: str) -> PageSession | None:
        row = self.db.execute(
            "SELECT operator, created_at, last_seen, ended_at FROM operator_sessions"
            " WHERE token_hash = ?",
            [token_hash(token)],
        ).fetchone()
        return PageSession(*row) if row else None

    def touch_session(self, token: str, now_ms: int) -> None:
        self.db.execute(
            "UPDATE operator_sessions SET last_seen = ? WHERE token_hash = ? AND ended_at IS NULL",
            [now_ms, token_hash(token)],
        )

    def end_session(self, token: str, now_ms: int) -> None:
        self.db.execute(
            "UPDATE operator_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
            [now_ms, token_hash(token)],
        )

    def _end_all(self, name: str) -> None:
        self.db.execute(
            "UPDATE operator_sessions SET ended_at = COALESCE(ended_at, last_seen)"
            " WHERE operator = ? AND ended_at IS NULL",
            [name],
        )


def _operator(row: tuple[Any, ...]) -> Operator:
    name, role, password_hash, disabled, failed, locked, created, set_at = row
    return Operator(
        str(name),
        str(role),
        str(password_hash),
        bool(disabled),
        int(failed),
        int(locked),
        int(created),
        int(set_at),
    )
