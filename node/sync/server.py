# SPDX-License-Identifier: Apache-2.0
"""The sync API (``/sync/v1``): sessions, certificates, state, envelopes, outbox.

Every request but the handshake carries ``X-Rk-Session``, ``X-Rk-Counter`` (strictly
increasing per session) and ``X-Rk-Mac``; every response to it carries ``X-Rk-Mac``.
Views stay thin: decode, one pipeline call, answer.
"""

from __future__ import annotations

import json
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, request

from node.store.store import NodeStore
from node.sync import holdings
from node.sync.receive import receive_envelope
from node.sync.trust import Trust
from protocol import (
    ExpiredError,
    MalformedError,
    NodeId,
    SignatureError,
    TooLargeError,
)
from protocol.session import check_mac, decode_hello, mac, make_welcome

bp = Blueprint("sync", __name__, url_prefix="/sync/v1")
MAX_HANDSHAKE = 64 * 1024
OUTBOX_PAGE = 64


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
    """Handshake: framed (hello, certificate) -> framed (welcome, our certificate)."""
    body = request.get_data(cache=False)
    if len(body) > MAX_HANDSHAKE:
        raise TooLargeError("handshake is too large")
    hello_raw, cert_raw = unframe(body, 2)
    store, now = _store(), _now()
    trust = Trust.load(store.db, store.data_dir)
    with store.db.atomic():
        cert = trust.admit(cert_raw, now)
    hello = decode_hello(hello_raw, store.node, now)
    if hello.sender != cert.node:
        raise SignatureError("hello is not from the certificate's node")
    hello.signed.verify(cert.verify_key)
    if hello.sender.parent != store.node:
        raise MalformedError(f"{hello.sender} does not sync with {store.node}")
    state = _state()
    with state.lock:
        state.nonces = {n: t for n, t in state.nonces.items() if t > now - 600_000}
        if hello.nonce in state.nonces:
            raise ExpiredError("this hello was already used (replay)")
        state.nonces[hello.nonce] = now
        welcome_raw, welcome = make_welcome(store.identity.signing, hello, cert.kem_key, now)
        state.sessions[welcome.session_id] = Session(cert.node, welcome.key, welcome.expires)
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
            raise SignatureError("unknown or expired session; open a new one")
        if not counter_text.isdigit() or len(counter_text) > 15:
            raise MalformedError("X-Rk-Counter must be a decimal counter")
        counter = int(counter_text)
        path = request.full_path.rstrip("?")
        check_mac(
            session.key, given, "req", request.method, path, counter, request.get_data(cache=True)
        )
        if counter <= session.counter:
            raise ExpiredError("request counter went backwards (replay)")
        session.counter = counter
    return session, counter


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
    with store.db.atomic():
        cert = trust.admit(request.get_data(), _now())
    if not cert.node.code.startswith(session.peer.code):
        raise SignatureError(f"{session.peer} may not introduce {cert.node}")
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
    if not after.isdigit() or len(after) > 15:
        raise MalformedError("after must be a non-negative integer")
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
