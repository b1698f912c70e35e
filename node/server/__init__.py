# SPDX-License-Identifier: Apache-2.0
"""The node's HTTP side: the sync API (and, later, the operator pages).

``create_app(config)`` follows Flask's application-factory pattern: defaults, then the
caller's mapping, then each subsystem's ``init_app``, then the blueprints.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from node.server import errors
from node.sync import server as sync_server

MAX_REQUEST_BYTES = 9 * 1024 * 1024


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES, JSON_SORT_KEYS=True)
    if config:
        app.config.from_mapping(config)
    errors.init_app(app)
    sync_server.init_app(app)
    return app
