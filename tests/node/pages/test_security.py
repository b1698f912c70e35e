# SPDX-License-Identifier: Apache-2.0
"""The pages' gate: sign-in required, CSRF, lockout, idle expiry, sign-out, roles."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from node.pages.accounts import LOCK_AFTER, LOCK_MINUTES
from node.pages.guard import public
from node.store.accounts import OperatorStore
from node.store.store import NodeStore
from tests.node.pages.helpers import ACCOUNTS, PASSWORD, Village, csrf_token, form_token, sign_in

# published: /keys/v1, enrol: /enrol/v1 (APIs, not pages)
PAGE_BLUEPRINTS_EXEMPT = {"static", "static_pages", "sync", "published", "enrol"}


def _page_rules(village: Village) -> list[tuple[str, str, set[str]]]:
    out = []
    for rule in village.app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0]
        if blueprint in PAGE_BLUEPRINTS_EXEMPT or "." not in rule.endpoint:
            continue
        view = village.app.view_functions[rule.endpoint]
        if getattr(view, "_renkou_public", False):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "P1").replace(f"<path:{arg}>", "P1")
            path = path.replace(f"<int:{arg}>", "1")
        out.append((rule.endpoint, path, set(rule.methods or ())))
    return out


def test_every_page_redirects_to_sign_in_without_a_session(
    village: Village, client: FlaskClient
) -> None:
    rules = _page_rules(village)
    assert any(endpoint == "home.home" for endpoint, _, _ in rules)
    for endpoint, path, methods in rules:
        if "GET" in methods:
            response = client.get(path)
            assert response.status_code == 302, endpoint
            assert response.headers["Location"].startswith("/login"), endpoint
        if "POST" in methods:  # refused by the CSRF check or the sign-in check, never run
            token = form_token(client, "/login")
            response = client.post(path, data={"csrf_token": token})
            assert response.status_code == 302, endpoint
            assert response.headers["Location"].startswith("/login"), endpoint


def test_only_the_sign_in_page_and_the_start_are_public(village: Village) -> None:
    public_views = {
        rule.endpoint
        for rule in village.app.url_map.iter_rules()
        if getattr(village.app.view_functions[rule.endpoint], "_renkou_public", False)
    }
    assert public_views == {"auth.login", "auth.index"}
    assert callable(public)


def test_root_leads_to_sign_in_then_home(client: FlaskClient) -> None:
    assert client.get("/").headers["Location"] == "/login"
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert client.get("/").headers["Location"] == "/home"
    page = client.get("/home").get_data(as_text=True)
    assert "村计生专干" in page and "2026年3月5日" in page


def test_sign_in_needs_the_csrf_token(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"name": ACCOUNTS["village_officer"], "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert client.get("/home").status_code == 302


def test_a_form_post_needs_the_csrf_token_of_its_session(
    village: Village, client: FlaskClient
) -> None:
    sign_in(client)
    other = village.app.test_client()
    sign_in(other, "township_reviewer")
    foreign = form_token(other)
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": foreign}).status_code == 400
    assert client.post("/logout", data={"csrf_token": "x" * 40}).status_code == 400
    assert client.get("/home").status_code == 200  # still signed in: no post went through


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: FlaskClient,
) -> None:
    wrong = sign_in(client, password="not the password")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    unknown = client.post(
        "/login", data={"name": "没有这个人", "password": PASSWORD, "csrf_token": token}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "账号或密码不正确" in wrong.get_data(as_text=True)
    assert "账号或密码不正确" in unknown.get_data(as_text=True)


def test_lockout_after_repeated_failures_then_unlock_after_the_wait(
    village: Village, client: FlaskClient
) -> None:
    for _ in range(LOCK_AFTER):
        assert sign_in(client, password="wrong password").status_code == 401
    locked = sign_in(client)  # the right password, but the account is locked now
    assert locked.status_code == 401
    assert "锁定" in locked.get_data(as_text=True)
    village.clock.advance(LOCK_MINUTES * 60 - 1)
    assert sign_in(client).status_code == 401
    village.clock.advance(2)
    assert sign_in(client).status_code == 302


def test_a_success_clears_the_failure_count(village: Village, client: FlaskClient) -> None:
    for _ in range(LOCK_AFTER - 1):
        sign_in(client, password="wrong password")
    assert sign_in(client).status_code == 302
    for _ in range(LOCK_AFTER - 1):
        sign_in(client, password="wrong password")
    assert sign_in(client).status_code == 302


def test_idle_session_expires(village: Village, client: FlaskClient) -> None:
    sign_in(client)
    village.clock.advance(29 * 60)
    assert client.get("/home").status_code == 200  # use within the idle time keeps it alive
    village.clock.advance(29 * 60)
    assert client.get("/home").status_code == 200
    village.clock.advance(30 * 60 + 1)
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "长时间未操作" in client.get("/login").get_data(as_text=True)
    village.clock.advance(-3600)  # an ended session never comes back
    assert client.get("/home").status_code == 302


def test_sign_out_ends_the_session_even_for_a_copied_cookie(
    village: Village, client: FlaskClient
) -> None:
    sign_in(client)
    cookie = client.get_cookie("renkou_session")
    assert cookie is not None
    client.post("/logout", data={"csrf_token": form_token(client)})
    assert client.get("/home").status_code == 302
    thief = village.app.test_client()
    thief.set_cookie("renkou_session", cookie.value)
    assert thief.get("/home").status_code == 302


def test_disabling_an_account_ends_its_sessions(village: Village, client: FlaskClient) -> None:
    sign_in(client)
    store = NodeStore.open(village.data_dir)
    try:
        OperatorStore(store.db).set_disabled(ACCOUNTS["village_officer"], True)
    finally:
        store.close()
    assert client.get("/home").status_code == 302
    assert sign_in(client).status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_sign_in_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        f"/login?next={target}",
        data={"name": ACCOUNTS["village_officer"], "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/home"


def test_pages_are_not_cached_and_not_framed(client: FlaskClient) -> None:
    sign_in(client)
    response = client.get("/home")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_sync_api_keeps_its_json_errors(client: FlaskClient) -> None:
    response = client.get("/sync/v1/nothing-here")
    assert response.status_code == 404 and response.is_json
