# SPDX-License-Identifier: Apache-2.0
"""The sync API (``/sync/v1``, SPEC.md §15): the views, thin.

Each view authenticates the request (session, counter, MAC: node/server/sessions.py),
makes one pipeline call and answers; every answer to an authenticated request carries
``X-Rk-Mac`` over its body, refusals included, so the client can tell our word from a
forgery on the link. Errors take the one JSON shape of node/server/errors.py.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, request

from node.calendar_store import held_schedules_raw
from node.keys.rotation import certificate_of_key
from node.server import context
from node.server.sessions import Session, SessionRefused, SessionTable, replayed_hello
from node.store.holdings import Holdings, immediate
from node.store.nonces import HelloNonces
from node.store.outbox import Outbox
from node.sync import revocations
from node.sync.receive import receive_envelope
from node.sync.recovery_asked import take_request
from node.sync.trust import held_revocations_raw
from protocol import (
    SessionAnswer,
    SignatureError,
    StateAnswer,
    check_digest,
    decode_hello,
    decode_session_request,
    encode_outbox_page,
    encode_session_answer,
    encode_state,
    mac,
    parse_decimal,
    state_digest,
)
from protocol.outbox import MAX_PAGE, MAX_PAGE_ITEMS
from protocol.schedules import (
    check_schedule_digest,
    encode_schedule_bundle,
    schedule_set_digest,
)

bp = Blueprint("sync", __name__, url_prefix="/sync/v1")
EXTENSION = "renkou_sessions"
OCTETS = "application/octet-stream"


def init_app(app: Flask) -> None:
    context.init_app(app)
    app.extensions[EXTENSION] = SessionTable()
    app.register_blueprint(bp)


def _sessions() -> SessionTable:
    return current_app.extensions[EXTENSION]


def _not_child(who: object, what: object, zh: str) -> SessionRefused:
    return SessionRefused("not_child", zh, f"{who} {what}", 403)


@bp.post("/session")
def open_session() -> Response:
    """Handshake (§15.4): framed (hello[, certificate]) -> framed (welcome[, ours]).

    The client's certificate comes with the hello when the client does not know that
    we hold it; otherwise we use the one we hold whose key signed the hello, and a
    client whose certificate we lost is told ``unknown_certificate`` and sends it. Our
    own certificate goes back only when the client did not name its serial in
    ``have``. Nothing is stored until the hello has verified: a refused handshake
    leaves no trace but the log line.
    """
    asked = decode_session_request(request.get_data(cache=False))
    store, trust, now = context.store(), context.trust(), context.now_ms()
    held = parse_decimal(request.args["have"], "have") if "have" in request.args else 0
    hello = decode_hello(asked.hello, store.node, now)
    if asked.certificate is not None:
        cert = trust.check(asked.certificate, now)
    else:
        cert = trust.check(trust.signer_of(hello.sender, hello.signed.signer_key_id).raw, now)
    if hello.sender != cert.node:
        raise SignatureError("hello is not from the certificate's node")
    hello.signed.verify(cert.verify_key)
    if hello.sender.parent != store.node:
        raise _not_child(
            hello.sender,
            f"does not sync with {store.node}",
            f"{hello.sender} 不是本节点（{store.node}）的下级，不能与本节点同步",
        )
    with immediate(store.db):  # taken once, in the database: a restart forgets nothing
        if not HelloNonces(store.db).take(hello.nonce, hello.at, now):
            raise replayed_hello()
    table = _sessions()
    _end_revoked(table)
    welcome = table.open(hello, cert.serial, cert.kem_key, store.identity.signing, now)
    if asked.certificate is not None:
        with store.db.atomic():
            trust.keep(cert)
    own = certificate_of_key(
        store.data_dir, trust.own("node.cert"), store.identity.signing.verify_key
    )
    answer = SessionAnswer(welcome, None if held == own.serial else own.raw)
    return Response(encode_session_answer(answer), mimetype=OCTETS)


def _authenticated() -> tuple[Session, int]:
    """Check the session headers and MAC of the current request (§15.3)."""
    table, now = _sessions(), context.now_ms()
    sid = request.headers.get("X-Rk-Session", "")
    session = table.find(sid, now)
    counter = parse_decimal(request.headers.get("X-Rk-Counter", ""), "X-Rk-Counter")
    # Read the body outside the lock: a slow or dropped upload must not stall the others.
    body = request.get_data(cache=True)
    given = request.headers.get("X-Rk-Mac", "")
    table.accept(session, given, request.method, _path(), counter, body)
    g.rk_auth = (session, counter)
    _refuse_if_revoked(table, sid, session)  # after the MAC: the refusal is authenticated
    _end_revoked(table)
    return session, counter


def _end_revoked(table: SessionTable) -> None:
    """A newly installed revocation list ends the sessions of every peer it revokes, so
    a stolen PC's sessions stop holding places in the table (issue 13, fact 5)."""
    crl = context.trust().crl
    if crl is not None:
        table.end_revoked(crl.version, crl.revoked)


