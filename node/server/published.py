# SPDX-License-Identifier: Apache-2.0
"""Trust material the node publishes to anyone: ``/keys/v1`` (node/keys/published.py).

What is served here is signed by the county and verified by whoever fetches it, so the
address needs no session: a village reaches the county's revocation list even when its
own parent withholds it. Nothing personal and nothing secret is ever served here.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, current_app

from node.errors import NotFoundError
from node.sync.trust import held_revocations_raw

bp = Blueprint("published", __name__, url_prefix="/keys/v1")
OCTETS = "application/octet-stream"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/revocations")
def revocations() -> Response:
    """The revocation list this node holds, exactly as the county signed it."""
    raw = held_revocations_raw(Path(current_app.config["RENKOU_DATA_DIR"]))
    if not raw:
        raise NotFoundError(
            "本节点尚无吊销名单", "this node holds no revocation list", code="no_revocations"
        )
    return Response(raw, mimetype=OCTETS, headers={"Cache-Control": "no-cache"})
