# SPDX-License-Identifier: Apache-2.0
"""The exchange endpoint on the county node's server (SPEC.md §8.11).

``POST /exchange/v1/messages`` takes one message from a peer county: no session (the
message carries its sender's certificate and signature), the body bounded before it
is read, every refusal in the one error shape of node/server/errors.py with the
status of SPEC.md §11. ``GET /exchange/v1/certificate`` gives our county node's
certificate (public) so a peer can seal for our KEM key.

The county's server is the node's app with this blueprint added: node/ never imports
county_aggregator/, so the county is served by :func:`create_app` here (gunicorn
``'county_aggregator.exchange.server:create_app()'``), which builds the node's app and
registers the exchange beside its sync API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from county_aggregator.exchange.receive import receive
from county_aggregator.store_exchange import ExchangeStore
from node.calendar_store import node_calendar
from node.errors import NotFoundError
from node.identity import key_dir
from node.server import create_app as create_node_app
from node.server.context import now_ms, store, trust
from node.timeutil import shanghai_today
from protocol.errors import TooLargeError
from protocol.exchange import MAX_MESSAGE

bp = Blueprint("exchange", __name__, url_prefix="/exchange/v1")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The county node's app: the node's (sync API, pages) and the exchange."""
    app = create_node_app(config)
    app.register_blueprint(bp)
    return app


@bp.post("/messages")
def messages() -> tuple[Response, int]:
    """One notification or answer from a peer county, checked and kept (§8.11)."""
    length = request.content_length
    if length is not None and length > MAX_MESSAGE:
        raise TooLargeError(f"exchange message of {length} bytes exceeds {MAX_MESSAGE}")
    raw = request.stream.read(MAX_MESSAGE + 1)
    if len(raw) > MAX_MESSAGE:
        raise TooLargeError(f"exchange message exceeds {MAX_MESSAGE} bytes")
    held = store()
    now = now_ms()
    data_dir = Path(current_app.config["RENKOU_DATA_DIR"])
    kept = receive(
        raw, held.identity, trust(), ExchangeStore(held.db), node_calendar(data_dir), now,
        shanghai_today(datetime.fromtimestamp(now / 1000, UTC)),
    )  # fmt: skip
    body = {
        "ok": True,
        "type": kept.type,
        "id": kept.id,
        "stored": "new" if kept.new else "duplicate",
    }
    return jsonify(body), 202


@bp.get("/certificate")
def certificate() -> Response:
    """Our county node's certificate: public, checked by the peer through its chain."""
    path = key_dir(Path(current_app.config["RENKOU_DATA_DIR"])) / "node.cert"
    if not path.exists():
        raise NotFoundError("本节点尚未登记", "this node is not enrolled", code="not_enrolled")
    return Response(path.read_bytes(), mimetype="application/octet-stream")
