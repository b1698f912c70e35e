# SPDX-License-Identifier: Apache-2.0
"""The sync API (``/sync/v1``): sessions, certificates, state, envelopes, outbox.

Every request but the handshake carries ``X-Rk-Session``, ``X-Rk-Counter`` (strictly
increasing per session) and ``X-Rk-Mac``; every response to it carries ``X-Rk-Mac``.
Views stay thin: decode, one pipeline call, answer.

Refusals of the session layer have their own codes so a client can tell them apart:
``no_session`` (401: unknown or expired session, e.g. after a restart; open a new one
and resend), ``replay`` (401: a hello or request counter seen before; a link that
delivers a request twice causes it, and the client resends with a fresh counter) and
``not_child`` (403: the node does not sync with us). Everything else is the protocol
error of the step that refused (node/server/errors.py).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, request

from node.errors import NodeError
from node.identity import key_dir
from node.store.database import DB_NAME
from node.store.store import NodeStore
from node.sync import holdings, revocations
from node.sync.receive import receive_envelope
from node.sync.trust import CRL_FILE, Trust
from protocol import (
    MalformedError,
    NodeId,
    OutboxItem,
    SessionAnswer,
    SignatureError,
    StateAnswer,
    check_digest,
    check_mac,
    decode_hello,
    decode_session_request,
    encode_outbox_page,
    encode_session_answer,
    encode_state,
    mac,
    make_welcome,
    parse_decimal,
    state_digest,
)

bp = Blueprint("sync", __name__, url_prefix="/sync/v1")
OUTBOX_PAGE = 64
MAX_SESSIONS = 10_000
MAX_IDLE_STORES = 8
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
    serial: int = 0  # the peer's certificate: a revocation ends the session at once


@dataclass
class SyncState:
    sessions: dict[str, Session] = field(default_factory=dict)
    nonces: dict[bytes, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Stores kept open between requests (see _store), and the identity (device, inode)
    # of the database file they were opened on.
    stores: list[NodeStore] = field(default_factory=list)
    store_file: tuple[int, int] | None = None
    closed: bool = False
    """Set by :func:`close_kept_stores`: a request ending afterwards closes its store."""


def init_app(app: Flask) -> None:
    app.extensions["renkou_sync"] = SyncState()
    app.config.setdefault("RENKOU_NOW_MS", lambda: time.time_ns() // 1_000_000)
    app.teardown_appcontext(_close_store)
    app.register_blueprint(bp)


def _now() -> int:
    clock: Callable[[], int] = current_app.config["RENKOU_NOW_MS"]
    return clock()


def _store() -> NodeStore:
    """The node's store for this request, reused from an earlier request when we can.

    Opening a store (connect, pragmas, the migration check, the keys) cost as much as
    the rest of an idle sync request, so stores are kept open between requests, one per
    request running at once (at most MAX_IDLE_STORES idle). A kept store is used only
    while the database file is the same file (device and inode): a node.db put back
    from a backup while the server runs is opened afresh. Certificates and revocations
    are read anew at every request (Trust.load); only the node's own keys are kept,
    and changing those means restarting the server anyway.
    """
    if "store" not in g:
        data_dir = Path(current_app.config["RENKOU_DATA_DIR"])
        try:
            info = os.stat(data_dir / DB_NAME)
            file_id: tuple[int, int] | None = (info.st_dev, info.st_ino)
        except OSError:
            file_id = None
        state = _state()
        stale: list[NodeStore] = []
        with state.lock:
            if file_id is None or file_id != state.store_file:
                stale, state.stores, state.store_file = state.stores, [], file_id
            kept = state.stores.pop() if state.stores else None
        for old in stale:
            old.close()
        g.store = kept if kept is not None else NodeStore.open(data_dir)
    return g.store


def _trust() -> Trust:
    """The trust store for this request, loaded once: the revocation check of every
    authenticated request and the handler then read the same list."""
    if "trust" not in g:
        store = _store()
        g.trust = Trust.load(store.db, store.data_dir)
    return g.trust


def _close_store(exc: BaseException | None = None) -> None:
    """Keep the request's store for the next request, unless something went wrong."""
    store = g.pop("store", None)
    if store is None:
        return
    if exc is None and not store.db.conn.in_transaction:
        state = _state()
        with state.lock:
            if not state.closed and len(state.stores) < MAX_IDLE_STORES:
                state.stores.append(store)
                return
    store.close()


def close_kept_stores(app: Flask) -> None:
    """Close the stores ``app`` keeps between requests, and keep none from now on.

    For a server that stops: its database handles are released now, not whenever the
    collector reaches the app (a process that starts and stops servers, as the demo and
    the tests do, ran out of file descriptors that way).
    """
    state: SyncState | None = app.extensions.get("renkou_sync")
    if state is None:  # an app without the sync API keeps no stores
        return
    with state.lock:
        state.closed = True
        kept, state.stores = state.stores, []
    for store in kept:
        store.close()


