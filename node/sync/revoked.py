# SPDX-License-Identifier: Apache-2.0
"""Revoked children's logs in a relay's state digest.

A revoked log moves only up to its ``valid_through`` (SPEC.md §7b), and the revoked node
cannot sync any more. Once the parent holds all of it that it will ever take from us,
nothing can flow either way, but our head may differ from the parent's for ever: we
hold more (refused beyond valid_through) or less (we were restored from a backup that
never had all of it). Counting such a log at the parent's last reported head in the
state digest lets the pair be idle again (one request a round) instead of comparing the
full state at every round. The parent's heads of those logs are kept in ``node_meta``
(``revoked_heads:<peer>``) from each full state exchange.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from node.store.holdings import Holdings
from node.store.sync_meta import SyncMeta
from protocol import Frontier, Head, LogId, NodeId, RevocationList

_REVOKED_HEADS = "revoked_heads:{peer}"


def revoked_through(crl: RevocationList | None) -> dict[NodeId, dict[LogId, int]]:
    """Per revoked node, how far each of its logs stays valid (0 for a log not named)."""
    out: dict[NodeId, dict[LogId, int]] = {}
    for item in crl.revoked.values() if crl is not None else ():
        logs = out.setdefault(item.node, {})
        for log, seq in item.valid_through.items():
            logs[log] = max(logs.get(log, 0), seq)
    return out


def remember_revoked(db: Database, peer: str, crl: RevocationList | None, theirs: Frontier) -> None:
    """Keep ``peer``'s heads of revoked nodes' logs, from a full state exchange.

    ``theirs`` is the peer's view of our subtree; a revoked log it does not list is
    kept as held through 0. Only logs of nodes our revocation list names are kept.
    """
    revoked = revoked_through(crl)
    if not revoked:
        return
    logs = {log for log, _ in theirs.items() if log.node in revoked}
    logs |= {log for log, _ in Holdings(db).frontier().items() if log.node in revoked}
    logs |= {log for log in map(LogId.parse, _reported(db, peer)) if log.node in revoked}
    if not logs:
        return  # a village, or a relay without a revoked child
    body = {}
    for log in logs:
        head = theirs.get(log)
        body[str(log)] = [head.seq, head.hash.hex()] if head is not None else [0, ""]
    SyncMeta(db).set(_REVOKED_HEADS.format(peer=peer), json.dumps(body, sort_keys=True))


def _reported(db: Database, peer: str) -> dict[str, tuple[int, str]]:
    """The heads of revoked logs ``peer`` last reported (remember_revoked)."""
    value = SyncMeta(db).get(_REVOKED_HEADS.format(peer=peer))
    return json.loads(value) if value else {}


def revoked_wanted(db: Database, peer: str, crl: RevocationList | None, ours: Frontier) -> Frontier:
    """``ours`` with each revoked node's log as ``peer`` last reported it, where the peer
    then held all of it that it will ever take from us.

    While the peer lacks valid entries we hold, our own head counts, so the digests
    differ and the forward is retried.
    """
    revoked = revoked_through(crl)
    reported = _reported(db, peer) if revoked else {}
    heads = dict(ours.items())
    for text, (seq, digest) in reported.items():
        log = LogId.parse(text)
        if log.node not in revoked:
            continue
        mine = heads.get(log)
        if seq < min(mine.seq if mine else 0, revoked[log.node].get(log, 0)):
            continue  # the peer lacks valid entries we hold: forward them first
        if seq == 0:
            heads.pop(log, None)
        else:
            heads[log] = Head(seq, bytes.fromhex(digest))
    return Frontier(heads)


def unacknowledged(db: Database, peer: str, crl: RevocationList | None) -> list[LogId]:
    """Relayed logs we hold beyond the acknowledgement of ``peer`` we keep.

    Logs of revoked nodes do not count: their acknowledgement has nobody to go to (the
    node is refused at the handshake), and the parent refuses them beyond
    ``valid_through``.
    """
    revoked = revoked_through(crl)
    return [log for log in Holdings(db).unacknowledged_logs(peer) if log.node not in revoked]
