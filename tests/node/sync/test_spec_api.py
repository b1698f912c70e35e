# SPDX-License-Identifier: Apache-2.0
"""SPEC.md §15 and §11 name every endpoint, status and code the sync API uses.

Docs as tests (sqlite-utils tests/test_docs.py): an endpoint added to the blueprint, a
code the server answers with, or a status mapping changed without the spec fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import requests

from node.server import create_app
from node.server.errors import PROTOCOL_STATUS
from protocol import ErrorCode, QuarantineError, UnsupportedError, check_mac, mac
from tests.node.sync.network import SimClock, loopback_county

ROOT = Path(__file__).parents[3]
V1, T = "440104001002", "440104001"
SPEC = (ROOT / "protocol" / "SPEC.md").read_text("utf-8")


def _section(number: str) -> str:
    start = SPEC.index(f"\n## {number}. ")
    end = SPEC.index("\n## ", start + 1)
    return SPEC[start:end]


def _routes(tmp_path: Path) -> set[tuple[str, str]]:
    app = create_app({"RENKOU_DATA_DIR": str(tmp_path)})
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/sync/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def test_every_endpoint_is_in_the_table_of_section_15(tmp_path: Path) -> None:
    table = set(re.findall(r"^\| `(GET|POST)` \| `(/sync/v1/[a-z]+)` \|", _section("15"), re.M))
    assert _routes(tmp_path) == table


def _session_codes() -> set[str]:
    """The codes the sync API's own refusals carry (SessionRefused("code", ...))."""
    codes = set()
    for name in ("sessions.py", "sync_api.py"):
        tree = ast.parse((ROOT / "node" / "server" / name).read_text("utf-8"))
        for call in ast.walk(tree):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "SessionRefused"
                and call.args
                and isinstance(call.args[0], ast.Constant)
            ):
                codes.add(str(call.args[0].value))
    return codes


def test_every_code_of_the_sync_api_is_in_section_11() -> None:
    errors = _section("11")
    found = _session_codes()
    assert {"no_session", "replay", "not_child", "busy", "revoked"} <= found
    for code in found | {"http_404", "http_405", "http_413", "internal"}:
        assert f"| `{code}` |" in errors, code


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_protocol_code_has_its_row_and_status(code: ErrorCode) -> None:
    """§11 lists the code, and its HTTP status is the one the server answers with."""
    errors = _section("11")
    assert f"| `{code}` |" in errors
    status = PROTOCOL_STATUS.get(code, 400)
    if code in (ErrorCode.CLOCK_DRIFT, ErrorCode.UNKNOWN_RULESET, ErrorCode.QUARANTINED):
        status = 422  # every QuarantineError
    said = re.search(r"\*\*Over HTTP\*\*.*?every other code 400", errors, re.S)
    assert said is not None
    text = said.group(0)
    if status == 400:
        assert f"`{code}`" not in text
    else:
        clause = re.search(rf"`{code}`[^;]*?(\d{{3}})", text)
        assert clause is not None and int(clause.group(1)) == status, code


def test_a_quarantine_is_422_whatever_its_code(tmp_path: Path) -> None:
    """§11: a batch the county quarantines for an ``unsupported`` payload is 422 (as the
    receive pipeline raises it), an ``unsupported`` anywhere else 400."""
    app = create_app({"RENKOU_DATA_DIR": str(tmp_path)})

    @app.get("/quarantined")
    def quarantined() -> str:
        raise QuarantineError("op kind 9", code=ErrorCode.UNSUPPORTED)

    @app.get("/unsupported")
    def unsupported() -> str:
        raise UnsupportedError("suite 9")

    web = app.test_client()
    held = web.get("/quarantined")
    assert (held.status_code, held.json["code"]) == (422, "unsupported")  # type: ignore[index]
    other = web.get("/unsupported")
    assert (other.status_code, other.json["code"]) == (400, "unsupported")  # type: ignore[index]
    assert "`unsupported` with 422 there" in _section("11")


def test_the_mac_covers_the_counter_in_shortest_decimal(tmp_path: Path) -> None:
    """§15.3: a header ``007`` is counter 7; both MACs cover ``7``, not the spelling."""
    with loopback_county(tmp_path, {T: [V1]}, clock=SimClock()) as county:
        c = county.client(V1)
        c.link.open_session()
        assert c.link.session is not None
        sid, key = c.link.session
        path = "/sync/v1/state?c=0"
        headers = {
            "X-Rk-Session": sid,
            "X-Rk-Counter": "007",
            "X-Rk-Mac": mac(key, "req", "GET", path, 7, b""),
        }
        resp = requests.get(c.link.url + path, headers=headers, timeout=30)
        assert resp.status_code == 200, resp.text
        check_mac(key, resp.headers["X-Rk-Mac"], "res", "GET", path, 7, resp.content)
        headers["X-Rk-Counter"] = "008"
        headers["X-Rk-Mac"] = mac(key, "req", "GET", path, 8, b"")
        again = requests.get(c.link.url + path, headers=headers, timeout=30)
        assert again.status_code == 200
        assert "`007` is counter 7" in _section("15")
