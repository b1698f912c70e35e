# SPDX-License-Identifier: Apache-2.0
"""Opening the node's SQLite file: encrypted, WAL, full sync for hand-made writes, a clear
error.

A village PC loses power. WAL with ``synchronous=FULL`` makes a committed transaction
survive that; the bulk importer may relax to NORMAL because it can be re-run, and says
so where it does.

At rest the file is encrypted with SQLCipher (sqlcipher3, the maintained binding; pages
under AES-256 with an HMAC each) under the node's 32-byte database key, which lives only
inside the sealed ``keys/node.key`` (node/identity.py): a stolen disk, a copied data dir
or a file on a stick reads as noise without the operator's passphrase. Whole-file
encryption was chosen over sealing the sensitive columns: every column of a card is
personal data, indexes and the log's payloads would leak it otherwise, and SQL keeps
working unchanged; the cost is measured by ``python -m tests.bench store`` (store.write
beside a plain file, the same run). A store of an older version, whose key file
carried no database key, opens as a plain file as before.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any, cast

import sqlcipher3.dbapi2 as sqlcipher
from sqlite_utils import Database

from node.errors import StorageError
from node.store.schema import migrations

DB_NAME = "node.db"

ERRORS = (sqlite3.Error, sqlcipher.Error)
"""What a failing SQLite call raises, from a plain or an encrypted connection."""
DATABASE_ERRORS = (sqlite3.DatabaseError, sqlcipher.DatabaseError)
OPERATIONAL_ERRORS = (sqlite3.OperationalError, sqlcipher.OperationalError)
INTEGRITY_ERRORS = (sqlite3.IntegrityError, sqlcipher.IntegrityError)


_KEYS: dict[str, bytes] = {}
"""The key each database this process opened is encrypted under, by resolved path: a
worker process forked to read the same file (county_aggregator/parallel.py) opens it
with :func:`reopen` without the node's key file."""


def reopen(path: Path | str) -> Database:
    """Another connection to a database this process (or its parent, before a fork)
    opened with :func:`open_database`, under the same key."""
    return Database(connect(path, key_of(path)))


def key_of(path: Path | str) -> bytes:
    """The key this process (or its parent, before a fork) opened ``path`` under; empty
    if none (a plain file, or one not opened yet)."""
    return _KEYS.get(str(Path(path).resolve()), b"")


def remember_key(path: Path | str, key: bytes) -> None:
    """Note that ``path`` is encrypted under ``key``, for :func:`reopen` and
    :func:`key_of` (the county's merged.db is opened so too)."""
    if key:
        _KEYS[str(Path(path).resolve())] = key


def is_plain(path: Path | str) -> bool:
    """Is ``path`` an unencrypted SQLite file (an encrypted one starts with its salt)?
    An empty file is an empty plain database, as SQLite leaves it."""
    try:
        with open(path, "rb") as f:
            return f.read(16) in (b"SQLite format 3\x00", b"")
    except FileNotFoundError:
        return False


def encrypt_in_place(path: Path | str, key: bytes) -> None:
    """Rewrite the plain SQLite file ``path`` encrypted under ``key``, atomically.

    SQLCipher's ``sqlcipher_export`` copies every table and index into a new encrypted
    file beside it, which then replaces the plain one (and its WAL, checkpointed first),
    so a cut in the middle leaves the plain file as it was. Used for the county's
    merged.db of a version that kept it plain.
    """
    path = Path(path)
    fresh = path.with_name(path.name + ".encrypting")
    fresh.unlink(missing_ok=True)
    conn = sqlcipher.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{key.hex()}'\"", [str(fresh)])
        conn.execute("SELECT sqlcipher_export('encrypted')")
        conn.execute("DETACH DATABASE encrypted")
    finally:
        conn.close()
    os.chmod(fresh, 0o600)
    with open(fresh, "rb") as f:
        os.fsync(f.fileno())
    for name in (path.name + "-wal", path.name + "-shm"):
        path.with_name(name).unlink(missing_ok=True)
    os.replace(fresh, path)


def connect(path: Path | str, key: bytes, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to ``path``, encrypted under ``key`` (plain when ``key`` is empty).

    Raises:
        StorageError: ``store_key`` when the file does not open with ``key``.
    """
    target = f"file:{Path(path)}?mode=ro" if readonly else str(path)
    if not key:
        return sqlite3.connect(target, uri=readonly, isolation_level=None, check_same_thread=False)
    conn = sqlcipher.connect(target, uri=readonly, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError:
        conn.close()
        raise StorageError(
            f"数据库 {Path(path).name} 无法用本机的密钥打开（文件被替换、来自其他电脑或已损坏），"
            "未做任何更改；请联系管理员",
            f"the database {Path(path).name} does not open with this node's key (it "
            "was replaced, comes from another PC, or is damaged); nothing was changed",
            code="store_key",
        ) from None
    return cast(sqlite3.Connection, conn)


def open_database(path: Path | str, *, create: bool = False, key: bytes = b"") -> Database:
    """Open (or create) the node database, encrypted under ``key``, and apply pending
    migrations.

    Raises:
        StorageError: the file is missing (and ``create`` is false), does not open with
            ``key``, is read-only, not a SQLite database, or the disk is full.
    """
    path = Path(path)
    if not create and not path.exists():
        raise StorageError(
            f"找不到节点数据库 {path.name}，请先运行 renkou node init",
            f"no node database at {path}; run `renkou node init` first",
            code="store_missing",
        )
    try:
        conn = connect(path, key)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Deleted and shrunk rows are zeroed in the file, not left in free pages: a wrap
        # a township took out of a batch the county confirmed, or an erased payload, is
        # gone even for someone who has the key (issue 13, item 1). Many builds default
        # to it; Windows' Python does not.
        conn.execute("PRAGMA secure_delete = ON")
        db = Database(conn)
        migrations.apply(db)
        remember_key(path, key)
    except DATABASE_ERRORS as exc:
        raise storage_error(exc) from None
    return db


def storage_error(exc: Any) -> StorageError:
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
