# SPDX-License-Identifier: Apache-2.0
"""Issue 13, fact 6: idle half-open connections and a handshake flood do not lock the
villages out of `renkou node serve` (the real waitress server, on loopback).

Before, waitress's connection limit was 100 and its only timeout one of silence
(120 s): 99 connections that sent half a request line each held every place, and the
villages' connections waited in the listen queue until their clients gave up.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from node.server.serving import Limits, NodeServer
from node.store.nonces import HelloNonces
from node.sync.client import SyncFailed
from tests.node.sync.faults import no_sleep, write
from tests.node.sync.network import County, loopback_county

T = "440104001"
FLOODER = "440104001002"
OTHERS = ["440104001003", "440104001004", "440104001005"]
N_IDLE = 150
"""Half-requests held open: half again over waitress's old limit of 100."""
HALF_REQUEST = b"POST /sync/v1/session HTTP/1.1\r\nHost: town\r\nContent-Len"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [FLOODER, *OTHERS]}) as c:
        yield c


def serve_town_with(county: County, limits: Limits) -> None:
    """The township's app on a server with ``limits`` (its own port)."""
    served = county.towns[T]
    assert served.server is not None and served.app is not None
    served.server.stop()
    served.server = NodeServer("127.0.0.1", 0, served.app, limits=limits)
    served.server.start()
    served.url = served.server.url


def address(county: County) -> tuple[str, int]:
    host, port = county.towns[T].url.split("//", 1)[1].split(":")
    return host, int(port)


@contextmanager
def half_requests(county: County, n: int) -> Iterator[list[socket.socket]]:
    """``n`` connections, each having sent the start of a request and nothing more."""
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.create_connection(address(county), timeout=5)
            s.sendall(HALF_REQUEST)
            socks.append(s)
        yield socks
    finally:
        for s in socks:
            s.close()


def closed_by_server(sock: socket.socket, within_s: float = 30.0) -> bool:
    """Did the server close ``sock`` (EOF or reset) before ``within_s`` passed?

    Bytes still arriving (the rest of an answer sent in two writes, as a loaded
    server does) are read past: only the end of the stream counts as closed."""
    deadline = time.monotonic() + within_s
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return False
        try:
            if sock.recv(65536) == b"":
                return True
        except ConnectionError:
            return True
    return False


class HandshakeFlood:
    """One village PC opening sessions in a loop, as fast as the server answers."""

    def __init__(self, county: County) -> None:
        self.client = county.client(FLOODER, sleep=no_sleep)
        self.done = threading.Event()
        self.opened = 0
        self.refused: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.is_set():
            try:
                self.client.link.open_session()
                self.opened += 1
            except SyncFailed as exc:
                self.refused.append(exc.code)

    def __enter__(self) -> HandshakeFlood:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=60)


def test_idle_half_requests_and_a_handshake_flood_leave_every_village_syncing(
    county: County,
) -> None:
    """N_IDLE connections each holding half a request line, and one village PC opening
    sessions in a loop meanwhile: every other village of the township writes and
    syncs through the township to the county, on the server as `renkou node serve`
    runs it. Then the header timeout (10 s) closes the half-requests."""
    town = county.towns[T].store
    with half_requests(county, N_IDLE) as idle, HandshakeFlood(county) as flood:
        for code in OTHERS:
            write(county.villages[code], 3)
            # A village that gives up after one retry (30 s each): before, it waited
            # in the listen queue until waitress's 120 s silence timeout.
            report = county.client(code, sleep=no_sleep, retries=1).sync_round()
            assert report.pushed_entries == 4, code  # the 3 records and the log's start
        while flood.opened < 20 and flood.thread.is_alive():
            time.sleep(0.05)  # the flood ran alongside the villages' rounds
        assert all(closed_by_server(s) for s in idle)
    assert flood.opened >= 20 and flood.refused == []
    county.client(T, sleep=no_sleep).sync_round()
    county_store = county.county.store
    for code in OTHERS:
        log = str(county.villages[code].changelog.log)
        held = county_store.db.execute(
            "SELECT COUNT(*) FROM received_entries WHERE log = ?", [log]
        ).fetchone()[0]
        assert held == 4, code
    assert HelloNonces(town.db).held() >= 20  # every handshake took its nonce


def test_over_the_connection_limit_the_header_timeout_frees_places(county: County) -> None:
    """Twice as many half-requests as the server has places: the villages' connections
    wait in the listen queue, and get served as the header timeout closes the
    half-requests ahead of them (a bigger limit alone would not help: an attacker
    opens more)."""
    serve_town_with(county, Limits(connection_limit=20, header_timeout=1, cleanup_interval=1))
    with half_requests(county, 40):
        for code in OTHERS:
            write(county.villages[code], 2)
            assert county.client(code, sleep=no_sleep).sync_round().pushed_entries == 3


def test_a_trickled_header_and_an_idle_connection_are_closed_a_slow_body_is_not(
    county: County,
) -> None:
    """The header timeout counts from a request's first byte, however slowly the rest
    trickles in; an idle kept-alive connection is closed after the idle timeout; a
    body arriving slowly (silences shorter than the body timeout) is served."""
    serve_town_with(
        county, Limits(header_timeout=1, idle_timeout=1, body_timeout=90, cleanup_interval=1)
    )
    trickle = socket.create_connection(address(county), timeout=5)
    kept = socket.create_connection(address(county), timeout=5)
    slow = socket.create_connection(address(county), timeout=5)
    try:
        kept.sendall(b"GET /sync/v1/state HTTP/1.1\r\nHost: town\r\n\r\n")
        assert kept.recv(65536).startswith(b"HTTP/1.1 401")  # answered, then kept alive
        slow.sendall(b"POST /sync/v1/envelopes HTTP/1.1\r\nHost: town\r\nContent-Length: 8\r\n\r\n")
        slow.sendall(b"1234")
        trickled = True
        for byte in b"GET /sync/v1/state HTTP/1.1\r\nHost: town\r\nX-Slow: " + b"a" * 200:
            try:
                trickle.send(bytes([byte]))
            except OSError:
                break
            ready, _, _ = select.select([trickle], [], [], 0.1)
            if ready:
                break
        else:
            trickled = False  # 20 s of trickling and still open: no header timeout
        assert trickled and closed_by_server(trickle)
        assert closed_by_server(kept)
        slow.sendall(b"5678")
        assert slow.recv(65536).startswith(b"HTTP/1.1 401")  # no session: but served
    finally:
        for s in (trickle, kept, slow):
            s.close()
