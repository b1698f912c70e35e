# SPDX-License-Identifier: Apache-2.0
"""A correction through the CLI (``renkou node edit``, ``renkou node change-head``) is one
durable commit: the cards, their log entry and the audit rows naming the officer go to
disk together, one fsync and no window with a changed card whose writer is not named
(counted in the WAL, tests/node/wal.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from node.domain.resident_id import check_digit
from node.recording import add_record
from node.store.store import NodeStore
from protocol import NodeId
from tests.node.wal import commits_during

HOME = "上南村1组1号"


def _card(name: str, relation: str, birth: str, serial: str) -> dict[str, object]:
    body = "440104" + birth.replace("-", "") + serial
    return {
        "card_type": "woman",
        "id_number": body + check_digit(body),
        "name": name,
        "sex": "F",
        "birth_date": birth,
        "hukou_code": "440104001002",
        "hukou_address": HOME,
        "household_relation": relation,
        "residence_code": "440104001002",
        "residence_address": HOME,
        "marital_status": "married",
    }


def test_an_edit_and_a_change_of_head_are_one_commit_each(
    tmp_path: Path, renkou: Callable[..., str]
) -> None:
    store = NodeStore.init(tmp_path / "v", NodeId.for_code("440104001002"), "测试村")
    try:
        today = date(2026, 3, 1)
        head = add_record(store, "person", _card("王芳", "head", "1980-01-01", "002"), today=today)
        wife = add_record(
            store, "person", _card("李娟", "child_in_law", "1990-02-02", "004"), today=today
        )
    finally:
        store.close()
    where = str(tmp_path / "v")
    edit = ["node", "edit", wife, "--set", "phone=13912345678", "--data-dir", where]
    assert commits_during(tmp_path / "v", lambda: renkou(*edit)) == 1
    change = ["node", "change-head", wife, "--former-relation", "parent_in_law"]
    assert commits_during(tmp_path / "v", lambda: renkou(*change, "--data-dir", where)) == 1
    reopened = NodeStore.open(tmp_path / "v")
    try:
        rows = reopened.db.execute(
            "SELECT action, record_id FROM audit WHERE action = 'correct' ORDER BY rowid"
        ).fetchall()
        assert sorted(map(tuple, rows)) == sorted(
            [("correct", wife), ("correct", wife), ("correct", head)]
        )
    finally:
        reopened.close()
