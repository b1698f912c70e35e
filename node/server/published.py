# SPDX-License-Identifier: Apache-2.0
"""Trust material the node publishes to anyone: ``/keys/v1`` (node/keys/published.py).

What is served here is signed by the county and verified by whoever fetches it, so the
address needs no session: a village reaches the county's revocation list even when its
own parent withholds it. Nothing personal and nothing secret is ever served here.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request

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


@bp.get("/certificates/<code>")
def certificate(code: str) -> Response:
    """The newest certificate the administrator published here for node ``code`` (a
    renewal or a rotation: node/keys/renewal.py); the node fetches its own."""
    from node.keys.renewal import published

    raw = published(Path(current_app.config["RENKOU_DATA_DIR"]), code)
    if not raw:
        raise NotFoundError(
            "本节点未发布该节点的新证书",
            f"no renewed certificate is published here for {code}",
            code="no_certificate",
        )
    return Response(raw, mimetype=OCTETS, headers={"Cache-Control": "no-cache"})


@bp.post("/rotations")
def rotation() -> Response:
    """A node's ``key_rotation`` (node/keys/rotation.py), kept for the administrator's
    ``renkou keys rotate`` once it verifies against the certificate it names, which
    must be valid here and not revoked. Only a county node takes them."""
    from node.identity import key_dir
    from node.keys.files import write_atomic
    from node.keys.reissue import ROTATIONS_DIR
    from node.server import context
    from protocol.ids import Role
    from protocol.rotation import MAX_ROTATION, decode_rotation

    store, trust, now = context.store(), context.trust(), context.now_ms()
    if store.node.role is not Role.COUNTY:
        raise NotFoundError(
            "只有县级节点接收密钥轮换请求",
            "only a county node takes key rotations",
            code="not_county",
        )
    rotation = decode_rotation(request.get_data(cache=False)[: MAX_ROTATION + 1])
    old = trust.check(trust.certificate(rotation.node, rotation.serial).raw, now)
    rotation.verify(old)
    directory = key_dir(store.data_dir) / ROTATIONS_DIR
    directory.mkdir(exist_ok=True)
    write_atomic(directory / f"{rotation.node.code}.signed", rotation.signed.raw)
    return Response('{"ok": true}', status=202, mimetype="application/json")
