# SPDX-License-Identifier: Apache-2.0
"""``POST /enrol/v1/request``: a new PC's enrolment request (SPEC.md §8.8 and §15).

At the county (its server started with ``RENKOU_ADMIN_DIR``, the directory of the
issuing key) the request is answered (node/keys/enrolment.py). Anywhere else the node
passes the request, unchanged, to its parent (``RENKOU_PARENT_URL``) and the answer
back: a village PC enrols through its township, which can neither read the code nor
change the request or the answer (both carry the code's MAC). The address needs no
session: the PC has no certificate yet, and the code is its credential.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import requests
from flask import Blueprint, Flask, Response, current_app, request

from node.errors import NotFoundError
from node.server.errors import error_body
from protocol.enrolment import MAX_ANSWER, MAX_REQUEST

bp = Blueprint("enrol", __name__, url_prefix="/enrol/v1")
OCTETS = "application/octet-stream"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _setting(name: str) -> str:
    return str(current_app.config.get(name) or os.environ.get(name, ""))


def _now_ms() -> int:
    clock = current_app.config.get("RENKOU_NOW_MS")
    return int(clock()) if callable(clock) else time.time_ns() // 1_000_000


@bp.post("/request")
def enrol_request() -> Response:
    if (request.content_length or 0) > MAX_REQUEST:
        return error_body(
            413, "too_large", "登记请求过大", f"an enrolment request is at most {MAX_REQUEST} bytes"
        )
    raw = request.get_data(cache=False)
    if len(raw) > MAX_REQUEST:
        return error_body(
            413, "too_large", "登记请求过大", f"an enrolment request is at most {MAX_REQUEST} bytes"
        )
    admin_dir = _setting("RENKOU_ADMIN_DIR")
    if admin_dir:
        from node.keys.enrolment import answer_request

        answer = answer_request(Path(admin_dir), raw, _now_ms())
        return Response(answer, mimetype=OCTETS)
    parent = _setting("RENKOU_PARENT_URL")
    if not parent:
        raise NotFoundError(
            "本节点不受理登记，也不知道上级地址；请直接连接县级地址",
            "this node neither answers enrolments nor knows its parent's address; "
            "enrol directly with the county's address",
            code="enrol_not_here",
        )
    return _relay(parent, raw)


def _relay(parent: str, raw: bytes) -> Response:
    """Pass the request up and the parent's answer (or refusal) back, bounded."""
    try:
        resp = requests.post(
            parent.rstrip("/") + "/enrol/v1/request",
            data=raw,
            timeout=60,
            headers={"Content-Type": OCTETS},
            stream=True,
        )
        body = resp.raw.read(MAX_ANSWER + 1, decode_content=True)
    except requests.RequestException as exc:
        return error_body(
            502,
            "parent_unreachable",
            "上级节点暂时无法连接，请稍后再试（邀请码未被使用）",
            f"the parent could not be reached ({type(exc).__name__}); try again later "
            "(the code is still unused)",
        )
    if len(body) > MAX_ANSWER:
        return error_body(
            502, "parent_answer_too_large", "上级的答复过大", "the parent's answer is too large"
        )
    mimetype = OCTETS if resp.status_code == 200 else "application/json"
    return Response(body, status=resp.status_code, mimetype=mimetype)
