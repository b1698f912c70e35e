# SPDX-License-Identifier: Apache-2.0
"""Issue 13 item 2: personal data in node.db unreadable without the operator's secret.

node.db is encrypted with SQLCipher under the database key that lives only inside the
sealed keys/node.key (node/store/database.py): the file, its WAL, a copy of it, read as
noise; another node's key (a database put into the wrong data dir) does not open it;
backups and restores still work (the backup carries a plain copy inside its seal)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from node.errors import StorageError
from node.identity import load_identity
from node.store.backup import backup, restore
from node.store.database import DB_NAME, connect
from node.store.store import NodeStore
from protocol import NodeId

NAME = "欧阳秀英"


def _write_person(store: NodeStore) -> None:
    rid = store.new_id("person")
    store.write([store.upsert_op("person", rid, {"name": NAME, "id_number": "不可读的证件号"})])


def test_node_db_and_its_wal_read_as_noise(store: NodeStore) -> None:
    _write_person(store)
    files = [p for p in store.data_dir.iterdir() if p.name.startswith(DB_NAME)]
    assert {p.name for p in files} >= {DB_NAME}
    raw = b"".join(p.read_bytes() for p in files)
    assert NAME.encode() not in raw and "不可读的证件号".encode() not in raw
    assert not raw.startswith(b"SQLite format 3")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(store.data_dir / DB_NAME).execute("SELECT * FROM records").fetchall()
    # With the node's key (from its sealed key file), the same file reads.
    with connect(store.data_dir / DB_NAME, store.identity.db_key) as conn:
        assert conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] >= 1


def test_a_database_under_another_nodes_key_is_refused(store: NodeStore, tmp_path: Path) -> None:
    """A node.db carried into another node's data dir (or replaced) does not open there."""
    other = NodeStore.init(tmp_path / "other", NodeId.for_code("440104001003"), "别村")
    other.close()
    store.close()
    (tmp_path / "other" / DB_NAME).unlink()
    (tmp_path / "other" / DB_NAME).write_bytes((store.data_dir / DB_NAME).read_bytes())
    with pytest.raises(StorageError) as refused:
        NodeStore.open(tmp_path / "other")
    assert refused.value.code == "store_key" and "未做任何更改" in refused.value.zh


def test_backup_and_restore_of_an_encrypted_store(store: NodeStore, tmp_path: Path) -> None:
    _write_person(store)
    head = store.changelog.head_seq
    backup(store, tmp_path / "stick.bak")
    assert NAME.encode() not in (tmp_path / "stick.bak").read_bytes()
    data_dir = store.data_dir
    store.close()
    done = restore(data_dir, tmp_path / "stick.bak")
    assert done.backup_head == head
    raw = (data_dir / DB_NAME).read_bytes()
    assert NAME.encode() not in raw and not raw.startswith(b"SQLite format 3")
    again = NodeStore.open(data_dir)
    try:
        assert again.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] >= 1
        assert again.identity.db_key == load_identity(data_dir).db_key
    finally:
        again.close()


def test_no_code_catches_the_plain_sqlite_errors_alone() -> None:
    """An encrypted store raises SQLCipher's exception classes, not sqlite3's: a handler
    for ``sqlite3.IntegrityError`` alone let a duplicate hello nonce become a 500. Every
    handler uses node/store/database.py's tuples, which hold both."""
    import re

    root = Path(__file__).resolve().parents[3]
    pattern = re.compile(r"except\s*\(?\s*sqlite3\.")
    found = [
        str(path.relative_to(root))
        for package in ("node", "county_aggregator", "deploy")
        for path in (root / package).rglob("*.py")
        if path.name != "database.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
