# SPDX-License-Identifier: Apache-2.0
"""Children's logs the parent holds further than we do, in a relay's state digest.

A relay hands a child's log up only where it holds more of it than the parent. When the
parent holds more, nothing is to be handed up; when nobody can ever bring us those
entries (we were put back from a backup older than batches we had already handed up,
and the child PC was itself restored from a backup older than them: slow seed 4021),
our head differs from the parent's for ever, and the full state was compared at every
round: the pair was never idle. Logs flow only up, so such a log counts in the state
digest at the parent's last reported head, as our own closed epochs do (epochs.py).
Entries of it we hold that the parent has not acknowledged to us still make the round
compare the full state (revoked.unacknowledged), and once we hold more than the parent
our own head counts again, so what we hold is handed up. The parent's heads are kept in
``node_meta`` (``ahead_heads:<peer>``) from each full state exchange.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from node.store.holdings import Holdings
from node.store.sync_meta import SyncMeta
from protocol import Frontier, Head, LogId, NodeId

_AHEAD_HEADS = "ahead_heads:{peer}"


def remember_ahead(db: Database, peer: str, own: NodeId, theirs: Frontier) -> None:
    """Keep ``peer``'s heads of the children's logs it holds further than we do, from a
    full state exchange (``theirs``); ``own`` is this node, whose logs epochs.py keeps."""
    ours = Holdings(db).frontier()
    body = {}
    for log, head in theirs.items():
        mine = ours.get(log)
        if log.node != own and (mine is None or mine.seq < head.seq):
            body[str(log)] = [head.seq, head.hash.hex()]
    key = _AHEAD_HEADS.format(peer=peer)
    if body or SyncMeta(db).get(key):
        SyncMeta(db).set(key, json.dumps(body, sort_keys=True))


def ahead_wanted(db: Database, peer: str, heads: Frontier) -> None:
    """Set in ``heads`` (what we hold) each child's log ``peer`` last reported further
    than we hold it, at the peer's head."""
    value = SyncMeta(db).get(_AHEAD_HEADS.format(peer=peer))
    for text, (seq, digest) in (json.loads(value) if value else {}).items():
        log = LogId.parse(text)
        mine = heads.get(log)
        if mine is None or mine.seq < seq:
            heads.set(log, Head(seq, bytes.fromhex(digest)))
