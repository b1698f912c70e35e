# SPDX-License-Identifier: Apache-2.0
"""The sync API (``/sync/v1``): sessions, certificates, state, envelopes, outbox.

Every request but the handshake carries ``X-Rk-Session``, ``X-Rk-Counter`` (strictly
increasing per session) and ``X-Rk-Mac``; every response to it carries ``X-Rk-Mac``.
Views stay thin: decode, one pipeline call, answer.

Refusals of the session layer have their own codes so a client can tell them apart:
``no_session`` (401: unknown or expired session, e.g. after a restart; open a new one
and resend), ``replay`` (401: a hello or request counter seen before) and
``not_child`` (403: the node does not sync with us). Everything else is the protocol
error of the step that refused (node/server/errors.py).
"""

from __future__ import annotations

import json
import re
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, request

from node.errors import NodeError
from node.store.store import NodeStore
from node.sync import holdings
from node.sync.receive import receive_envelope
from node.sync.trust import Trust
from protocol import (
    MalformedError,
    NodeId,
    SignatureError,
    TooLargeError,
)
from protocol.session import check_mac, decode_hello, mac, make_welcome

bp = Blueprint("sync", __name__, url_prefix="/sync/v1")
MAX_HANDSHAKE = 64 * 1024
OUTBOX_PAGE = 64
MAX_SESSIONS = 10_000
_DECIMAL = re.compile(r"[0-9]{1,15}")  # ASCII only: str.isdigit() also takes "²"


class SessionRefused(NodeError):
    """The session layer said no (see the module docstring for the codes)."""

    status = 401

    def __init__(self, code: str, zh: str, en: str, status: int = 401) -> None:
        super().__init__(zh, en, code=code)
        self.status = status


def _no_session() -> SessionRefused:
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


