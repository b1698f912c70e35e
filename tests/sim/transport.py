# SPDX-License-Identifier: Apache-2.0
"""The simulated network: a requests.Session stand-in that calls the nodes' Flask apps.

``SimNetwork`` routes ``http://<node code>.sim/...`` to the Flask test client of that
node's current app and injects faults drawn from one seeded ``random.Random``:

* ``drop_request``: the request never arrives (``requests.ConnectionError``);
* ``drop_response``: the server committed, the answer is lost (the dangerous case);
* ``duplicate``: the request is delivered twice, the caller sees the second answer;
* ``delay``: the simulated clock moves on before the request arrives;
* ``stale``: a copy of the request is kept and delivered again later, after other
  traffic (reordering and late duplicates on the wire);
* ``server_crash``: the server processes the request, then its process dies (answer
  lost, in-memory sessions gone, restarted from disk);
* ``client_crash``: the calling node's process dies just before or just after the
  exchange (:class:`SimCrash`; the world restarts it from disk);
* partitions: a node is unreachable (both ways) until a simulated time.

Nothing here sleeps or reads the wall clock: time is the world's ``SimTime``.
"""

from __future__ import annotations

import io
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask

from node.keys.renewal import CERTIFICATE_PATH


class SimCrash(Exception):
    """The calling node's process died in the middle of a request (not a link error)."""

    def __init__(self, node: str, after: bool) -> None:
        super().__init__(f"{node} crashed {'after' if after else 'before'} a request")
        self.node = node
        self.after = after


@dataclass
class SimTime:
    """True simulated UTC milliseconds; each node reads it through its own skew."""

    now: int

    def advance(self, ms: int) -> None:
        self.now += max(0, int(ms))


@dataclass
class Faults:
    """Per-request probabilities; ``off()`` gives a perfect network (the heal phase)."""

    drop_request: float = 0.0
    drop_response: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    max_delay_ms: int = 20_000
    stale: float = 0.0
    deliver_stale: float = 0.0
    server_crash: float = 0.0
    client_crash: float = 0.0

    @classmethod
    def off(cls) -> Faults:
        return cls()

    @classmethod
    def draw(cls, rng: random.Random, level: float = 1.0) -> Faults:
        """A fault mix for one run; ``level`` scales every probability."""
        return cls(
            drop_request=level * rng.choice([0.0, 0.02, 0.05, 0.1]),
            drop_response=level * rng.choice([0.0, 0.02, 0.05, 0.1]),
            duplicate=level * rng.choice([0.0, 0.03, 0.08]),
            delay=rng.choice([0.0, 0.1, 0.3]),
            max_delay_ms=rng.choice([2_000, 20_000]),
            stale=level * rng.choice([0.0, 0.03, 0.08]),
            deliver_stale=rng.choice([0.1, 0.3]),
            server_crash=level * rng.choice([0.0, 0.005, 0.02]),
            client_crash=level * rng.choice([0.0, 0.005, 0.02]),
        )


@dataclass
class SimResponse:
    """What SyncClient reads of a requests.Response."""

    status_code: int
    content: bytes
    headers: dict[str, str]
    url: str

    def json(self) -> Any:
        return json.loads(self.content)  # a ValueError (JSONDecodeError) if it is not JSON


@dataclass
class Wire:
    """One request as it travels: kept for stale redelivery."""

    caller: str
    target: str
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Armed:
    """A scripted one-shot fault: the next request of ``caller`` whose path ends with
    ``path`` (after ``skip`` such requests) suffers ``fault`` (a name as in Faults)."""

    caller: str
    path: str
    fault: str
    skip: int = 0


