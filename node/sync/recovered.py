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

from typing import Any

from node.store.acks import PeerAcks
from node.store.carry import CarriedOver, agreed_seq, write_again
from node.store.outbox import Outbox
from node.store.recovery import Recovery, RecoveryEvent
from node.store.store import NodeStore
from node.sync.epochs import known_epoch
from node.sync.failures import SyncFailed
from node.sync.other_history import forget, forked_closed, typed_there
from node.sync.round import Round
from protocol import (
    Certificate,
    Entry,
    EpochStart,
    Head,
    LogId,
    MalformedError,
    SignatureError,
    Upsert,
    decode_payload,
)
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
    kept, again = (None, []) if drop else _not_upstream(store, heads)
    forked = forked_closed(store, heads, cards)  # closed other histories: written again too
    again = [*typed_there(store, forked), *again]
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
            elif kept is not None:
                old.forget_after(kept)  # written again below, in the new epoch
            forget(store, forked)  # and of closed logs of another history (other_history.py)
            n = recovery.install(cards, epoch)
            recovery.clear_pending()
            event = RecoveryEvent(store.clock(), str(snap.header.county), epoch, n,
                                  {str(log): h.seq for log, h in heads.items()}, drop,
                                  len(again))  # fmt: skip
            recovery.record(event)
            PeerAcks(store.db).settle(sorted({str(old.log), *(str(log) for log in heads)}))
            store.audit(ACTOR, "recover", "node", str(store.node), f"{n} cards from upstream")
            first = store.start_epoch_after(
                latest.epoch, heads[latest].seq, heads[latest].hash, epoch
            )
            done = CarriedOver(first, 0, len(again))
            for kind, rid in _created_here(again):  # never onto the county's card of that id
                done.renamed[rid] = store.new_id(kind)
            write_again(store, again, done)
    except BaseException:
        old.clock.last = saved_hlc
        store.changelog = old
        raise
    if again:
        return (
            f"recovered {n} cards from the county and wrote again the {len(again)} entries "
            f"typed here that it never had; writing on in epoch {epoch}"
        )
    return f"recovered {n} cards from the county; writing on in epoch {epoch}"


def _not_upstream(store: NodeStore, heads: dict[LogId, Head]) -> tuple[int | None, list[Entry]]:
    """Where our open log may stop being upstream, and the entries past it to write
    again: past the last one a parent acknowledged with our hash, where the county's
    head of the log does not show our history runs through it (it holds more than we
    do, or another entry at its head); ``(None, [])`` where it does.

    A replacement PC on which the officer typed cards before recovering writes its own
    history of the dead PC's log (the same log id, other entries): the snapshot replaces
    the records, so what it typed is written again in the new epoch, with new ids, rather
    than lost (carry.py does the same for a PC copied back by hand). A PC whose log the
    county holds through our head with our hash has nothing here."""
    log = store.changelog
    theirs = heads.get(log.log)
    if theirs is None or log.head_seq == 0 or _runs_through(store, theirs):
        return None, []
    kept = agreed_seq(store)
    past = store.entries(kept + 1, log.head_seq)
    return kept, [e for e in past if any(not isinstance(op, EpochStart) for op in _ops(e))]


def _ops(entry: Entry) -> list[Any]:
    return [] if entry.payload is None else list(decode_payload(entry.payload))


def _runs_through(store: NodeStore, theirs: Head) -> bool:
    """Whether our open log holds the county's head of it, with its hash."""
    log = store.changelog
    if theirs.seq == 0:
        return True
    if theirs.seq > log.head_seq:
        return False
    return next(store.entries(theirs.seq, theirs.seq)).hash == theirs.hash


def _created_here(entries: list[Entry]) -> list[tuple[str, str]]:
    """``(kind, id)`` of the records ``entries`` created (a first upsert on no base): on a
    replacement PC the same id names another woman's card in the snapshot."""
    seen: set[tuple[str, str]] = set()
    out = []
    for entry in entries:
        for op in _ops(entry):
            if isinstance(op, Upsert) and (op.kind, op.id) not in seen:
                seen.add((op.kind, op.id))
                if not any(base for _value, base in op.fields.values()):
                    out.append((op.kind, op.id))
    return out


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
    forked = forked_closed(store, heads)
    for epoch, mine in sorted(ours.items()):
        theirs = heads.get(LogId(store.node, epoch))
        same = theirs is not None and theirs.seq == mine.seq and theirs.hash == mine.hash
        if fresh:
            return not same
        if same or (theirs is not None and theirs.seq > mine.seq):
            continue
        if epoch == log.log.epoch and theirs is not None and not _runs_through(store, theirs):
            continue  # another history of our open log: ours is written again (_not_upstream)
        if epoch in forked:
            continue  # and of a closed one (restored before recovering): other_history.py
        held = 0 if theirs is None else theirs.seq
        raise _NotCovered(f"the county holds entry {held} of epoch {epoch}, we hold {mine.seq}")
    return False


def hand_up(r: Round) -> int:
    """Hand every request our children gave us to our parent; how many went.

    A request the parent refuses is dropped with a note, and the refusal is kept: the
    child asks again (the same request) and is told why (recovery_asked.py), so an
    officer whose county holds nothing of the village is not left waiting for cards
    that never come. One the link could not deliver stays for the next round.
    """
    recovery, sent = Recovery(r.store.db), 0
    for rid, node, raw in list(recovery.waiting_requests()):
        refusal: tuple[str, int] | None = None
        try:
            r.link.call("POST", RECOVERY_PATH, raw)
        except SyncFailed as exc:
            if not 400 <= exc.status < 500:
                r.report.notes.append(f"recovery request of {node} not handed up yet: {exc}")
                return sent
            r.report.notes.append(f"the parent refused the recovery request of {node}: {exc.code}")
            if exc.code.startswith("recovery."):  # about the request, not our session
                refusal = (exc.code, exc.status)
        else:
            sent += 1
        with r.store.db.atomic():
            recovery.handed_up(rid)
            if refusal is not None:
                recovery.refused(node, rid, *refusal)
    return sent
