# SPDX-License-Identifier: Apache-2.0
"""This node's earlier epochs, as the sync client sees them.

After a restore (node/store/backup.py) the node writes in a new epoch, and its earlier
logs are closed. The parent may hold more of an earlier log than this copy (the lost PC
sent it) or less (the backup held entries never sent). What is sent is still decided by
what the parent holds: entries of an earlier log the parent lacks are pushed, and a
parent that holds more is not an error. For the one-request idle check, the earlier
logs enter the state digest at the head the parent last reported when that is further
than ours: otherwise a restored node and its parent would never agree on the digest.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from node.store.store import NodeStore
from node.store.sync_meta import SyncMeta
from protocol import Frontier, Head, LogId

META_KEY = "parent_heads:{peer}"


def closed_heads(store: NodeStore) -> dict[LogId, Head]:
    """Our own head of each epoch before the current one."""
    node = store.changelog.log.node
    return {
        LogId(node, epoch): Head(seq, h)
        for epoch, (seq, h) in store.changelog.closed_heads().items()
    }


def remember(db: Database, peer: str, theirs: Frontier, current: LogId) -> None:
    """Keep the parent's heads of our logs other than the current one, from a full state
    exchange: closed epochs this store holds, and ones it never held (a store restored
    from a backup older than an epoch the lost copy opened)."""
    body = {
        str(log): [h.seq, h.hash.hex()]
        for log, h in theirs.items()
        if log.node == current.node and log != current
    }
    SyncMeta(db).set(META_KEY.format(peer=peer), json.dumps(body, sort_keys=True))


def wanted_heads(store: NodeStore, peer: str) -> dict[LogId, Head]:
    """Each of our logs but the current one, at the further of our head and the
    parent's last reported one."""
    value = SyncMeta(store.db).get(META_KEY.format(peer=peer))
    reported = {
        LogId.parse(log): Head(seq, bytes.fromhex(digest))
        for log, (seq, digest) in (json.loads(value) if value else {}).items()
    }
    out = dict(reported)
    for log, ours in closed_heads(store).items():
        theirs = reported.get(log)
        out[log] = theirs if theirs is not None and theirs.seq > ours.seq else ours
    current = store.changelog.log
    out.pop(current, None)
    return out


def known_epoch(store: NodeStore) -> int:
    """The highest epoch of ours any parent last reported holding (0 if none): a new
    epoch must be above it, or it would reuse a log the parent holds."""
    best = 0
    for value in SyncMeta(store.db).values(META_KEY.format(peer="")):
        for log in json.loads(value):
            best = max(best, LogId.parse(log).epoch)
    return best
