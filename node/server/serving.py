# SPDX-License-Identifier: Apache-2.0
"""The HTTP server of ``renkou node serve`` and the demo: waitress, with keep-alive.

werkzeug's development server closes the connection after every response (it sends
``Connection: close`` on purpose), so each sync request paid a new TCP connection and,
behind nginx on a slow village link, a new TLS handshake; it also says of itself that
it is not for production. waitress is a production WSGI server in pure Python that runs
the same on a township's Windows PC as on Debian, keeps HTTP/1.1 connections open (the
client's ``requests.Session`` then carries a whole round on one connection) and bounds
request sizes itself. Townships that run gunicorn (deploy/) get the same behaviour.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from flask import Flask
from waitress import create_server

from node.server import MAX_REQUEST_BYTES
from node.server.context import close_kept_stores

THREADS = 8
WAITRESS_MAX_BODY = MAX_REQUEST_BYTES + (1 << 20)
"""waitress refuses bodies over this itself, in plain text; between MAX_REQUEST_BYTES and
this the app answers, with its JSON reason (``http_413``) a sync client can show."""
CHANNEL_TIMEOUT_S = 120  # a slow village link may take this long to send 9 MiB


class NodeServer:
    """One node's sync server on ``host:port`` (0 picks a free port)."""

    def __init__(
        self, host: str, port: int, app: Flask, *, listener: socket.socket | None = None
    ) -> None:
        """``listener``: a socket already bound to ``host:port`` and listening, to serve
        on instead of binding here (a caller that must retry a bind does it on a bare
        socket, not on a whole server with its threads)."""
        where: dict[str, Any] = (
            {"sockets": [listener]} if listener is not None else {"host": host, "port": port}
        )
        self._server: Any = create_server(
            app,
            **where,
            threads=THREADS,
            ident="renkou",
            max_request_body_size=WAITRESS_MAX_BODY,
            channel_timeout=CHANNEL_TIMEOUT_S,
            clear_untrusted_proxy_headers=True,
        )
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
            self._server.trigger.pull_trigger(self._close_sockets)
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
