# SPDX-License-Identifier: Apache-2.0
"""Fault injection for the sync tests: a lossy TCP proxy, a hooked HTTP session, probes.

``FlakyProxy`` sits between a client and a real server on loopback and, when armed,
cuts the next matching request after N bytes (the server sees a short body) or lets
it through and drops the connection before the answer (the server committed, the
client never hears it). ``Hooked`` is a requests.Session that calls back around each
request, to restart a server or interrupt a client at an exact point of a round.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from node.identity import key_dir
from node.store.database import DB_NAME, connect
from node.store.store import NodeStore
from node.sync.client import SyncClient
from protocol import SessionRequest, encode_session_request, mac, make_hello

TABLES = ("inbound", "received_entries", "frontier", "certs", "quarantine", "alerts", "outbox")


def write(store: NodeStore, n: int, *, tag: str = "") -> None:
    """``n`` changes, each its own entry (one transaction for speed)."""
    with store.bulk():
        for i in range(n):
            rid = store.new_id("person")
            store.write([store.upsert_op("person", rid, {"name": f"人{tag}{i}", "n": i})])


def snapshot(store: NodeStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a refused request must not touch."""
    return {t: sorted(store.db.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}


def copy_node(store: NodeStore, dest: Path) -> Path:
    """A backup of a node's data dir as an administrator makes one: keys and database
    (as SQLite copies it, safe while the node runs)."""
    dest.mkdir(parents=True)
    shutil.copytree(key_dir(store.data_dir), key_dir(dest))
    target = connect(dest / DB_NAME, store.identity.db_key)  # encrypted, as node.db
    store.db.conn.backup(target)
    target.close()
    return dest


def count(store: NodeStore, table: str, where: str = "1", args: list[Any] | None = None) -> int:
    sql = f"SELECT COUNT(*) FROM {table} WHERE {where}"
    return int(store.db.execute(sql, args or []).fetchone()[0])


def hello_request(store: NodeStore, parent: Any, at: int, cert_raw: bytes | None = None) -> bytes:
    """The framed handshake body ``store``'s node sends to ``parent`` (a NodeId)."""
    from node.identity import load_certificate

    hello = make_hello(store.identity.signing, store.node, parent, at)
    cert = cert_raw if cert_raw is not None else load_certificate(store.data_dir, "node.cert").raw
    return encode_session_request(SessionRequest(hello, cert))


def authed_headers(
    client: SyncClient, method: str, path: str, body: bytes, counter: int | None = None
) -> dict[str, str]:
    """Session headers as ``client`` would send them (``counter`` to replay an old one)."""
    assert client.link.session is not None
    sid, key = client.link.session
    if counter is None:
        client.link.counter += 1
        counter = client.link.counter
    return {
        "X-Rk-Session": sid,
        "X-Rk-Counter": str(counter),
        "X-Rk-Mac": mac(key, "req", method, path, counter, body),
    }


def no_sleep(_seconds: float) -> None:
    return None


class Hooked(requests.Session):
    """A requests.Session that calls ``before(method, url, n)`` and ``after(resp, n)``."""

    def __init__(
        self,
        before: Callable[[str, str, int], None] | None = None,
        after: Callable[[requests.Response, int], None] | None = None,
    ) -> None:
        super().__init__()
        self.before, self.after, self.n = before, after, 0
        self.seen: list[tuple[str, str, int]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.n += 1
        if self.before is not None:
            self.before(method, url, self.n)
        resp = super().request(method, url, *args, **kwargs)
        self.seen.append((method, url.split("/sync/v1", 1)[-1], resp.status_code))
        if self.after is not None:
            self.after(resp, self.n)
        return resp


@dataclass
class Fault:
    """Armed on the next request whose first bytes contain ``match``."""

    match: bytes
    cut_after: int | None = None  # forward this many bytes of the request, then cut
    drop_answer: bool = False  # forward the whole request, drop the link before the answer


class FlakyProxy:
    """A TCP proxy on loopback that injects the armed faults, one per matching request."""

    def __init__(self, target_url: str) -> None:
        host_port = target_url.split("//", 1)[1]
        self.target = (host_port.split(":")[0], int(host_port.split(":")[1]))
        self.faults: list[Fault] = []
        self.fired: list[Fault] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.closing = False
        self.conns: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def close(self) -> None:
        self.closing = True
        self.listener.close()
        for s in list(self.conns):
            _kill(s)

    def _take(self, data: bytes) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.match in data[:200]:
                    self.faults.remove(fault)
                    self.fired.append(fault)
                    return fault
        return None

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns |= {client, upstream}
            state: dict[str, bool] = {"drop_answer": False}
            threading.Thread(target=self._up, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client, state), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket, state: dict[str, bool]) -> None:
        budget: int | None = None
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                if budget is None:
                    fault = self._take(data)
                    if fault is not None and fault.cut_after is not None:
                        budget = fault.cut_after
                    elif fault is not None and fault.drop_answer:
                        state["drop_answer"] = True
                if budget is not None:
                    upstream.sendall(data[:budget])
                    budget -= min(budget, len(data))
                    if budget == 0:
                        break
                    continue
                upstream.sendall(data)
        except OSError:
            pass
        _kill(client)
        _kill(upstream)

    def _down(self, upstream: socket.socket, client: socket.socket, state: dict[str, bool]) -> None:
        try:
            while True:
                data = upstream.recv(65536)
                if not data or state["drop_answer"]:
                    break
                client.sendall(data)
        except OSError:
            pass
        _kill(client)
        _kill(upstream)


def _kill(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


# -- hand-made envelopes ---------------------------------------------------------------

ENVELOPE_HEAD = 4 + 1 + 16 + 14 + 14 + 8 + 8  # magic .. expires: where the sealed part starts


def sealed_batch(client: SyncClient, first: int, last: int) -> tuple[bytes, Any]:
    """The sealed part of ``client``'s own entries first..last, and their batch header."""
    from protocol import seal_batch, sign_batch
    from protocol.batches import MAX_LIFETIME_MS

    entries = list(client.store.entries(first, last))
    now = client.now_ms()
    header, sig = sign_batch(
        entries,
        client.store.identity.signing,
        client.link.own_cert.serial,
        sent_ms=now,
        expires_ms=now + MAX_LIFETIME_MS,
    )
    return seal_batch(entries, header, sig, recipients(client)), header


def recipients(client: SyncClient) -> list[Any]:
    """Whom ``client`` seals its batches for: its parent, the county, its own escrow key."""
    keys = [client.link.parent.kem_key, client.round.county.kem_key]
    keys.append(client.store.identity.kem.public_key)
    return list({k.key_id: k for k in keys}.values())


def address_as(
    client: SyncClient,
    sealed: bytes,
    *,
    to: Any = None,
    sent: int | None = None,
    expires: int | None = None,
) -> bytes:
    """Sign ``sealed`` as a hop from ``client``'s node (to its parent unless ``to``)."""
    from protocol import address

    now = client.now_ms()
    sent = now if sent is None else sent
    expires = sent + 3_600_000 if expires is None else expires
    node = client.store.node
    return address(
        sealed, client.store.identity.signing, node, to or client.link.parent.node, sent, expires
    )


def envelope(client: SyncClient, first: int, last: int, **kwargs: Any) -> bytes:
    return address_as(client, sealed_batch(client, first, last)[0], **kwargs)


def flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


def hop_tail(raw: bytes) -> int:
    """Bytes after the ciphertext: hop key id, signature length and signature."""
    from protocol import decode_envelope

    return 8 + 2 + len(decode_envelope(raw).hop_sig)
