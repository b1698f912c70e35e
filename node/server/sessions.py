# SPDX-License-Identifier: Apache-2.0
"""The table of open sync sessions (SPEC.md §8.5, §15.3).

A session is opened by a verified hello (node/server/sync_api.py checks the hello and
the client's certificate, and takes its nonce once: node/store/nonces.py keeps the
nonces in the node's database, so a recorded hello cannot open a second session, before
or after a restart) and lives until its expiry; each request names it, carries a counter
strictly above the last one the session accepted and a MAC under its key.

The table is shared by every child, so no one child may fill it (issue 13, fact 5): a
peer holds at most ``MAX_SESSIONS_PER_PEER`` sessions (a new handshake ends that peer's
oldest; a client needs one per round), and the sessions of a peer whose certificate a
newly installed revocation list names end at once, not at their expiry.

The refusals of this layer have their own codes, so a client can tell them apart:
``no_session`` (401: unknown or expired; open a new one and resend), ``replay`` (401: a
hello or counter seen before; a link that delivers a request twice causes it),
``busy`` (503: too many open sessions, from too many peers), ``revoked`` (403: the peer's
certificate was revoked while its session was open).
"""

from __future__ import annotations

import threading
from collections.abc import Container
from dataclasses import dataclass, field

from node.errors import NodeError
from protocol import Hello, KemPublicKey, NodeId, SigningKey, check_mac, make_welcome

MAX_SESSIONS = 10_000
MAX_SESSIONS_PER_PEER = 4
"""A client holds one session per round; a few more for a round started by hand
while the timer's runs, or one whose welcome was lost."""


class SessionRefused(NodeError):
    """The session layer said no (see the module docstring for the codes)."""

    status = 401

    def __init__(self, code: str, zh: str, en: str, status: int = 401) -> None:
        super().__init__(zh, en, code=code)
        self.status = status


def replayed_hello() -> SessionRefused:
    return SessionRefused(
        "replay", "该握手请求已使用过（重放），已拒绝", "this hello was already used (replay)"
    )


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
    """Open sessions by id, oldest first (a dict keeps insertion order)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    crl_version: int = 0
    """The version of the revocation list whose serials :meth:`end_revoked` last purged."""

    def open(
        self, hello: Hello, serial: int, kem_key: KemPublicKey, key: SigningKey, now_ms: int
    ) -> bytes:
        """Open a session for a verified ``hello`` whose nonce the caller has taken;
        return the signed welcome. The peer's oldest sessions end so that it holds at
        most MAX_SESSIONS_PER_PEER.

        Raises:
            SessionRefused: ``busy`` (the table is full of other peers' sessions).
        """
        welcome_raw, welcome = make_welcome(key, hello, kem_key, now_ms)
        with self.lock:
            self.sessions = {k: v for k, v in self.sessions.items() if v.expires >= now_ms}
            own = [k for k, v in self.sessions.items() if v.peer == hello.sender]
            for sid in own[: max(0, len(own) - MAX_SESSIONS_PER_PEER + 1)]:
                del self.sessions[sid]
            if len(self.sessions) >= MAX_SESSIONS:
                raise SessionRefused(
                    "busy", "会话过多，请稍后重试", "too many open sessions; try again later", 503
                )
            self.sessions[welcome.session_id] = Session(
                hello.sender, welcome.key, welcome.expires, serial=serial
            )
        return welcome_raw

    def end_revoked(self, version: int, revoked: Container[int]) -> None:
        """End every session of a certificate in ``revoked`` (list ``version``), once
        per new list: a revoked peer's sessions are freed at once, not at their expiry."""
        if version == self.crl_version:
            return
        with self.lock:
            self.sessions = {k: v for k, v in self.sessions.items() if v.serial not in revoked}
            self.crl_version = version

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
