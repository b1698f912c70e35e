# SPDX-License-Identifier: Apache-2.0
"""The HTTP link to the parent: the session, authenticated calls, retries (SPEC.md §15).

One small module for the transport, apart from what is sent over it (synapse's
TransportLayerClient vs FederationClient; httpx's ``_send_handling_auth`` ->
``_send_single_request``): push, relay, intake and acks call :meth:`ParentLink.call`
and never see a header or a MAC.

Built for bad links: every request we send is idempotent at the parent, so resending
after a lost answer is safe; retries back off exponentially with jitter so a
township's villages do not hammer it in step. Every answer we act on carries the
session MAC over our request's method, path, counter and its own body; a refusal
without a valid MAC is reported, never recorded as the parent's word.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import requests

from node.keys.renewal import keep_parent, newer_parent
from node.store.certs import PeerCerts
from node.store.store import NodeStore
from node.sync.failures import SessionFailed, SyncFailed
from node.sync.report import Traffic
from node.sync.trust import Trust
from protocol import (
    Certificate,
    ProtocolError,
    SessionRequest,
    SignatureError,
    check_mac,
    decode_session_answer,
    encode_session_request,
    mac,
    make_hello,
    open_welcome,
)

SESSION_PATH = "/sync/v1/session"
USER_AGENT = "renkou-sync/1"
HTTP = TypeVar("HTTP", bound=requests.Session)


def plain_session(kind: type[HTTP]) -> HTTP:
    """An HTTP session that sends only the headers the sync API reads (and a
    User-Agent): requests' own Accept, Accept-Encoding and Connection headers would add
    80 bytes to every request of a village's link, and HTTP/1.1 keeps the connection
    open without them."""
    session = kind()
    session.headers.clear()
    session.headers["User-Agent"] = USER_AGENT
    return session


class ParentLink:
    """An authenticated session with the parent at ``url``, opened on first use."""

    def __init__(
        self,
        store: NodeStore,
        url: str,
        parent: Certificate,
        own_cert: Certificate,
        *,
        now_ms: Callable[[], int],
        http: requests.Session | None = None,
        retries: int = 5,
        backoff_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.store = store
        self.url = url.rstrip("/")
        self.parent = parent
        self.own_cert = own_cert
        self.now_ms = now_ms
        self.http = http or plain_session(requests.Session)
        self.retries, self.backoff_s, self.sleep = retries, backoff_s, sleep
        self.rng = rng or random.Random()
        self.timeout_s = timeout_s
        self.session: tuple[str, bytes] | None = None
        self.counter = 0
        self.traffic = Traffic()

    def _send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> requests.Response | None:
        """One HTTP exchange; None when the link failed (the caller retries)."""
        try:
            resp = self.http.request(
                method,
                self.url + path,
                data=body,
                headers=headers,
                timeout=self.timeout_s,
            )
        except requests.RequestException:
            return None
        self.traffic.requests += 1
        self.traffic.bytes_sent += len(body)
        self.traffic.bytes_received += len(resp.content)
        return resp

    def _backoff(self, attempt: int) -> None:
        """Exponential backoff with jitter, so a town's villages do not retry in step."""
        self.sleep(min(30.0, self.backoff_s * 2**attempt) * self.rng.uniform(0.5, 1.5))

    def open_session(self) -> None:
        """The handshake (SPEC.md §8.5, §15.4): a signed hello, a signed welcome.

        Our certificate goes with the hello unless the parent is known to hold it
        (node/store/certs.py PeerCerts: it kept it at an earlier handshake); a parent
        that lost it (restored from a backup) answers ``unknown_certificate`` and we send
        it at once. We name the serial of the parent certificate we were enrolled with
        (``have``), so the parent sends its own only if it holds another.

        Raises:
            SessionFailed: unreachable, refused, or a welcome that does not verify with
                the parent certificate we hold, or with a newer one the answer carries
                that chains to our root (it is then kept as parent.cert).
        """
        known = self._parent_holds_ours()
        try:
            self._handshake(with_certificate=not known)
        except SessionFailed as exc:
            if not known or exc.code != "unknown_certificate":
                raise
            self._note_parent_holds_ours(False)
            self._handshake(with_certificate=True)
        if not known:
            self._note_parent_holds_ours(True)

    def _handshake(self, *, with_certificate: bool) -> None:
        store = self.store
        hello = make_hello(store.identity.signing, store.node, self.parent.node, self.now_ms())
        cert = self.own_cert.raw if with_certificate else None
        request = encode_session_request(SessionRequest(hello, cert))
        resp = self._send("POST", f"{SESSION_PATH}?have={self.parent.serial}", request, {})
        if resp is None:
            raise SessionFailed("parent unreachable")
        if resp.status_code != 200:
            raise failure_of(resp, SessionFailed)
        try:
            answer = decode_session_answer(resp.content)
            parent = self.parent
            if answer.certificate is not None:  # renewed or rotated: node/keys/renewal.py
                trust = Trust.load(store.db, store.data_dir)
                parent = newer_parent(trust, parent, answer.certificate, self.now_ms())
            welcome = open_welcome(answer.welcome, hello, store.identity.kem, parent.verify_key)
        except ProtocolError as exc:
            raise SessionFailed(
                f"the parent's welcome is not valid: {exc}", code=str(exc.code)
            ) from None
        if parent is not self.parent:  # its welcome verified with it: keep it
            keep_parent(store.data_dir, parent)
            self.parent = parent
        self.session, self.counter = (welcome.session_id, welcome.key), 0

    def _parent_holds_ours(self) -> bool:
        own = self.own_cert
        return PeerCerts(self.store.db).holds(str(self.parent.node), str(own.node), own.serial)

    def _note_parent_holds_ours(self, holds: bool) -> None:
        own, peers = self.own_cert, PeerCerts(self.store.db)
        peer = str(self.parent.node)
        with self.store.db.atomic():
            if holds:
                peers.note(peer, str(own.node), own.serial, self.now_ms())
            else:
                peers.forget(peer, str(own.node), own.serial)

    def call(self, method: str, path: str, body: bytes = b"") -> requests.Response:
        """An authenticated request, retried on lost links and 5xx with a fresh counter.

        A 401 ``no_session`` means the parent forgot our session (it restarted): we
        open a new one and resend at once. A 401 ``replay`` is the answer to a second
        delivery of a request (or hello) the link duplicated: the first one was handled,
        its answer is lost, so we resend with a fresh counter (or hello). That answer
        carries no MAC, so a forger could send it too; all it gains is a resend of an
        idempotent request, at most ``retries`` times.

        Raises:
            SyncFailed: a 4xx (``authenticated`` when its MAC verified), a 2xx whose MAC
                does not verify, or no answer after every retry.
        """
        for attempt in range(self.retries + 1):
            try:
                if self.session is None:
                    self.open_session()
            except SyncFailed as exc:
                replayed = exc.code == "replay"
                if (0 < exc.status < 500 and not replayed) or (attempt == self.retries):
                    raise
                if not replayed:
                    self._backoff(attempt)
                continue
            assert self.session is not None
            sid, key = self.session
            self.counter += 1
            counter = self.counter
            headers = {
                "X-Rk-Session": sid,
                "X-Rk-Counter": str(counter),
                "X-Rk-Mac": mac(key, "req", method, path, counter, body),
            }
            resp = self._send(method, path, body, headers)
            code = _code(resp) if resp is not None else ""
            lost, replayed = code == "no_session", code == "replay"
            if resp is None or resp.status_code >= 500 or lost or replayed:
                if lost:
                    self.session = None
                if attempt == self.retries:
                    raise failure_of(resp) if resp is not None else SyncFailed("parent unreachable")
                if not (lost or replayed):
                    self._backoff(attempt)
                continue
            authentic = _authentic(resp, key, method, path, counter)
            if resp.status_code >= 400:
                failure = failure_of(resp)
                failure.authenticated = authentic
                raise failure
            if not authentic:
                raise SyncFailed("the parent's answer failed authentication")
            return resp
        raise AssertionError("unreachable")


def _code(resp: requests.Response) -> str:
    if resp.status_code < 400:
        return ""
    try:
        body = resp.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def _authentic(resp: requests.Response, key: bytes, method: str, path: str, n: int) -> bool:
    """Does the answer carry the MAC of our request ``n`` over its own body?"""
    try:
        check_mac(key, resp.headers.get("X-Rk-Mac", ""), "res", method, path, n, resp.content)
    except SignatureError:
        return False
    return True


def failure_of(resp: requests.Response, kind: type[SyncFailed] = SyncFailed) -> SyncFailed:
    """The parent's JSON error body as a SyncFailed (``authenticated`` not yet known)."""
    try:
        body = resp.json()
        if not isinstance(body, dict):
            raise ValueError("not an object")
        given = body.get("code")
        code = given if isinstance(given, str) else ""
        return kind(f"{code}: {body.get('en')}", status=resp.status_code, code=code, detail=body)
    except ValueError:
        return kind(f"HTTP {resp.status_code}", status=resp.status_code)
