# SPDX-License-Identifier: Apache-2.0
"""Backing a node up and restoring it, without ever forking its log.

A copy of node.db taken with ``cp`` while the node runs can miss the WAL's last
transactions or tear a page; SQLite's online backup copies a consistent snapshot. The
snapshot (encrypted under the node's database key, like node.db) is exported plain in
a private temporary directory of the data dir, so that a replacement PC, whose
database key is its own, can restore it; it is then sealed for the node's own key and
the county's escrow key, under a checkpoint of its log head signed by the node
(node/keys/backup_file.py): a backup on a stick reads as nothing, and one changed there
is refused. A restore checks the
checkpoint, that the log verifies up to the signed head, and that the records equal a
replay of the log. A restored copy stands where the backup was taken, behind what the
township and the county already hold of this node's log, so :func:`restore` opens a
new epoch before anything can be written (SPEC §3.5): the entries the lost copy sent
upstream stay valid there, and nothing written after the restore collides with them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
from sqlite_utils import Database

from node.errors import StorageError
from node.identity import load_certificate, load_identity, private_file
from node.keys.backup_file import Checkpoint, open_backup, seal_backup, sign_checkpoint
from node.keys.files import write_new
from node.store.database import DATABASE_ERRORS, DB_NAME, ERRORS, connect
from node.store.restores import RestoreEvent, Restores
from node.store.review import ReviewStore
from node.store.store import NodeStore
from protocol import KemPublicKey, LogId, ProtocolError

SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore did: the epoch it opened and where the replaced file went."""

    epoch: int
    backup_head: int
    replaced: Path | None