def _path() -> str:
    """The path as the client sent it, query string included (what the MAC covers)."""
    return request.full_path.rstrip("?")


def _refuse_if_revoked(table: SessionTable, sid: str, session: Session) -> None:
    """A list installed while the session is open (it came with a sync round, or from
    the administrator) ends the session of a node it revokes at its next request,
    instead of letting it run to its expiry."""
    crl = context.trust().crl
    if crl is None or session.serial not in crl.revoked:
        return
    table.close(sid)
    raise SessionRefused(
        "revoked",
        "该节点的证书已被吊销，会话已终止",
        f"the certificate of {session.peer} was revoked; the session is closed",
        403,
    )


@bp.after_request
def _authenticate_answer(response: Response) -> Response:
    """Every answer to an authenticated request carries a MAC over its body."""
    auth = g.get("rk_auth")
    if auth is not None:
        session, counter = auth
        body = response.get_data()
        response.headers["X-Rk-Mac"] = mac(
            session.key, "res", request.method, _path(), counter, body
        )
    return response


def _answer(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype=OCTETS)


@bp.post("/certs")
def add_certificate() -> Response:
    """A relay hands up the certificate of a node below it (a revoked one too: its
    batches up to ``valid_through`` still count, see Trust.check)."""
    session, _ = _authenticated()
    store, trust = context.store(), context.trust()
    cert = trust.check(request.get_data(), context.now_ms(), revoked_ok=True)
    if not cert.node.code.startswith(session.peer.code):
        raise _not_child(
            session.peer,
            f"may not introduce {cert.node}",
            f"{session.peer} 不能引荐 {cert.node} 的证书",
        )
    with store.db.atomic():
        trust.keep(cert)
    return _answer(b"")


@bp.get("/state")
def state() -> Response:
    """204 when the caller's digest equals ours and we offer no newer revocation list and
    no set of holiday schedules it has not taken (``h``; nothing to do), else our view
    as canonical JSON (protocol.sync_state, §15.5).

    ``c`` is the caller's outbox cursor: the answer's ``mark`` names our outbox item
    there, so a caller that read another outbox (we were restored from a backup and
    numbered new items over the ones it read) sees it and reads ours from the start.
    """
    session, _ = _authenticated()
    store = context.store()
    child, outbox = str(session.peer), Outbox(store.db)
    heads = Holdings(store.db).subtree_frontier(session.peer.code)
    last = outbox.last(child)
    crl = revocations.version(context.trust().crl)
    theirs_crl = parse_decimal(request.args["r"], "r") if "r" in request.args else 0
    held = schedule_set_digest(held_schedules_raw(store.data_dir))
    theirs_held = check_schedule_digest(request.args["h"]) if "h" in request.args else ""
    offer = held if held not in ("", theirs_held) else ""
    digest = request.args.get("d")
    if digest is not None and check_digest(digest) == state_digest(
        heads, last, outbox.mark(child, last)
    ):
        if crl <= theirs_crl and not offer:
            return _answer(b"", 204)
    cursor = request.args.get("c")
    mark = None if cursor is None else outbox.mark(child, parse_decimal(cursor, "c"))
    newer_crl = crl if crl > theirs_crl else 0
    return _answer(encode_state(StateAnswer(heads, last, mark, newer_crl, offer)))


@bp.get("/revocations")
def revocation_list() -> Response:
    """The revocation list we hold, as signed by the county root; empty when we hold
    none. A child fetches it when our state offers a newer version (§8.6)."""
    _authenticated()
    return _answer(held_revocations_raw(context.store().data_dir))


@bp.get("/schedules")
def schedule_bundle() -> Response:
    """The holiday schedules we hold, as the county root signed them (protocol/
    schedules.py); a child fetches them when our state offers a set it has not taken."""
    _authenticated()
    return _answer(encode_schedule_bundle(held_schedules_raw(context.store().data_dir)))


@bp.post("/envelopes")
def push_envelope() -> Response:
    """One envelope (§6) in; our signed acknowledgement (§8.4) out."""
    session, _ = _authenticated()
    body = request.get_data()
    ack = receive_envelope(context.store(), context.trust(), body, session.peer, context.now_ms())
    return _answer(ack)


@bp.get("/outbox")
def outbox_page() -> Response:
    """The caller's outbox after item ``after``, oldest first (protocol.outbox)."""
    session, _ = _authenticated()
    after = parse_decimal(request.args.get("after", "0"), "after")
    items = Outbox(context.store().db).page(str(session.peer), after, MAX_PAGE_ITEMS, MAX_PAGE)
    return _answer(encode_outbox_page(items))


@bp.post("/recovery")
def recovery_request() -> Response:
    """A child's request for its cards (SPEC.md §8.10): a relay keeps it to hand up, the
    county answers it into the client's outbox; 202 either way, the §11 error else."""
    session, _ = _authenticated()
    take_request(
        context.store(), context.trust(), request.get_data(), session.peer, context.now_ms()
    )
    return _answer(b"", 202)
