# SPDX-License-Identifier: Apache-2.0
"""The key that signs the pages' session cookie, kept in the node's keys/ directory.

Each node has its own random key, made the first time a page is asked for, written with
owner-only permissions beside the node's other keys, and read by every worker process
(gunicorn runs several), so a cookie signed by one is good in all. It signs only the
cookie that carries the session token and the CSRF token; the session itself lives in
the node's database and ends at sign-out whatever the cookie says.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from node.identity import key_dir

SECRET_FILE = "pages-session.key"
_lock = threading.Lock()


def load_or_create_secret(data_dir: Path) -> str | None:
    """The node's cookie key; None while the node has no keys/ directory (not set up)."""
    directory = key_dir(data_dir)
    if not directory.is_dir():
        return None
    path = directory / SECRET_FILE
    with _lock:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
    return path.read_text(encoding="ascii").strip()


class NodeSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the key read from the node when first needed."""

    def get_signing_serializer(self, app: Flask) -> Any:
        if not app.secret_key:
            app.secret_key = load_or_create_secret(Path(app.config["RENKOU_DATA_DIR"]))
        return super().get_signing_serializer(app)