def backup(store: NodeStore, target: Path, now_ms: int | None = None) -> int:
    """Write a sealed, signed copy of the node's database to ``target`` (mode 0600).

    Returns the head seq of the current log in the copy. ``target`` must not exist (an
    old backup is never silently overwritten), and nothing is left behind on failure.
    """
    if target.exists():
        raise StorageError(
            f"{target} 已存在，未覆盖；请换一个文件名",
            f"{target} already exists and was not overwritten; choose another name",
            code="backup_exists",
        )
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=store.data_dir, prefix=".backup-") as tmp:
            snapshot = Path(tmp) / DB_NAME
            _snapshot(store, snapshot)
            database = snapshot.read_bytes()
            checkpoint, head = _checkpoint(store, snapshot, database, now_ms)
        write_new(partial, seal_backup(database, checkpoint, _recipients(store)))
        os.replace(partial, target)
    except (*ERRORS, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(
            f"备份未完成（{type(exc).__name__}），未留下不完整的文件",
            f"the backup did not complete ({type(exc).__name__}); no partial file was left",
            code="backup_failed",
        ) from None
    return head


def _snapshot(store: NodeStore, target: Path) -> None:
    """A consistent plain copy of the node's database at ``target`` (mode 0600),
    without the township's review store (:func:`_without_review`)."""
    key = store.identity.db_key
    copy = target.with_name("encrypted.db") if key else target
    private_file(copy)
    dest = connect(copy, key)
    try:
        store.db.conn.backup(dest)
    finally:
        dest.close()
    if key:
        private_file(target)
        export_database(copy, key, target, b"")
        copy.unlink()
    _without_review(target)  # a backup outlives the review window


def _without_review(target: Path) -> None:
    """Empty the review store of the plain copy ``target``, its bytes zeroed.

    What a township keeps for its monthly review lives only for the review window
    (node/store/review.py, SPEC.md §6.3.2); a backup lives for months on a stick. A
    restored township reviews again what it can still open; for the rest, the village
    holds its own change report.
    """
    conn = connect(target, b"")
    try:
        conn.execute("PRAGMA secure_delete = ON")
        ReviewStore(Database(conn)).clear()
    finally:
        conn.close()


def export_database(source: Path, source_key: bytes, target: Path, target_key: bytes) -> None:
    """Copy the database ``source`` into the empty file ``target``, re-encrypted from
    ``source_key`` to ``target_key`` (either empty: plain), with SQLCipher's export."""
    conn = sqlcipher.connect(str(source), isolation_level=None)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        if source_key:
            conn.execute(f"PRAGMA key = \"x'{source_key.hex()}'\"")
        into = f"x'{target_key.hex()}'" if target_key else ""
        conn.execute(f'ATTACH DATABASE ? AS target KEY "{into}"', [str(target)])
        conn.execute("SELECT sqlcipher_export('target')")
        conn.execute("DETACH DATABASE target")
    finally:
        conn.close()


def _checkpoint(
    store: NodeStore, snapshot: Path, database: bytes, now_ms: int | None
) -> tuple[bytes, int]:
    """The node's signed word on what the snapshot holds: its log head and records."""
    epoch = store.changelog.log.epoch
    with closing(sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT seq, entry_hash FROM log WHERE epoch = ? ORDER BY seq DESC LIMIT 1", [epoch]
        ).fetchone()
    seq, head = (int(row[0]), bytes(row[1]).hex()) if row else (0, "")
    copy = Database(str(snapshot))
    try:
        records = store.records_hash(copy)
    finally:
        copy.close()
    body = {
        "node": str(store.node),
        "log": str(store.changelog.log),
        "seq": seq,
        "head": head,
        "records": records,
        "database": hashlib.sha256(database).hexdigest(),
        "at": store.clock() if now_ms is None else now_ms,
    }
    return sign_checkpoint(store.identity.signing, body), seq


def _recipients(store: NodeStore) -> list[KemPublicKey]:
    """The node's own key, and the county's escrow key once the node is enrolled."""
    out = [store.identity.kem.public_key]
    county = load_certificate(store.data_dir, "county.cert")
    if county is not None and county.kem_key.key_id != out[0].key_id:
        out.append(county.kem_key)
    return out


def restore(data_dir: Path, source: Path) -> Restored:
    """Put the backup ``source`` in place of this node's database and open a new epoch.

    The backup must be sealed for this node and carry its signed checkpoint; the log
    must verify up to the signed head and the records must equal a replay of the log.
    The replaced database is kept beside it, never deleted.

    Raises:
        StorageError: no such backup, a plain or changed copy (``backup_unsealed``,
            ``backup_tampered``), another node's, or a log or records that do not add
            up; nothing is changed by any of these.
    """
    if not source.is_file():
        raise StorageError(
            f"找不到备份文件 {source}",
            f"no backup file at {source}",
            code="backup_missing",
        )
    identity = load_identity(data_dir)
    database, checkpoint = open_backup(
        source.read_bytes(), identity.kem, identity.signing.verify_key
    )
    live = data_dir / DB_NAME
    known_epoch = _epoch_of(live, identity.db_key)
    staging = data_dir / "restoring"
    _remove_tree(staging)
    staging.mkdir(mode=0o700)
    try:
        (staging / "keys").symlink_to((data_dir / "keys").resolve())
        _stage(staging, database, identity.db_key)
        copy = NodeStore.open(staging)
        try:
            _check_copy(copy, checkpoint)
            head = checkpoint.seq
            backup_log = copy.changelog.log
        finally:
            copy.close()
    except DATABASE_ERRORS:
        _remove_tree(staging)
        raise StorageError(
            f"{source} 不是有效的节点备份，未做任何更改",
            f"{source} is not a node backup; nothing was changed",
            code="backup_invalid",
        ) from None
    except BaseException:
        _remove_tree(staging)
        raise
    lost_last = _head_of(live, backup_log.epoch, identity.db_key)
    replaced = _set_aside(live, identity.db_key)
    os.replace(staging / DB_NAME, live)
    _remove_tree(staging)
    store = NodeStore.open(data_dir)
    try:
        with store.bulk():
            entry = store.start_epoch("restore", known_epoch)
            event = RestoreEvent(
                store.clock(), "restore", entry.log.epoch, str(backup_log), head,
                max(lost_last, head), source.name,
            )  # fmt: skip
            Restores(store.db).record(event)
    finally:
        store.close()
    return Restored(entry.log.epoch, head, replaced)


def _head_of(db_path: Path, epoch: int, key: bytes) -> int:
    """How far the database being replaced had written log ``epoch`` (0 if unknown):
    the restored copy lacks the entries past the backup's head up to it."""
    if not db_path.exists():
        return 0
    try:
        with closing(connect(db_path, key, readonly=True)) as conn:
            row = conn.execute("SELECT MAX(seq) FROM log WHERE epoch = ?", [epoch]).fetchone()
        return int(row[0] or 0)
    except (*ERRORS, StorageError):
        return 0


def _check_copy(copy: NodeStore, checkpoint: Checkpoint) -> None:
    """The restored copy is what the node signed: its node, its head, its records."""
    if checkpoint.node != str(copy.node) or copy.meta().get("node") != str(copy.node):
        raise StorageError(
            f"备份属于 {checkpoint.node}，不是本节点 {copy.node}，未做任何更改",
            f"the backup is of {checkpoint.node}, not of this node {copy.node}; "
            "nothing was changed",
            code="backup_other_node",
        )
    head = copy.verify_log()
    log = copy.changelog
    if (str(log.log), head, log.head_hash.hex() if head else "") != (
        checkpoint.log,
        checkpoint.seq,
        checkpoint.head,
    ):
        raise StorageError(
            "备份的日志末条与签名检查点不符，未做任何更改",
            "the backup's log head is not the one its checkpoint signs; nothing was changed",
            code="backup_tampered",
        )
    records = copy.records_hash()
    if records != checkpoint.records or records != copy.rebuild_hash():
        raise StorageError(
            "备份中的记录与变更日志重放的结果不符，未做任何更改",
            "the backup's records differ from a replay of its log; nothing was changed",
            code="backup_tampered",
        )


def _stage(staging: Path, database: bytes, key: bytes) -> None:
    """The backup's plain database as ``staging/node.db``, encrypted under ``key``."""
    private_file(staging / DB_NAME)
    if not key:
        (staging / DB_NAME).write_bytes(database)
        return
    plain = staging / "plain.db"
    private_file(plain)
    plain.write_bytes(database)
    try:
        export_database(plain, b"", staging / DB_NAME, key)
    finally:
        plain.unlink()


def _epoch_of(db_path: Path, key: bytes) -> int:
    """The epoch the database being replaced had reached (0 if unreadable or absent):
    the new epoch must be above it, or the replaced copy's last log would be reused.

    That is its own highest epoch, or a higher one its parent reported holding of ours
    (``parent_heads:*`` in node_meta, node/sync/epochs.py): a database copied back by
    hand from before a restore does not hold the epoch the restore opened, but its
    first sync learnt it from the parent, and reusing it would fork that log."""
    if not db_path.exists():
        return 0
    try:
        with closing(connect(db_path, key, readonly=True)) as conn:
            row = conn.execute("SELECT MAX(epoch) FROM log").fetchone()
            reported = conn.execute(
                "SELECT value FROM node_meta WHERE key LIKE 'parent!_heads:%' ESCAPE '!'"
            ).fetchall()
        known = [LogId.parse(log).epoch for (value,) in reported for log in json.loads(value)]
        return max([int(row[0] or 0), *known])
    except (*ERRORS, StorageError, ValueError, ProtocolError):
        return 0


def _set_aside(live: Path, key: bytes) -> Path | None:
    if not live.exists():
        return None
    aside = live.with_name(f"{DB_NAME}.replaced-{time.strftime('%Y%m%d%H%M%S')}")
    with closing(connect(live, key)) as conn:  # fold the WAL in: the file is whole
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(live, aside)
    for suffix in SIDE_FILES:
        Path(str(live) + suffix).unlink(missing_ok=True)
    return aside


def _remove_tree(path: Path) -> None:
    if not path.exists() and not path.is_symlink():
        return
    for child in path.iterdir():
        child.unlink()
    path.rmdir()
