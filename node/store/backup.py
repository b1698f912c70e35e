# SPDX-License-Identifier: Apache-2.0
"""Backing a node up and restoring it, without ever forking its log.

A copy of node.db taken with ``cp`` while the node runs can miss the WAL's last
transactions or tear a page; SQLite's online backup copies a consistent snapshot. A
restored copy stands where the backup was taken, behind what the township and the
county already hold of this node's log, so :func:`restore` opens a new epoch before
anything can be written (SPEC §3.5): the entries the lost copy sent upstream stay valid
there, and nothing written after the restore collides with them.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from node.errors import StorageError
from node.identity import private_file
from node.store.database import DB_NAME
from node.store.restores import RestoreEvent, Restores
from node.store.store import NodeStore

SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore did: the epoch it opened and where the replaced file went."""

    epoch: int
    backup_head: int
    replaced: Path | None


def backup(store: NodeStore, target: Path) -> int:
    """Write a consistent copy of the node's database to ``target`` (mode 0600).

    Returns the head seq of the current log in the copy. The copy holds people's cards:
    it is created owner-only, and ``target`` must not exist (an old backup is never
    silently overwritten).
    """
    if target.exists():
        raise StorageError(
            f"{target} 已存在，未覆盖；请换一个文件名",
            f"{target} already exists and was not overwritten; choose another name",
            code="backup_exists",
        )
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)
    try:
        dest = sqlite3.connect(str(partial))
        try:
            store.db.conn.backup(dest)
        finally:
            dest.close()
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(
            f"备份未完成（{type(exc).__name__}），未留下不完整的文件",
            f"the backup did not complete ({type(exc).__name__}); no partial file was left",
            code="backup_failed",
        ) from None
    return store.changelog.head_seq


def restore(data_dir: Path, source: Path) -> Restored:
    """Put the backup ``source`` in place of this node's database and open a new epoch.

    The backup must be of this node (its keys stay in keys/, not in the backup) and its
    log must verify. The replaced database is kept beside it, never deleted.

    Raises:
        StorageError: no such backup, not this node's, or its log does not verify.
    """
    if not source.is_file():
        raise StorageError(
            f"找不到备份文件 {source}",
            f"no backup file at {source}",
            code="backup_missing",
        )
    live = data_dir / DB_NAME
    known_epoch = _epoch_of(live)
    staging = data_dir / "restoring"
    _remove_tree(staging)
    staging.mkdir(mode=0o700)
    try:
        (staging / "keys").symlink_to((data_dir / "keys").resolve())
        private_file(staging / DB_NAME)
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src:
            with closing(sqlite3.connect(str(staging / DB_NAME))) as dst:
                src.backup(dst)
        copy = NodeStore.open(staging)
        try:
            backup_node = copy.meta().get("node")
            if backup_node != str(copy.node):
                raise StorageError(
                    f"备份属于 {backup_node}，不是本节点 {copy.node}，未做任何更改",
                    f"the backup is of {backup_node}, not of this node {copy.node}; "
                    "nothing was changed",
                    code="backup_other_node",
                )
            head = copy.verify_log()
            backup_log = copy.changelog.log
        finally:
            copy.close()
    except sqlite3.DatabaseError:
        _remove_tree(staging)
        raise StorageError(
            f"{source} 不是有效的节点备份，未做任何更改",
            f"{source} is not a node backup; nothing was changed",
            code="backup_invalid",
        ) from None
    except BaseException:
        _remove_tree(staging)
        raise
    lost_last = _head_of(live, backup_log.epoch)
    replaced = _set_aside(live)
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


def _head_of(db_path: Path, epoch: int) -> int:
    """How far the database being replaced had written log ``epoch`` (0 if unknown):
    the restored copy lacks the entries past the backup's head up to it."""
    if not db_path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT MAX(seq) FROM log WHERE epoch = ?", [epoch]).fetchone()
        return int(row[0] or 0)
    except sqlite3.Error:
        return 0


def _epoch_of(db_path: Path) -> int:
    """The epoch the database being replaced had reached (0 if unreadable or absent):
    the new epoch must be above it, or the replaced copy's last log would be reused."""
    if not db_path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT MAX(epoch) FROM log").fetchone()
        return int(row[0] or 0)
    except sqlite3.Error:
        return 0


def _set_aside(live: Path) -> Path | None:
    if not live.exists():
        return None
    aside = live.with_name(f"{DB_NAME}.replaced-{time.strftime('%Y%m%d%H%M%S')}")
    with closing(sqlite3.connect(str(live))) as conn:  # fold the WAL in: the file is whole
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
