# SPDX-License-Identifier: Apache-2.0
"""A small county on loopback for the sync tests: real stores, real HTTP servers.

``loopback_county(root, towns)`` enrols a county node, its towns (each serving on an
ephemeral port) and their villages. Pass ``clock=SimClock()`` to run the whole county
on simulated time (stores, servers and clients read it); ``County.restart(code)``
stops a town's server and starts a new app on the same data dir and port, as after a
crash or a reboot.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from node.admin import CountyAdmin
from node.identity import load_certificate
from node.server import create_app
from node.server.serving import NodeServer
from node.store.store import NodeStore
from node.sync import client as client_module
from node.sync.client import RoundReport, SyncClient, SyncFailed
from protocol import NodeId, Suite


@dataclass
class SimClock:
    """Simulated UTC milliseconds: starts at the real now and moves only when told."""

    now: int = field(default_factory=lambda: time.time_ns() // 1_000_000)

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def _server(host: str, port: int, app: Flask) -> NodeServer:
    """The production server on ``port``, again after a restart."""
    return NodeServer(host, port, app, listener=_listen(host, port))


def _listen(host: str, port: int) -> socket.socket:
    """Bind ``port`` again after a restart, waiting a little if an outgoing connection
    happens to hold it as its local port. The bind is retried on a bare socket: a
    server that fails to bind has already started its threads."""
    deadline = time.monotonic() + 5.0
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(128)
            return sock
        except OSError:
            sock.close()
            if port == 0 or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@dataclass
class Served:
    store: NodeStore
    url: str = ""
    server: NodeServer | None = None
    app: Flask | None = None

    def stop(self) -> None:
        """Close the listener and every open connection: a real stop (a crash), not a
        listener closed behind live handlers."""
        if self.server is not None:
            self.server.stop()
            self.server = None


@dataclass
class County:
    root: Path
    admin: CountyAdmin
    county: Served
    towns: dict[str, Served] = field(default_factory=dict)
    villages: dict[str, NodeStore] = field(default_factory=dict)
    clock: Callable[[], int] | None = None

    @property
    def sim_clock(self) -> SimClock:
        """The county's clock, when the test made it a SimClock (to advance it)."""
        assert isinstance(self.clock, SimClock)
        return self.clock

    def county_log(self, log: str) -> list[tuple[int, bytes]]:
        """(seq, entry hash) of each entry of ``log`` the county holds, in order."""
        rows = self.county.store.db.execute(
            "SELECT seq, entry_hash FROM received_entries WHERE log = ? ORDER BY seq", [log]
        )
        return [(int(seq), bytes(h)) for seq, h in rows]

    def client(self, code: str, **kwargs: Any) -> SyncClient:
        if self.clock is not None:
            kwargs.setdefault("now_ms", self.clock)
        if code in self.villages:
            store = self.villages[code]
            return SyncClient(store, self.towns[code[:9]].url, **kwargs)
        return SyncClient(self.towns[code].store, self.county.url, **kwargs)

    def round_or_refusal(self, code: str) -> RoundReport | None:
        """One round of ``code`` without back-off sleeps; None if it was refused (a
        refusal the officer reads in the status)."""
        try:
            return self.client(code, sleep=lambda _s: None).sync_round()
        except SyncFailed:
            return None

    def enrol_village(self, code: str) -> NodeStore:
        """A new village under its (serving) town, enrolled now: a first contact."""
        now = self.clock() if self.clock is not None else time.time_ns() // 1_000_000
        town = self.towns[code[:9]].store
        options: dict[str, Any] = {"suite": town.identity.suite}
        if self.clock is not None:
            options["clock"] = self.clock
        store = NodeStore.init(self.root / code, NodeId.for_code(code), f"村{code}", **options)
        cert = self.admin.certify(store.data_dir, now)
        parent, county = (
            load_certificate(s.data_dir, "node.cert") for s in (town, self.county.store)
        )
        assert parent is not None and county is not None
        self.admin.enrol(store.data_dir, cert, parent, county)
        self.villages[code] = store
        return store

    def served(self, code: str) -> Served:
        return self.county if code == self.county.store.node.code else self.towns[code]

    def restart(self, code: str, *, down: Callable[[], None] | None = None) -> Served:
        """Stop the server of ``code`` (a town or the county) and serve a new app on the
        same data dir and port; ``down`` runs while nothing listens."""
        old = self.served(code)
        port = int(old.url.rsplit(":", 1)[1])
        old.stop()
        if down is not None:
            down()
        new = serve(old.store, clock=self.clock, port=port)
        if code in self.towns:
            self.towns[code] = new
        else:
            self.county = new
        return new


def serve(store: NodeStore, *, clock: Callable[[], int] | None = None, port: int = 0) -> Served:
    config: dict[str, Any] = {"RENKOU_DATA_DIR": str(store.data_dir)}
    if clock is not None:
        config["RENKOU_NOW_MS"] = clock
    app = create_app(config)
    server = _server("127.0.0.1", port, app)
    server.start()
    return Served(store, server.url, server, app)


@contextmanager
def loopback_county(
    root: Path,
    towns: dict[str, list[str]],
    *,
    clock: Callable[[], int] | None = None,
    suite: Suite = Suite.HYBRID,
) -> Iterator[County]:
    """County 440104 with the given towns and villages, enrolled and serving; every
    key of ``suite`` (a county is all hybrid or all classical, SPEC.md §4)."""
    now = clock() if clock is not None else time.time_ns() // 1_000_000
    store_options: dict[str, Any] = {"clock": clock} if clock is not None else {}
    store_options["suite"] = suite
    admin = CountyAdmin.create(root / "admin", "440104", now, suite=suite)
    county_store = NodeStore.init(root / "440104", NodeId.for_code("440104"), "县", **store_options)
    county_cert = admin.certify(county_store.data_dir, now)
    admin.enrol(county_store.data_dir, county_cert, county_cert, county_cert)
    county = County(root, admin, serve(county_store, clock=clock), clock=clock)
    try:
        for town_code, village_codes in towns.items():
            t_store = NodeStore.init(
                root / town_code, NodeId.for_code(town_code), f"镇{town_code}", **store_options
            )
            t_cert = admin.certify(t_store.data_dir, now)
            admin.enrol(t_store.data_dir, t_cert, county_cert, county_cert)
            county.towns[town_code] = serve(t_store, clock=clock)
            for v_code in village_codes:
                v_store = NodeStore.init(
                    root / v_code, NodeId.for_code(v_code), f"村{v_code}", **store_options
                )
                v_cert = admin.certify(v_store.data_dir, now)
                admin.enrol(v_store.data_dir, v_cert, t_cert, county_cert)
                county.villages[v_code] = v_store
        yield county
    finally:
        for served in [county.county, *county.towns.values()]:
            served.stop()
            served.store.close()
        for store in county.villages.values():
            store.close()


def small_batch_county(
    tmp_path: Path, monkeypatch: Any, town: str, village: str
) -> Iterator[County]:
    """One township with one village on simulated time, pushing batches of at most 10
    entries (so a few writes make several batches): what the returned-copy tests
    (test_returned*.py) hand back and send again. For a fixture: ``yield from`` it."""
    monkeypatch.setattr(client_module, "MAX_BATCH_ENTRIES", 10)
    with loopback_county(tmp_path / "net", {town: [village]}, clock=SimClock()) as c:
        yield c
