# SPDX-License-Identifier: Apache-2.0
"""An officer's save is one durable commit: the record, its log entry and the audit row
naming who wrote it go to disk together.

Each commit of node.db is an fsync (synchronous=FULL): a save written in one transaction
and its audit row in a second cost two, on a disk where the fsync is the whole price of
a save (``python -m tests.bench store``: store.fsync_floor), and left a window in which a
saved card had no row saying who saved it. Counted in the WAL itself: a commit is a
frame whose header carries the database size after it (frame headers stay in clear
under SQLCipher; only the pages are encrypted).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from node.store.store import NodeStore
from tests.node.pages.helpers import Village, form_token, make_village, sign_in

WAL_HEADER, FRAME_HEADER = 32, 24


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Village:
    return make_village(tmp_path_factory.mktemp("commits"), residents=30)


@pytest.fixture
def officer(village: Village) -> FlaskClient:
    client = village.app.test_client()
    sign_in(client)
    return client


def _commits_during(village: Village, act: Callable[[], None]) -> int:
    """How many transactions ``act()`` committed to node.db (its WAL emptied first)."""
    store = NodeStore.open(village.data_dir)
    try:
        assert store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    finally:
        store.close()
    act()
    wal = (village.data_dir / "node.db-wal").read_bytes()
    page = int.from_bytes(wal[8:12], "big")
    salts, commits = wal[16:24], 0
    for at in range(WAL_HEADER, len(wal) - FRAME_HEADER - page + 1, FRAME_HEADER + page):
        frame = wal[at : at + FRAME_HEADER]
        if frame[8:16] != salts:
            break  # a frame of an earlier pass over the file
        commits += int.from_bytes(frame[4:8], "big") > 0
    return commits


def _card(village: Village) -> tuple[str, dict[str, str]]:
    store = NodeStore.open(village.data_dir)
    try:
        rid, data = next(
            (rid, d) for rid, d in store.records("person") if d["card_type"] == "woman"
        )
        return rid, {k: v for k, v in data.items() if isinstance(v, str)}
    finally:
        store.close()


def test_a_new_record_a_correction_and_a_withdrawal_are_one_commit_each(
    village: Village, officer: FlaskClient
) -> None:
    rid, form = _card(village)
    token = form_token(officer)
    edit = officer.get(f"/records/person/{rid}/edit").get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d+)"', edit)
    assert seen is not None
    corrected = {**form, "phone": "13800000009", "seen": seen.group(1), "csrf_token": token}
    saved: list[int] = []

    def correct() -> None:
        saved.append(officer.post(f"/records/person/{rid}/edit", data=corrected).status_code)

    assert _commits_during(village, correct) == 1 and saved == [302]
    receipt = {"item": "condom", "quantity": "10", "received_date": "2026-03-01",
               "source": "县计生服务站", "csrf_token": token}  # fmt: skip

    def record() -> None:
        saved.append(officer.post("/records/new/supply_receipt", data=receipt).status_code)

    assert _commits_during(village, record) == 1 and saved[-1] == 302
    store = NodeStore.open(village.data_dir)
    try:
        receipt_id = store.db.execute(
            "SELECT record_id FROM audit WHERE action = 'record' ORDER BY rowid DESC"
        ).fetchone()[0]
        written = store.db.execute(
            "SELECT actor, action, kind FROM audit ORDER BY rowid DESC LIMIT 2"
        ).fetchall()
    finally:
        store.close()
    assert [tuple(row) for row in written] == [
        ("王芳", "record", "supply_receipt"),
        ("王芳", "correct", "person"),
    ]
    withdraw = {"reason": "entered_in_error", "csrf_token": token}

    def close() -> None:
        saved.append(
            officer.post(f"/records/supply_receipt/{receipt_id}/close", data=withdraw).status_code
        )

    assert _commits_during(village, close) == 1 and saved[-1] == 302