@dataclass
class SimNetwork:
    time: SimTime
    rng: random.Random
    faults: Faults = field(default_factory=Faults.off)
    apps: dict[str, Flask] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)  # node code -> cut off until
    stale: list[Wire] = field(default_factory=list)
    armed: list[Armed] = field(default_factory=list)
    note: Callable[[str], None] = print
    server_errors: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Called before each delivery (the world runs other nodes' steps in between) and
    # when a server process dies mid-request (the world restarts it from disk).
    interleave: Callable[[str], None] | None = None
    on_server_crash: Callable[[str], None] | None = None

    def session(self, caller: str) -> SimHTTP:
        return SimHTTP(self, caller)

    @staticmethod
    def url(code: str) -> str:
        return f"http://{code}.sim"

    def reachable(self, caller: str, target: str) -> bool:
        now = self.time.now
        return all(self.partitions.get(code, 0) <= now for code in (caller, target))

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _deliver(self, wire: Wire) -> SimResponse:
        out = _call_wsgi(self.apps[wire.target], wire)
        out.url = self.url(wire.target) + wire.path
        if out.status_code >= 500 and out.status_code != 503:
            self.server_errors.append(
                f"t={self.time.now} {wire.caller}->{wire.target} {wire.method} "
                f"{wire.path.split('?')[0]}: {out.status_code} {out.content[:200]!r}"
            )
        return out

    def request(
        self,
        caller: str,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> SimResponse:
        parts = urlsplit(url)
        target = parts.netloc.removesuffix(".sim")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.path.startswith(CERTIFICATE_PATH):
            # The hourly renewal check (node/keys/renewal.py) is not part of the model
            # (tests/node/keys covers renewal): it finds no server, draws nothing from
            # the fault generator, and every seed replays as before. It used to go to
            # the machine's name server for "<code>.sim", seconds a lookup at times.
            raise requests.ConnectionError(f"{target}: renewal is not simulated")
        wire = Wire(caller, target, method, path, bytes(data or b""), dict(headers or {}))
        if self.interleave is not None:
            self.interleave(caller)
        self._maybe_deliver_stale()
        f, rng = self.faults, self.rng
        short = path.split("?")[0].rsplit("/", 1)[-1]
        forced = self._armed(caller, path.split("?")[0])
        if not self.reachable(caller, target):
            self._count("partitioned")
            raise requests.ConnectionError(f"{target} unreachable (partition)")
        if rng.random() < f.client_crash or forced == "client_crash_before":
            self._count("client_crash_before")
            self.note(f"  (net) {caller} crashes before {method} {short}")
            raise SimCrash(caller, after=False)
        if rng.random() < f.drop_request or forced == "drop_request":
            self._count("drop_request")
            raise requests.ConnectionError(f"request to {target} lost")
        if rng.random() < f.delay:
            self._count("delay")
            self.time.advance(rng.randint(1, f.max_delay_ms))
        resp = self._deliver(wire)
        if rng.random() < f.duplicate or forced == "duplicate":
            self._count("duplicate")
            resp = self._deliver(wire)
        if rng.random() < f.stale:
            self._count("stale_kept")
            self.stale.append(wire)
        if rng.random() < f.server_crash or forced == "server_crash":
            self._count("server_crash")
            self.note(f"  (net) server {target} dies after {caller}'s {method} {short}")
            if self.on_server_crash is not None:
                self.on_server_crash(target)
            raise requests.ConnectionError(f"{target} died before answering")
        if rng.random() < f.drop_response or forced == "drop_response":
            self._count("drop_response")
            raise requests.ConnectionError(f"answer from {target} lost")
        if rng.random() < f.client_crash or forced == "client_crash_after":
            self._count("client_crash_after")
            self.note(f"  (net) {caller} crashes after {method} {short}")
            raise SimCrash(caller, after=True)
        self._count("delivered")
        return resp

    def _armed(self, caller: str, path: str) -> str | None:
        for armed in self.armed:
            if armed.caller == caller and path.endswith(armed.path):
                if armed.skip > 0:
                    armed.skip -= 1
                    return None
                self.armed.remove(armed)
                return armed.fault
        return None

    def _maybe_deliver_stale(self) -> None:
        if self.stale and self.rng.random() < self.faults.deliver_stale:
            wire = self.stale.pop(self.rng.randrange(len(self.stale)))
            if wire.target in self.apps and self.reachable(wire.caller, wire.target):
                self._count("stale_delivered")
                self._deliver(wire)  # its answer goes nowhere

    def flush_stale(self) -> None:
        """Deliver every copy still on the wire (before the heal phase ends)."""
        while self.stale:
            wire = self.stale.pop(0)
            if wire.target in self.apps:
                self._count("stale_delivered")
                self._deliver(wire)


def _call_wsgi(app: Flask, wire: Wire) -> SimResponse:
    """Call the app as a WSGI server would, with a minimal environ.

    Werkzeug's test client does the same with much more machinery (environ builder,
    cookie jar, response wrapper): a third of the time of an idle request here. Only
    what the sync API reads is set: method, path, query, body and the X-Rk-* headers.
    """
    path, _, query = wire.path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": wire.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": f"{wire.target}.sim",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": f"{wire.target}.sim",
        "CONTENT_TYPE": "application/octet-stream",
        "CONTENT_LENGTH": str(len(wire.body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(wire.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in wire.headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda _data: None

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = started
    return SimResponse(int(status.split(" ", 1)[0]), body, dict(headers), "")


class SimHTTP:
    """A requests.Session-compatible object bound to the calling node."""

    def __init__(self, network: SimNetwork, caller: str) -> None:
        self.network = network
        self.caller = caller

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        **_: Any,
    ) -> SimResponse:
        return self.network.request(self.caller, method, url, data, headers, timeout)

    def close(self) -> None:
        return None