@dataclass
class SyncState:
    sessions: dict[str, Session] = field(default_factory=dict)
    nonces: dict[bytes, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def init_app(app: Flask) -> None:
    app.extensions["renkou_sync"] = SyncState()
    app.config.setdefault("RENKOU_NOW_MS", lambda: time.time_ns() // 1_000_000)
    app.teardown_appcontext(_close_store)
    app.register_blueprint(bp)


def _now() -> int:
    clock: Callable[[], int] = current_app.config["RENKOU_NOW_MS"]
    return clock()


def _store() -> NodeStore:
    if "store" not in g:
        g.store = NodeStore.open(Path(current_app.config["RENKOU_DATA_DIR"]))
    return g.store  # type: ignore[no-any-return]


def _close_store(_exc: BaseException | None = None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def _state() -> SyncState:
    return current_app.extensions["renkou_sync"]  # type: ignore[no-any-return]


def frame(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


def unframe(data: bytes, count: int) -> list[bytes]:
    out, pos = [], 0
    for _ in range(count):
        if pos + 4 > len(data):
            raise MalformedError("request body is cut short")
        (n,) = struct.unpack_from(">I", data, pos)
        if pos + 4 + n > len(data):
            raise MalformedError("request body is cut short")
        out.append(data[pos + 4 : pos + 4 + n])
        pos += 4 + n
    if pos != len(data):
        raise MalformedError("request body has trailing bytes")
    return out


@bp.post("/session")
def open_session() -> Response:
    """Handshake: framed (hello, certificate) -> framed (welcome, our certificate).

    Nothing is stored until the hello has verified: a refused handshake leaves no trace
    but the log line.
    """
    body = request.get_data(cache=False)
    if len(body) > MAX_HANDSHAKE:
        raise TooLargeError(f"handshake of {len(body)} bytes exceeds {MAX_HANDSHAKE}")
    hello_raw, cert_raw = unframe(body, 2)
    store, now = _store(), _now()
    trust = Trust.load(store.db, store.data_dir)
    cert = trust.check(cert_raw, now)
    hello = decode_hello(hello_raw, store.node, now)
    if hello.sender != cert.node:
        raise SignatureError("hello is not from the certificate's node")
    hello.signed.verify(cert.verify_key)
    if hello.sender.parent != store.node:
        raise SessionRefused(
            "not_child",
            f"{hello.sender} 不是本节点（{store.node}）的下级，不能与本节点同步",
            f"{hello.sender} does not sync with {store.node}",
            403,
        )
    state = _state()
    with state.lock:
        state.nonces = {n: t for n, t in state.nonces.items() if t > now - 600_000}
        if hello.nonce in state.nonces:
            raise SessionRefused(
                "replay",
                "该握手请求已使用过（重放），已拒绝",
                "this hello was already used (replay)",
            )
        state.sessions = {k: v for k, v in state.sessions.items() if v.expires >= now}
        if len(state.sessions) >= MAX_SESSIONS:
            raise SessionRefused(
                "busy", "会话过多，请稍后重试", "too many open sessions; try again later", 503
            )
        state.nonces[hello.nonce] = now
        welcome_raw, welcome = make_welcome(store.identity.signing, hello, cert.kem_key, now)
        state.sessions[welcome.session_id] = Session(cert.node, welcome.key, welcome.expires)
    with store.db.atomic():
        trust.keep(cert)
    own = trust.own("node.cert")
    return Response(frame(welcome_raw, own.raw), mimetype="application/octet-stream")


def _authenticated() -> tuple[Session, int]:
    """Check the session headers and MAC of the current request."""
    sid = request.headers.get("X-Rk-Session", "")
    counter_text = request.headers.get("X-Rk-Counter", "")
    given = request.headers.get("X-Rk-Mac", "")
    state = _state()
    with state.lock:
        session = state.sessions.get(sid)
    if session is None or session.expires < _now():
        raise _no_session()
    if not _DECIMAL.fullmatch(counter_text):
        raise MalformedError("X-Rk-Counter must be a decimal counter (1 to 15 digits)")
    counter = int(counter_text)
    path = request.full_path.rstrip("?")
    # Read the body outside the lock: a slow or dropped upload must not stall the others.
    body = request.get_data(cache=True)
    check_mac(session.key, given, "req", request.method, path, counter, body)
    with state.lock:
        if counter <= session.counter:
            raise SessionRefused(
                "replay",
                "请求序号未递增（重放），已拒绝",
                f"request counter {counter} is not above {session.counter} (replay)",
            )
        session.counter = counter
    g.rk_auth = (session, counter)
    return session, counter


@bp.after_request
def _authenticate_refusals(response: Response) -> Response:
    """A refusal of an authenticated request carries a MAC too, so the client can tell
    our word (record it: "rejected by …") from a forgery on the link."""
    auth = g.get("rk_auth")
    if auth is not None and "X-Rk-Mac" not in response.headers:
        session, counter = auth
        path = request.full_path.rstrip("?")
        body = response.get_data()
        response.headers["X-Rk-Mac"] = mac(session.key, "res", request.method, path, counter, body)
    return response


def _answer(session: Session, counter: int, body: bytes, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="application/octet-stream")
    path = request.full_path.rstrip("?")
    response.headers["X-Rk-Mac"] = mac(session.key, "res", request.method, path, counter, body)
    return response


@bp.post("/certs")
def add_certificate() -> Response:
    """A relay hands up the certificates of the nodes below it."""
    session, counter = _authenticated()
    store = _store()
    trust = Trust.load(store.db, store.data_dir)
    cert = trust.check(request.get_data(), _now())
    if not cert.node.code.startswith(session.peer.code):
        raise SessionRefused(
            "not_child",
            f"{session.peer} 不能引荐 {cert.node} 的证书",
            f"{session.peer} may not introduce {cert.node}",
            403,
        )
    with store.db.atomic():
        trust.keep(cert)
    return _answer(session, counter, b"")


@bp.get("/state")
def state() -> Response:
    """204 when the caller's digest equals ours (nothing to do), else our view as JSON."""
    session, counter = _authenticated()
    store = _store()
    heads = holdings.subtree_frontier(store.db, session.peer.code)
    outbox = holdings.outbox_max(store.db, str(session.peer))
    if request.args.get("d", "") == holdings.state_digest(heads, outbox):
        return _answer(session, counter, b"", 204)
    body = json.dumps({"heads": heads.to_json(), "outbox": outbox}).encode()
    return _answer(session, counter, body)


@bp.post("/envelopes")
def push_envelope() -> Response:
    session, counter = _authenticated()
    store = _store()
    trust = Trust.load(store.db, store.data_dir)
    ack = receive_envelope(store, trust, request.get_data(), session.peer, _now())
    return _answer(session, counter, ack)


@bp.get("/outbox")
def outbox() -> Response:
    """Messages for the caller after index ``after``: framed (n, raw) pairs, oldest first."""
    session, counter = _authenticated()
    after = request.args.get("after", "0")
    if not _DECIMAL.fullmatch(after):
        raise MalformedError("after must be a non-negative integer (1 to 15 digits)")
    rows = (
        _store()
        .db.execute(
            "SELECT n, raw FROM outbox WHERE child = ? AND n > ? ORDER BY n LIMIT ?",
            [str(session.peer), int(after), OUTBOX_PAGE],
        )
        .fetchall()
    )
    body = b"".join(struct.pack(">QI", n, len(raw)) + raw for n, raw in rows)
    return _answer(session, counter, body)
