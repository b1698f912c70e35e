# SPDX-License-Identifier: Apache-2.0
"""Opening the node's SQLite file: WAL, full sync for hand-made writes, a clear error.

A village PC loses power. WAL with ``synchronous=FULL`` makes a committed transaction
survive that; the bulk importer may relax to NORMAL because it can be re-run, and says
so where it does.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from node.errors import StorageError
from node.store.schema import migrations

DB_NAME = "node.db"


def open_database(path: Path | str, *, create: bool = False) -> Database:
    """Open (or create) the node database and apply pending migrations.

    Raises:
        StorageError: the file is missing (and ``create`` is false), read-only,
            not a SQLite database, or the disk is full.
    """
    path = Path(path)
    if not create and not path.exists():
        raise StorageError(
            f"找不到节点数据库 {path.name}，请先运行 renkou node init",
            f"no node database at {path}; run `renkou node init` first",
            code="store_missing",
        )
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = Database(conn)
        migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise storage_error(exc) from None
    return db


def storage_error(exc: sqlite3.Error) -> StorageError:
    """Translate SQLite's failure into words an officer can act on."""
    text = str(exc).lower()
    if "full" in text:
        return StorageError(
            "磁盘已满，未写入任何内容；请清理磁盘后重试",
            "the disk is full; nothing was written. Free some space and try again",
            code="disk_full",
        )
    if "readonly" in text or "read-only" in text:
        return StorageError(
            "数据库为只读，未写入任何内容；请检查文件权限",
            "the database is read-only; nothing was written. Check the file permissions",
            code="read_only",
        )
    return StorageError(
        "数据库无法使用，未写入任何内容；请联系管理员从备份恢复",
        f"the database cannot be used ({exc}); nothing was written. Ask the administrator",
        code="store_damaged",
    )
