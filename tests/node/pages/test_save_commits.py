# SPDX-License-Identifier: Apache-2.0
"""An officer's save is one durable commit: the record, its log entry and the audit row
naming who wrote it go to disk together.

Each commit of node.db is an fsync (synchronous=FULL): a save written in one transaction
and its audit row in a second cost two, on a disk where the fsync is the whole price of
a save (``python -m tests.bench store``: store.fsync_floor), and left a window in which a
saved card had no row saying who saved it. Counted in the WAL (tests/node/wal.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from node.store.store import NodeStore
from tests.node.pages.helpers import Village, form_token, make_village, sign_in
from tests.node.wal import commits_during


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Village:
    return make_village(tmp_path_factory.mktemp("commits"), residents=30)


@pytest.fixture
def officer(village: Village) -> FlaskClient:
    client = village.app.test_client()
    sign_in(client)
    return client


def _commits_during(village: Village, act: Callable[[], None]) -> int:
    return commits_during(village.data_dir, act)


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


def test_a_move_into_another_household_is_one_commit_beside_the_audited_read(
    village: Village, officer: FlaskClient
) -> None:
    store = NodeStore.open(village.data_dir)
    try:
        people = list(store.records("person"))
    finally:
        store.close()
    mover, card = next((rid, d) for rid, d in people if d["household_relation"] != "head")
    other = next(d for _, d in people if d["hukou_address"] != card["hukou_address"])
    token = form_token(officer, f"/households/{mover}/move")
    moved: list[int] = []

    def move() -> None:
        form = {"address": other["hukou_address"], "csrf_token": token}
        moved.append(officer.post(f"/households/{mover}/move", data=form).status_code)

    # The form's read of her card is audited in its own commit, as every read of a card
    # is; the move of the card and its audit row are one more (two more before).
    assert _commits_during(village, move) == 2 and moved == [302]
