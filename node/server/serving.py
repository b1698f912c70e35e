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

import threading
from typing import Any

from flask import Flask
from waitress import create_server

from node.server import MAX_REQUEST_BYTES

THREADS = 8
CHANNEL_TIMEOUT_S = 120  # a slow village link may take this long to send 9 MiB


class NodeServer:
    """One node's sync server on ``host:port`` (0 picks a free port)."""

    def __init__(self, host: str, port: int, app: Flask) -> None:
        self._server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=THREADS,
            ident="renkou",
            max_request_body_size=MAX_REQUEST_BYTES,
            channel_timeout=CHANNEL_TIMEOUT_S,
            clear_untrusted_proxy_headers=True,
        )
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
        """Close the listener and every open connection; the serving loop then ends."""
        self._server.close()
        for channel in list(self._server._map.values()):  # waitress keeps no public list
            channel.close()
        self._server.task_dispatcher.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
