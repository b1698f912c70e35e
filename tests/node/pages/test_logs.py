# SPDX-License-Identifier: Apache-2.0
"""No personal data in the server's log lines, whatever an officer does on the pages.

A real server (waitress, as ``renkou node serve`` runs) on loopback; every logger is
captured at DEBUG while an officer fails to sign in, signs in, searches by name, by
pinyin and by ID number, opens cards and sends a form that breaks on purpose.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import requests

from node.server.serving import NodeServer
from node.store.store import NodeStore
from tests.node.pages.helpers import ACCOUNTS, PASSWORD, make_village

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(response: requests.Response) -> str:
    found = _CSRF.search(response.text)
    assert found is not None
    return found.group(1)


def test_no_personal_data_in_log_lines(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    village = make_village(tmp_path, residents=120)
    store = NodeStore.open(village.data_dir)
    try:
        people = [data for _rid, data in store.records("person")][:5]
        ids = [rid for rid, _data in store.records("person")][:5]
    finally:
        store.close()
    server = NodeServer("127.0.0.1", 0, village.app)
    server.start()
    caplog.set_level(logging.DEBUG)
    try:
        web = requests.Session()
        login = server.url + "/login"
        wrong = {"name": people[0]["name"], "password": people[0]["id_number"]}
        web.post(login, data={**wrong, "csrf_token": _token(web.get(login))})
        web.post(
            login,
            data={
                "name": ACCOUNTS["village_officer"],
                "password": PASSWORD,
                "csrf_token": _token(web.get(login)),
            },
        )
        for data, rid in zip(people, ids, strict=True):
            for q in (data["name"], data["id_number"], str(data["id_number"])[-4:]):
                token = _token(web.get(server.url + "/people"))
                found = web.post(server.url + "/people", data={"q": q, "csrf_token": token})
                assert found.status_code == 200 and "找到" in found.text
            assert web.get(f"{server.url}/people/{rid}").status_code == 200
        web.get(server.url + "/people/" + str(people[0]["id_number"]))  # a 404 naming an ID
    finally:
        server.stop()
    # The server's lines only: urllib3 is the test's own client, logging its URLs.
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("urllib3")
    )
    assert "sign-in refused" in logged  # the capture works: the failed sign-in is there
    for data in people:
        for field in ("name", "id_number", "phone", "hukou_address", "residence_address"):
            value = data.get(field)
            if value:
                assert str(value) not in logged, f"{field} of a person appears in the log"
