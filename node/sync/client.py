# SPDX-License-Identifier: Apache-2.0
"""The sync client: one round = compare state, push what the parent lacks, pull the outbox.

Built for bad links: every request is idempotent (a re-sent batch is a duplicate the
parent acknowledges again), progress is recorded only from the parent's signed
acknowledgement, so a dropped link costs at most the batch in flight, and retries back
off exponentially with jitter so a township's villages do not hammer it in step.
"""

from __future__ import annotations

import json
import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from node.store.store import NodeStore
from node.sync import holdings
from node.sync.server import frame, unframe
from node.sync.trust import Trust
from protocol import (
    Entry,
    Frontier,
    Head,
    LogId,
    NodeId,
    ProtocolError,
    SignatureError,
    address,
    decode_envelope,
    readdress,
    seal_batch,
    sign_batch,
)
from protocol.frontier import decode_ack
from protocol.session import check_mac, mac, make_hello, open_welcome

MAX_BATCH_ENTRIES = 2000
MAX_BATCH_BYTES = 1 << 20
ENVELOPE_TTL_MS = 7 * 86_400_000


class SyncFailed(Exception):
    """The parent refused something or could not be reached after every retry."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class RoundReport:
    idle: bool = False
    pushed_entries: int = 0
    forwarded_envelopes: int = 0
    pulled: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    requests: int = 0
    notes: list[str] = field(default_factory=list)


class SyncClient:
    def __init__(
        self,
        store: NodeStore,
        url: str,
        *,
        now_ms: Callable[[], int] | None = None,
        http: requests.Session | None = None,
        retries: int = 5,
        backoff_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.store = store
        self.url = url.rstrip("/")
        self.now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self.http = http or requests.Session()
        self.retries, self.backoff_s, self.sleep = retries, backoff_s, sleep
        self.rng = rng or random.Random()
        self.timeout_s = timeout_s
        self.trust = Trust.load(store.db, store.data_dir)
        self.parent = self.trust.own("parent.cert")
        self.county = self.trust.own("county.cert")
        self.own_cert = self.trust.own("node.cert")
        self.session: tuple[str, bytes] | None = None
        self.counter = 0
        self.introduced: set[tuple[str, int]] = set()
        self.report = RoundReport()

    # -- transport ---------------------------------------------------------------------

    def _send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> requests.Response | None:
        """One HTTP exchange; None when the link failed (the caller retries)."""
        try:
            resp = self.http.request(
                method, self.url + path, data=body, headers=headers, timeout=self.timeout_s
            )
        except requests.RequestException:
            return None
        self.report.requests += 1
        self.report.bytes_sent += len(body)
        self.report.bytes_received += len(resp.content)
        return resp

    def _backoff(self, attempt: int) -> None:
        """Exponential backoff with jitter, so a town's villages do not retry in step."""
        self.sleep(min(30.0, self.backoff_s * 2**attempt) * self.rng.uniform(0.5, 1.5))

    def _open_session(self) -> None:
        hello = make_hello(
            self.store.identity.signing, self.store.node, self.parent.node, self.now_ms()
        )
        resp = self._send("POST", "/sync/v1/session", frame(hello, self.own_cert.raw), {})
        if resp is None:
            raise SyncFailed("parent unreachable")
        if resp.status_code != 200:
            raise _failure(resp)
        welcome_raw, cert_raw = unframe(resp.content, 2)
        if cert_raw != self.parent.raw:
            raise SyncFailed("the parent answered with another certificate than enrolled")
        welcome = open_welcome(welcome_raw, hello, self.store.identity.kem, self.parent.verify_key)
        self.session, self.counter = (welcome.session_id, welcome.key), 0

    def call(self, method: str, path: str, body: bytes = b"") -> requests.Response:
        """An authenticated request, retried on lost links and 5xx with a fresh counter.

        Every request we send is idempotent at the parent, so resending after a lost
        answer is safe. A 401 means the parent forgot our session (it restarted): we
        open a new one and try again.
        """
        for attempt in range(self.retries + 1):
            try:
                if self.session is None:
                    self._open_session()
            except SyncFailed as exc:
                if exc.status is not None and exc.status < 500 or attempt == self.retries:
                    raise
                self._backoff(attempt)
                continue
            assert self.session is not None
            sid, key = self.session
            self.counter += 1
            headers = {
                "X-Rk-Session": sid,
                "X-Rk-Counter": str(self.counter),
                "X-Rk-Mac": mac(key, "req", method, path, self.counter, body),
            }
            resp = self._send(method, path, body, headers)
            if resp is None or resp.status_code >= 500 or resp.status_code == 401:
                if resp is not None and resp.status_code == 401:
                    self.session = None
                if attempt == self.retries:
                    raise _failure(resp) if resp is not None else SyncFailed("parent unreachable")
                self._backoff(attempt)
                continue
            if resp.status_code >= 400:
                raise _failure(resp)
            try:
                check_mac(
                    key,
                    resp.headers.get("X-Rk-Mac", ""),
                    "res",
                    method,
                    path,
                    self.counter,
                    resp.content,
                )
            except SignatureError:
                raise SyncFailed("the parent's answer failed authentication") from None
            return resp
        raise AssertionError("unreachable")

    # -- one round ---------------------------------------------------------------------

    def wanted(self) -> Frontier:
        """What the parent should hold after this round: our log, and a relay's children's."""
        log = self.store.changelog
        heads = holdings.frontier(self.store.db)
        heads.set(log.log, Head(log.head_seq, log.head_hash))
        return heads

    def cursor(self) -> int:
        row = self.store.db.execute(
            "SELECT n FROM inbox_cursor WHERE peer = ?", [str(self.parent.node)]
        ).fetchone()
        return int(row[0]) if row else 0

    def sync_round(self) -> RoundReport:
        self.report = RoundReport()
        digest = holdings.state_digest(self.wanted(), self.cursor())
        resp = self.call("GET", f"/sync/v1/state?d={digest}")
        if resp.status_code == 204:
            self.report.idle = True
            return self.report
        state = json.loads(resp.content)
        theirs = Frontier.from_json(state["heads"])
        self._push_own(theirs)
        self._forward(theirs)
        if int(state["outbox"]) > self.cursor():
            self._pull()
        return self.report

    def _push_own(self, theirs: Frontier) -> None:
        log = self.store.changelog
        have = theirs.get(log.log)
        start = (have.seq if have else 0) + 1
        while start <= log.head_seq:
            chunk = self._chunk(start)
            self._push_batch(chunk)
            start = chunk[-1].seq + 1

    def _chunk(self, start: int) -> list[Entry]:
        out, size = [], 0
        for entry in self.store.entries(start, start + MAX_BATCH_ENTRIES - 1):
            size += entry.payload_len
            if out and size > MAX_BATCH_BYTES:
                break
            out.append(entry)
        return out

    def _recipients(self) -> list:  # type: ignore[type-arg]
        keys = {c.kem_key.key_id: c.kem_key for c in (self.parent, self.county)}
        own = self.store.identity.kem.public_key
        keys[own.key_id] = own  # escrow: the node can restore its own log from upstream
        return list(keys.values())

    def _push_batch(self, chunk: list[Entry]) -> None:
        header, sig = sign_batch(chunk, self.store.identity.signing, self.own_cert.serial)
        sealed = seal_batch(chunk, header, sig, self._recipients())
        now = self.now_ms()
        raw = address(
            sealed,
            self.store.identity.signing,
            self.store.node,
            self.parent.node,
            now,
            now + ENVELOPE_TTL_MS,
        )
        ack_raw = self.call("POST", "/sync/v1/envelopes", raw).content
        self._record_ack(ack_raw, self.parent.node, header.log, header.last_seq, header.head_hash)
        self.report.pushed_entries += len(chunk)

    def _record_ack(self, ack_raw: bytes, by: NodeId, log: LogId, seq: int, head: bytes) -> None:
        signer = self.parent if by == self.parent.node else self.county
        ack = decode_ack(ack_raw, signer.verify_key)
        if ack.by != by or ack.log != log or ack.seq < seq or (ack.seq == seq and ack.head != head):
            raise SyncFailed(f"{by} acknowledged {ack.log} through {ack.seq}, not {log} {seq}")
        self.store.db.execute(
            "INSERT INTO peer_acks (peer, log, seq, head, raw, at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (peer, log) DO UPDATE SET seq = excluded.seq, head = excluded.head,"
            " raw = excluded.raw, at = excluded.at WHERE excluded.seq >= peer_acks.seq",
            [str(by), str(log), ack.seq, ack.head, ack_raw, self.now_ms()],
        )

    def _forward(self, theirs: Frontier) -> None:
        """A relay hands its children's envelopes up in order, each after the last is acked."""
        for message_id, log_text, _first, last, raw in list(
            holdings.pending_envelopes(self.store.db)
        ):
            log = LogId.parse(log_text)
            have = theirs.get(log)
            env = decode_envelope(raw)
            if have is None or have.seq < last:
                self._introduce(log.node, env.header.cert_serial)
                now = self.now_ms()
                up = readdress(
                    env,
                    self.store.identity.signing,
                    self.store.node,
                    self.parent.node,
                    now,
                    now + ENVELOPE_TTL_MS,
                )
                ack_raw = self.call("POST", "/sync/v1/envelopes", up).content
                self._record_ack(ack_raw, self.parent.node, log, last, env.header.head_hash)
                with self.store.db.atomic():
                    holdings.add_to_outbox(self.store.db, str(log.node), ack_raw)
                self.report.forwarded_envelopes += 1
            self.store.db.execute(
                "UPDATE inbound SET forwarded_at = ? WHERE message_id = ?",
                [self.now_ms(), message_id],
            )

    def _introduce(self, node: NodeId, serial: int) -> None:
        if (str(node), serial) in self.introduced:
            return
        cert = self.trust.certificate(node, serial)
        self.call("POST", "/sync/v1/certs", cert.raw)
        self.introduced.add((str(node), serial))

    def _pull(self) -> None:
        while True:
            body = self.call("GET", f"/sync/v1/outbox?after={self.cursor()}").content
            if not body:
                return
            pos = 0
            with self.store.db.atomic():
                while pos < len(body):
                    n, length = struct.unpack_from(">QI", body, pos)
                    raw = body[pos + 12 : pos + 12 + length]
                    pos += 12 + length
                    self._take(raw)
                    self.store.db.execute(
                        "INSERT INTO inbox_cursor (peer, n) VALUES (?, ?) ON CONFLICT (peer)"
                        " DO UPDATE SET n = excluded.n",
                        [str(self.parent.node), n],
                    )
                    self.report.pulled += 1

    def _take(self, raw: bytes) -> None:
        """An outbox item: today the county's acknowledgement of our log, relayed down."""
        try:
            ack = decode_ack(raw, self.county.verify_key)
        except ProtocolError as exc:
            self.report.notes.append(f"ignored an outbox item that does not verify: {exc.code}")
            return
        self.store.db.execute(
            "INSERT INTO peer_acks (peer, log, seq, head, raw, at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (peer, log) DO UPDATE SET seq = excluded.seq, head = excluded.head,"
            " raw = excluded.raw, at = excluded.at WHERE excluded.seq >= peer_acks.seq",
            [str(ack.by), str(ack.log), ack.seq, ack.head, raw, self.now_ms()],
        )


def _failure(resp: requests.Response) -> SyncFailed:
    try:
        body = resp.json()
        return SyncFailed(
            f"{body.get('code')}: {body.get('en')}",
            status=resp.status_code,
            code=str(body.get("code")),
        )
    except ValueError:
        return SyncFailed(f"HTTP {resp.status_code}", status=resp.status_code)
