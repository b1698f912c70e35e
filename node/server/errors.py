# SPDX-License-Identifier: Apache-2.0
"""One error shape for every endpoint: ``{"ok": false, "code", "status", "zh", "en"}``.

Protocol errors become 4xx with their stable code and a Chinese sentence saying what to
do; node errors keep their status; anything unexpected is a 500 whose body names no
internals (the log keeps the traceback, and never personal data, because no request
body is logged). A gap also says what the server holds (``have``) and where the refused
batch started (``first``), so the sender can re-read the state and resend from there.
"""

from __future__ import annotations

import logging
from typing import cast

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from node.errors import NodeError, protocol_message
from protocol import ErrorCode, GapError, ProtocolError, QuarantineError

log = logging.getLogger(__name__)

PAGE_ERROR = "renkou_page_error"
"""``app.extensions`` key of the pages' answer to an address that matches no route."""
API = ("/sync/", "/exchange/")
"""Machine APIs: the sync API and the county exchange (county_aggregator/exchange)."""

PROTOCOL_STATUS = {
    ErrorCode.BAD_SIGNATURE: 401,
    ErrorCode.BAD_CERTIFICATE: 403,
    ErrorCode.EXPIRED: 401,
    ErrorCode.REVOKED: 403,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.GAP: 409,
    ErrorCode.FORK: 409,
    ErrorCode.BAD_CHAIN: 409,
    ErrorCode.NO_RECIPIENT: 421,
    ErrorCode.BAD_RECIPIENTS: 422,
    ErrorCode.EXPIRY_EXTENDED: 403,
    ErrorCode.UNKNOWN_CERTIFICATE: 403,
    ErrorCode.CLOCK_DRIFT: 422,
    ErrorCode.UNKNOWN_RULESET: 422,
    ErrorCode.QUARANTINED: 422,
}


def error_body(status: int, code: str, zh: str, en: str, **extra: object) -> Response:
    response = jsonify({"ok": False, "status": status, "code": code, "zh": zh, "en": en, **extra})
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(ProtocolError)
    def protocol_error(exc: ProtocolError) -> Response:
        status = 422 if isinstance(exc, QuarantineError) else PROTOCOL_STATUS.get(exc.code, 400)
        zh, en = protocol_message(exc)
        return error_body(status, str(exc.code), zh, en, **_protocol_extra(exc))

    @app.errorhandler(NodeError)
    def node_error(exc: NodeError) -> Response:
        return error_body(exc.status, exc.code, exc.zh, exc.en, **_problems(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        # An address no route knows, outside the sync API, was typed by a person: the
        # pages answer it with their Chinese error page (node/pages/errors.py).
        page = app.extensions.get(PAGE_ERROR)
        if page is not None and request.url_rule is None and not request.path.startswith(API):
            return cast(ResponseReturnValue, page(exc))
        status = exc.code or 500
        return error_body(
            status, f"http_{status}", _HTTP_ZH.get(status, "请求无效"), exc.description or exc.name
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error in %s", type(exc).__name__)
        return error_body(
            500, "internal", "服务器内部错误，已记录", "internal error; it was logged"
        )


def _protocol_extra(exc: ProtocolError) -> dict[str, object]:
    """What the sender needs to recover: for a gap, our head and the refused start."""
    extra: dict[str, object] = {}
    if isinstance(exc, GapError):
        extra.update(have=exc.have, first=exc.first)
    log_text = getattr(exc, "log", None)
    if isinstance(log_text, str):
        extra["log"] = log_text
    return extra


def _problems(exc: NodeError) -> dict[str, object]:
    problems = getattr(exc, "problems", None)
    return {"problems": [p.as_dict() for p in problems]} if problems else {}


_HTTP_ZH = {
    400: "请求格式错误",
    401: "未通过身份验证",
    403: "无权访问",
    404: "找不到该地址",
    405: "不支持该请求方法",
    413: "请求内容过大",
}
