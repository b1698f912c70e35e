# SPDX-License-Identifier: Apache-2.0
"""The table of open sync sessions (SPEC.md §8.5, §15.3).

A session is opened by a verified hello (node/server/sync_api.py checks the hello and
the client's certificate) and lives until its expiry; each request names it, carries a
counter strictly above the last one the session accepted and a MAC under its key.
Hello nonces are kept ten minutes (twice the clock skew a hello may have), so a
recorded hello cannot open a second session.

The refusals of this layer have their own codes, so a client can tell them apart:
``no_session`` (401: unknown or expired; open a new one and resend), ``replay`` (401: a
hello or counter seen before; a link that delivers a request twice causes it),
``busy`` (503: too many open sessions), ``revoked`` (403: the peer's certificate was
revoked while its session was open).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from node.errors import NodeError
from protocol import Hello, KemPublicKey, NodeId, SigningKey, check_mac, make_welcome

MAX_SESSIONS = 10_000
NONCE_KEEP_MS = 600_000


class SessionRefused(NodeError):
    """The session layer said no (see the module docstring for the codes)."""

    status = 401

    def __init__(self, code: str, zh: str, en: str, status: int = 401) -> None:
        super().__init__(zh, en, code=code)
        self.status = status


def no_session() -> SessionRefused:
    return SessionRefused(
        "no_session",
        "会话不存在或已过期，请重新建立会话",
        "unknown or expired session; open a new one",
    )


@dataclass
class Session:
    peer: NodeId
    key: bytes
    expires: int
    counter: int = 0
    serial: int = 0  # the peer's certificate: a revocation ends the session at once


@dataclass
class SessionTable:
    sessions: dict[str, Session] = field(default_factory=dict)
    nonces: dict[bytes, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(
        self, hello: Hello, serial: int, kem_key: KemPublicKey, key: SigningKey, now_ms: int
    ) -> bytes:
        """Open a session for a verified ``hello``; return the signed welcome.

        Raises:
            SessionRefused: ``replay`` (this hello was used), ``busy`` (table full).
        """
        with self.lock:
            self.nonces = {n: t for n, t in self.nonces.items() if t > now_ms - NONCE_KEEP_MS}
            if hello.nonce in self.nonces:
                raise SessionRefused(
                    "replay",
                    "该握手请求已使用过（重放），已拒绝",
                    "this hello was already used (replay)",
                )
            self.sessions = {k: v for k, v in self.sessions.items() if v.expires >= now_ms}
            if len(self.sessions) >= MAX_SESSIONS:
                raise SessionRefused(
                    "busy", "会话过多，请稍后重试", "too many open sessions; try again later", 503
                )
            self.nonces[hello.nonce] = now_ms
            welcome_raw, welcome = make_welcome(key, hello, kem_key, now_ms)
            self.sessions[welcome.session_id] = Session(
                hello.sender, welcome.key, welcome.expires, serial=serial
            )
        return welcome_raw

    def find(self, sid: str, now_ms: int) -> Session:
        """The open session ``sid``.

        Raises:
            SessionRefused: ``no_session``.
        """
        with self.lock:
            session = self.sessions.get(sid)
        if session is None or session.expires < now_ms:
            raise no_session()
        return session

    def accept(
        self, session: Session, given: str, method: str, path: str, counter: int, body: bytes
    ) -> None:
        """Check a request's MAC, then take its counter.

        Raises:
            SignatureError: the MAC does not verify (``bad_signature``).
            SessionRefused: ``replay``: the counter is not above the last one taken.
        """
        check_mac(session.key, given, "req", method, path, counter, body)
        with self.lock:
            if counter <= session.counter:
                raise SessionRefused(
                    "replay",
                    "请求序号未递增（重放），已拒绝",
                    f"request counter {counter} is not above {session.counter} (replay)",
                )
            session.counter = counter

    def close(self, sid: str) -> None:
        with self.lock:
            self.sessions.pop(sid, None)