def _state() -> SyncState:
    return current_app.extensions["renkou_sync"]


@bp.post("/session")
def open_session() -> Response:
    """Handshake: framed (hello, certificate) -> framed (welcome, our certificate).

    Nothing is stored until the hello has verified: a refused handshake leaves no trace
    but the log line.
    """
    asked = decode_session_request(request.get_data(cache=False))
    store, now = _store(), _now()
    trust = _trust()
    if asked.certificate is None:
        raise MalformedError("a session request carries the client's certificate")
    cert = trust.check(asked.certificate, now)
    hello = decode_hello(asked.hello, store.node, now)
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
        state.sessions[welcome.session_id] = Session(
            cert.node, welcome.key, welcome.expires, serial=cert.serial
        )
    with store.db.atomic():
        trust.keep(cert)
    own = trust.own("node.cert")
    answer = encode_session_answer(SessionAnswer(welcome_raw, own.raw))
    return Response(answer, mimetype="application/octet-stream")


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
    counter = parse_decimal(counter_text, "X-Rk-Counter")
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
    _refuse_if_revoked(sid, session)  # after the MAC: the refusal is authenticated too
    return session, counter


def _refuse_if_revoked(sid: str, session: Session) -> None:
    """A list installed while the session is open (it came with a sync round, or from
    the administrator) ends the session of a node it revokes at its next request,
    instead of letting it run to its expiry."""
    crl = _trust().crl
    if crl is None or session.serial not in crl.revoked:
        return
    state = _state()
    with state.lock:
        state.sessions.pop(sid, None)
    raise SessionRefused(
        "revoked",
        "该节点的证书已被吊销，会话已终止",
        f"the certificate of {session.peer} was revoked; the session is closed",
        403,
    )


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
    """A relay hands up the certificates of the nodes below it (a revoked one too: its
    batches up to ``valid_through`` still count, see Trust.check)."""
    session, counter = _authenticated()
    store = _store()
    trust = _trust()
    cert = trust.check(request.get_data(), _now(), revoked_ok=True)
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
    """204 when the caller's digest equals ours (nothing to do), else our view as JSON.

    ``c`` is the caller's outbox cursor: the answer's ``mark`` names our outbox item
    there, so a caller that read another outbox (we were restored from a backup and
    numbered new items over the ones it read) sees it and reads ours from the start.
    """
    session, counter = _authenticated()
    store = _store()
    child = str(session.peer)
    heads = holdings.subtree_frontier(store.db, session.peer.code)
    outbox = holdings.outbox_max(store.db, child)
    mark = holdings.outbox_mark(store.db, child, outbox)
    crl = revocations.version(_trust().crl)  # a newer list than the caller's: not idle
    theirs_crl = parse_decimal(request.args["r"], "r") if "r" in request.args else 0
    digest = request.args.get("d")
    if digest is not None:
        check_digest(digest)
    if digest == state_digest(heads, outbox, mark) and crl <= theirs_crl:
        return _answer(session, counter, b"", 204)
    cursor = request.args.get("c")
    at_cursor = None if cursor is None else parse_decimal(cursor, "c")
    cursor_mark = None if at_cursor is None else holdings.outbox_mark(store.db, child, at_cursor)
    answer = StateAnswer(heads, outbox, cursor_mark, crl if crl > theirs_crl else 0)
    return _answer(session, counter, encode_state(answer))


@bp.get("/revocations")
def revocation_list() -> Response:
    """The revocation list we hold, as signed by the county root (revocations.py); empty
    when we hold none. A child fetches it when our state offers a newer version."""
    session, counter = _authenticated()
    path = key_dir(_store().data_dir) / CRL_FILE
    return _answer(session, counter, path.read_bytes() if path.exists() else b"")


@bp.post("/envelopes")
def push_envelope() -> Response:
    session, counter = _authenticated()
    store = _store()
    trust = _trust()
    ack = receive_envelope(store, trust, request.get_data(), session.peer, _now())
    return _answer(session, counter, ack)


@bp.get("/outbox")
def outbox() -> Response:
    """Messages for the caller after index ``after``: framed (n, raw) pairs, oldest first."""
    session, counter = _authenticated()
    after = parse_decimal(request.args.get("after", "0"), "after")
    rows = (
        _store()
        .db.execute(
            "SELECT n, raw FROM outbox WHERE child = ? AND n > ? ORDER BY n LIMIT ?",
            [str(session.peer), after, OUTBOX_PAGE],
        )
        .fetchall()
    )
    body = encode_outbox_page([OutboxItem(n, bytes(raw)) for n, raw in rows])
    return _answer(session, counter, body)
