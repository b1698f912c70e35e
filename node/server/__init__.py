# SPDX-License-Identifier: Apache-2.0
"""The node's HTTP side: the sync API and the operator pages.

``create_app(config)`` follows Flask's application-factory pattern: defaults, then the
caller's mapping, then each subsystem's ``init_app``, then the blueprints. The data dir
comes from the mapping or, failing that, from ``RENKOU_DATA_DIR`` in the environment, so
a WSGI server (gunicorn ``'node.server:create_app()'``) and the ``renkou`` commands read
the same setting from the same place; with neither, the app refuses to start instead of
failing every request later.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from node import pages
from node.errors import NodeError
from node.server import enrol, errors, published, sync_api

MAX_REQUEST_BYTES = 9 * 1024 * 1024


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES, JSON_SORT_KEYS=True)
    if config:
        app.config.from_mapping(config)
    if not app.config.get("RENKOU_DATA_DIR"):
        from_env = os.environ.get("RENKOU_DATA_DIR", "")
        if not from_env:
            raise NodeError(
                "未指定节点数据目录：请设置环境变量 RENKOU_DATA_DIR",
                "no node data directory: set RENKOU_DATA_DIR in the environment",
                code="no_data_dir",
            )
        app.config["RENKOU_DATA_DIR"] = from_env
    errors.init_app(app)
    sync_api.init_app(app)
    published.init_app(app)  # signed trust material for anyone (node/keys/published.py)
    enrol.init_app(app)  # enrolment by one-time code (node/keys/enrolment.py)
    pages.init_app(app)  # the operator pages (node/pages), beside the sync API
    return app
