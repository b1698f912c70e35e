# SPDX-License-Identifier: Apache-2.0
"""Recovery snapshots coming down, and children's requests going up (SPEC.md §8.10).

Down: a snapshot in our parent's outbox is checked like an advisory (the county node
signed these exact bytes, and it is our county's), without opening. A relay passes one
made for a child into that child's outbox unchanged; it cannot read it. The node it is
for takes it only if it answers the request it waits for (a snapshot replayed later
would roll its cards back) and is sealed for its key; then, in one transaction, the
cards become its records and the base they are built on (node/store/recovery.py), and
a new epoch starts from the last head the cards run through. A node that holds entries
the county does not (it wrote after asking) keeps its records and asks again; a new PC
drops its lone install entry, which never reached anyone.

Up: a relay hands each request a child gave it to its own parent in its next round,
after its push and before it reads its outbox (where the answer then is).
"""

from __future__ import annotations

from node.store.acks import PeerAcks
from node.store.outbox import Outbox
from node.store.recovery import Recovery, RecoveryEvent
from node.store.store import NodeStore
from node.sync.epochs import known_epoch
from node.sync.failures import SyncFailed
from node.sync.round import Round
from protocol import Certificate, Head, LogId, MalformedError, SignatureError
from protocol.recovery import Snapshot, decode_recovery_request, decode_snapshot, open_snapshot

RECOVERY_PATH = "/sync/v1/recovery"
ACTOR = "county-recovery"


class _NotCovered(Exception):
    """We hold entries the snapshot's cards do not cover: taking it would lose them."""


def take(store: NodeStore, raw: bytes, county: Certificate) -> str:
    """Pass a snapshot down, or take it if it is ours; a line for the round's report.

    Raises:
        ProtocolError: not signed by our county node, or for a node that is neither us
            nor one of our children, or not opening with our key.
    """
    snap = decode_snapshot(raw)
    snap.verify(county.verify_key)
    if snap.header.county != county.node:
        raise SignatureError("a recovery snapshot not made by our county")
    target = snap.header.node
    if target != store.node:
        if target.parent != store.node:
            raise MalformedError("a recovery snapshot for a node neither us nor a child")
        Outbox(store.db).add(str(target), raw)
        return f"passed the county's recovery snapshot down to {target}"
    return _apply(store, snap)


def _apply(store: NodeStore, snap: Snapshot) -> str:
    recovery = Recovery(store.db)
    pending = recovery.pending()
    if pending is None or decode_recovery_request(pending).id != snap.header.request:
        return "ignored a recovery snapshot that answers no request we wait for"
    cards = open_snapshot(snap, store.identity.kem)
    heads = dict(snap.header.heads)
    try:
        drop = _check_covered(store, heads)
    except _NotCovered as exc:
        return f"kept our cards: {exc}; ask again after a sync (renkou node recover)"
    latest = max(heads, key=lambda log: log.epoch)
    epoch = max(store.changelog.log.epoch, known_epoch(store), latest.epoch) + 1
    old = store.changelog
    # What we write from now on comes after every version the cards hold: the county
    # orders a retirement and a dead PC's later edit by their clocks.
    newest = max((card.updated_hlc for card in cards), default=0)
    saved_hlc, old.clock.last = old.clock.last, max(old.clock.last, newest)
    try:
        with store.db.atomic():
            if drop:
                old.forget_install()
            n = recovery.install(cards, epoch)
            recovery.clear_pending()
            event = RecoveryEvent(store.clock(), str(snap.header.county), epoch, n,
                                  {str(log): h.seq for log, h in heads.items()}, drop)  # fmt: skip
            recovery.record(event)
            PeerAcks(store.db).settle(sorted({str(old.log), *(str(log) for log in heads)}))
            store.audit(ACTOR, "recover", "node", str(store.node), f"{n} cards from upstream")
            store.start_epoch_after(latest.epoch, heads[latest].seq, heads[latest].hash, epoch)
    except BaseException:
        old.clock.last = saved_hlc
        store.changelog = old
        raise
    return f"recovered {n} cards from the county; writing on in epoch {epoch}"


def _check_covered(store: NodeStore, heads: dict[LogId, Head]) -> bool:
    """Whether our own log is a new PC's lone install entry, to drop; otherwise that the
    snapshot covers every entry we hold.

    Raises:
        _NotCovered: we hold an entry of one of our logs the county does not hold (by seq,
            or by hash where the seqs meet).
    """
    log = store.changelog
    ours = {e: Head(seq, h) for e, (seq, h) in log.closed_heads().items()}
    ours[log.log.epoch] = Head(log.head_seq, log.head_hash)
    fresh = store.is_new_pc()
    for epoch, mine in sorted(ours.items()):
        theirs = heads.get(LogId(store.node, epoch))
        same = theirs is not None and theirs.seq == mine.seq and theirs.hash == mine.hash
        if fresh:
            return not same
        if same or (theirs is not None and theirs.seq > mine.seq):
            continue
        held = 0 if theirs is None else theirs.seq
        raise _NotCovered(f"the county holds entry {held} of epoch {epoch}, we hold {mine.seq}")
    return False


def hand_up(r: Round) -> int:
    """Hand every request our children gave us to our parent; how many went.

    A request the parent refuses is dropped with a note (the child sees no answer and
    asks again); one the link could not deliver stays for the next round.
    """
    recovery, sent = Recovery(r.store.db), 0
    for rid, node, raw in list(recovery.waiting_requests()):
        try:
            r.link.call("POST", RECOVERY_PATH, raw)
        except SyncFailed as exc:
            if not 400 <= exc.status < 500:
                r.report.notes.append(f"recovery request of {node} not handed up yet: {exc}")
                return sent
            r.report.notes.append(f"the parent refused the recovery request of {node}: {exc.code}")
        else:
            sent += 1
        with r.store.db.atomic():
            recovery.handed_up(rid)
    return sent
