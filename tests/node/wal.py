# SPDX-License-Identifier: Apache-2.0
"""How many transactions a step commits to a node's database, read from its WAL.

Each commit of node.db is an fsync (synchronous=FULL), so a save's commits are its price
on the disk. A commit is a WAL frame whose header carries the database size after it;
frame headers stay in clear under SQLCipher (only the pages are encrypted).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from node.store.store import NodeStore

WAL_HEADER, FRAME_HEADER = 32, 24


def commits_during(data_dir: Path, act: Callable[[], object]) -> int:
    """How many transactions ``act()`` committed to ``data_dir``'s node.db (its WAL is
    emptied first, so every frame after the header is ``act``'s). A connection stays
    open meanwhile: the last one to close folds the WAL into the file and removes it."""
    store = NodeStore.open(data_dir)
    try:
        assert store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        act()
        wal = (data_dir / "node.db-wal").read_bytes()
    finally:
        store.close()
    page = int.from_bytes(wal[8:12], "big")
    salts, commits = wal[16:24], 0
    for at in range(WAL_HEADER, len(wal) - FRAME_HEADER - page + 1, FRAME_HEADER + page):
        frame = wal[at : at + FRAME_HEADER]
        if frame[8:16] != salts:
            break  # a frame of an earlier pass over the file
        commits += int.from_bytes(frame[4:8], "big") > 0
    return commits
