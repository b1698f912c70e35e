# SPDX-License-Identifier: Apache-2.0
"""The HTTP server of ``renkou node serve`` and the demo: waitress, with keep-alive.

werkzeug's development server closes the connection after every response (it sends
``Connection: close`` on purpose), so each sync request paid a new TCP connection and,
behind nginx on a slow village link, a new TLS handshake; it also says of itself that
it is not for production. waitress is a production WSGI server in pure Python that runs
the same on a township's Windows PC as on Debian, keeps HTTP/1.1 connections open (the
client's ``requests.Session`` then carries a whole round on one connection) and bounds
request sizes itself. Townships that run gunicorn (deploy/) get the same behaviour.

A connection is a scarce place (issue 13, fact 6: 99 idle half-open connections used to
lock every village out, waitress's limit being 100 and its only timeout one of silence).
So the server bounds how long a connection may hold one without moving a request on
(:class:`Limits`): its request line and headers must arrive within a short
``header_timeout`` of its first byte, however slowly they trickle; a kept-alive
connection with no request in progress closes after ``idle_timeout``; only in the middle
of a body does a slow link get ``body_timeout`` of silence (a village on 256 kbit/s
sends 9 MiB in about 5 minutes, moving all the while). The connection limit is set far
above what a township's villages open, and poll() replaces select() so that it is not
bounded by select's 1024 descriptors. Per-address limits are nginx's (deploy/nginx/):
villages behind one carrier NAT share an address, which only the operator can judge.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

from node.server import MAX_REQUEST_BYTES
from node.server.context import close_kept_stores

THREADS = 8
WAITRESS_MAX_BODY = MAX_REQUEST_BYTES + (1 << 20)
"""waitress refuses bodies over this itself, in plain text; between MAX_REQUEST_BYTES and
this the app answers, with its JSON reason (``http_413``) a sync client can show."""


@dataclass(frozen=True)
class Limits:
    """How long a connection may hold a place without moving a request on (seconds),
    and how many places there are."""

    header_timeout: int = 10
    """From a request's first byte to the end of its headers (a few hundred bytes)."""
    idle_timeout: int = 30
    """A kept-alive connection with no request in progress (a client's next request
    in the same round follows within milliseconds)."""
    body_timeout: int = 120
    """Silence in the middle of a request body, or while we write an answer."""
    connection_limit: int = 500
    cleanup_interval: int = 2
    """How often the timeouts are checked: a timeout is enforced this much late."""


class _Channel(HTTPChannel):
    """waitress's connection, which also notes when the request in progress began."""

    request_started = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.time()
        return bool(super().received(data))


class _Server(TcpWSGIServer):
    """waitress's TCP server with the header and idle timeouts of :class:`Limits`."""

    channel_class = _Channel
    limits = Limits()

    def maintenance(self, now: float) -> None:
        """waitress closes connections silent for ``channel_timeout`` (body_timeout);
        this also closes those whose headers are late or that sit idle."""
        super().maintenance(now)
        for channel in list(self.active_channels.values()):
            if channel.requests or channel.total_outbufs_len:
                continue  # a request being served or its answer being written: not theirs
            pending = channel.request
            if pending is None:
                late = channel.last_activity < now - self.limits.idle_timeout
            else:
                late = not pending.headers_finished and (
                    channel.request_started < now - self.limits.header_timeout
                )
            if late:
                channel.will_close = True


class NodeServer:
    """One node's sync server on ``host:port`` (0 picks a free port)."""

    def __init__(
        self,
        host: str,
        port: int,
        app: Flask,
        *,
        listener: socket.socket | None = None,
        limits: Limits = Limits(),
    ) -> None:
        """``listener``: a socket already bound to ``host:port`` and listening, to serve
        on instead of binding here (a caller that must retry a bind does it on a bare
        socket, not on a whole server with its threads)."""
        adj = Adjustments(
            host=host,
            port=port,
            threads=THREADS,
            ident="renkou",
            max_request_body_size=WAITRESS_MAX_BODY,
            channel_timeout=limits.body_timeout,
            connection_limit=limits.connection_limit,
            cleanup_interval=limits.cleanup_interval,
            asyncore_use_poll=True,
            clear_untrusted_proxy_headers=True,
        )
        where: dict[str, Any] = {"adj": adj}
        if listener is not None:
            info = (listener.family, listener.type, listener.proto, listener.getsockname())
            where.update(_sock=listener, bind_socket=False, sockinfo=info)
        self._server: Any = _Server(app, **where)
        self._server.limits = limits
        self.app = app
        self.host = host
        self.port: int = self._server.effective_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` (or the process ends)."""
        self._server.run()

    def start(self) -> None:
        """Serve in a daemon thread, so a demo or a test goes on meanwhile."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listener and every open connection; the serving loop then ends.

        waitress's loop owns its sockets: closing them from another thread while it
        waits in ``select`` makes the loop fail on a closed descriptor. So a server
        serving in its thread is closed from inside its loop (waitress's trigger runs
        a function there), and this waits for the loop to end.
        """
        thread = self._thread
        if thread is not None and thread.is_alive():
            try:
                self._server.trigger.pull_trigger(self._close_sockets)
            except OSError:
                pass  # the loop already closed its trigger on its way out: nothing to wake
            thread.join(timeout=5)
        else:
            self._close_sockets()
        self._server.task_dispatcher.shutdown()
        close_kept_stores(self.app)

    def _close_sockets(self) -> None:
        for channel in list(self._server._map.values()):  # waitress keeps no public list
            if channel is not self._server and channel is not self._server.trigger:
                # handle_close, not close: it also marks the channel disconnected and
                # wakes a task thread waiting to write to it.
                channel.handle_close()
        self._server.close()  # the listener and the trigger: the loop's map is now empty
