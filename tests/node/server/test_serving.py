# SPDX-License-Identifier: Apache-2.0
"""The app factory's data dir and the built-in server's persistent connections."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from node.errors import NodeError
from node.server import create_app
from node.server.serving import WAITRESS_MAX_BODY, NodeServer


def test_the_data_dir_comes_from_the_environment_when_not_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENKOU_DATA_DIR", str(tmp_path))
    assert create_app().config["RENKOU_DATA_DIR"] == str(tmp_path)


def test_a_given_data_dir_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENKOU_DATA_DIR", "/nonexistent")
    app = create_app({"RENKOU_DATA_DIR": str(tmp_path)})
    assert app.config["RENKOU_DATA_DIR"] == str(tmp_path)


def test_without_a_data_dir_the_app_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RENKOU_DATA_DIR", raising=False)
    with pytest.raises(NodeError) as caught:
        create_app()
    assert caught.value.code == "no_data_dir"
    assert "RENKOU_DATA_DIR" in caught.value.zh and "RENKOU_DATA_DIR" in caught.value.en


def test_one_connection_carries_a_whole_round_of_requests(tmp_path: Path) -> None:
    """Three requests on one requests.Session: the server accepts one TCP connection."""
    server = NodeServer("127.0.0.1", 0, create_app({"RENKOU_DATA_DIR": str(tmp_path)}))
    accepted = []
    handle_accept = server._server.handle_accept

    def counting_handle_accept() -> None:
        accepted.append(1)
        handle_accept()

    server._server.handle_accept = counting_handle_accept
    server.start()
    try:
        with requests.Session() as http:
            answers = [http.get(f"{server.url}/sync/v1/state", timeout=5) for _ in range(3)]
        assert [a.status_code for a in answers] == [401, 401, 401]  # no session: refused
        assert all(a.json()["code"] == "no_session" for a in answers)
        assert len(accepted) == 1
    finally:
        server.stop()


def test_a_stopped_server_refuses_connections(tmp_path: Path) -> None:
    server = NodeServer("127.0.0.1", 0, create_app({"RENKOU_DATA_DIR": str(tmp_path)}))
    server.start()
    with requests.Session() as http:
        assert http.get(f"{server.url}/sync/v1/state", timeout=5).status_code == 401
        server.stop()
        with pytest.raises(requests.ConnectionError):
            http.get(f"{server.url}/sync/v1/state", timeout=5)


def test_an_oversized_body_is_refused_before_the_app_reads_it(tmp_path: Path) -> None:
    """Just over MAX_REQUEST_BYTES the app answers with its JSON reason
    (tests/node/sync/test_faults.py); far over it, waitress refuses it unread."""
    server = NodeServer("127.0.0.1", 0, create_app({"RENKOU_DATA_DIR": str(tmp_path)}))
    server.start()
    try:
        body = b"x" * (WAITRESS_MAX_BODY + 1)
        answer = requests.post(f"{server.url}/sync/v1/envelopes", data=body, timeout=30)
        assert answer.status_code == 413
    finally:
        server.stop()
