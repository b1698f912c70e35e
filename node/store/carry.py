# SPDX-License-Identifier: Apache-2.0
"""A new epoch that carries over what a stale copy wrote (issue 12 item 1).

A PC put back by hand from an older copy of node.db writes on in the log the lost copy
already continued: its new entries fork that log, and the parent refuses them for good.
Worse, it counts record ids from where the copy stood, so its next card gets the id the
lost period gave another woman (P2 twice). Opening a new epoch after the refusal is not
enough: the forked entries never reach the county, and a birth recorded in the new
epoch for "P2" would be merged onto the other P2.

So the new epoch starts from the last entry of the old log that the parent is known to
hold (its signed acknowledgement, with our hash at that seq: SPEC §3.5, the first entry
names the last head the node keeps), and everything the copy wrote past it is written
again in the new epoch, one entry per abandoned entry (one transaction each, as the
officer made them):

* a record the abandoned stretch created gets a new id (one of the new epoch, which
  carries the epoch and cannot collide), and every ``*_ref`` carried over that names it
  is rewritten, so nothing can point at another person;
* a record that existed before gets the same field changes and retirements again, with
  the base versions this store now holds.

The records table is rebuilt from the log without the abandoned stretch first (the
records are a view of the kept entries: ``ChangeLog.kept_entries``). Entries past the
last acknowledgement that the parent did hold come back as a second copy of the same
card (the county joins people by ID number): a duplicate is visible and mendable, a lost
or misattributed card is not. A sealed field (a complainant's identity) is sealed to
its record id and cannot be opened under a new one: it is left empty and listed, so the
officer enters it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from node.domain.records import SEALED_FIELDS
from node.store.acks import PeerAcks
from node.store.recovery import Recovery
from node.store.restores import RestoreEvent, Restores
from node.store.store import NodeStore
from protocol import Entry, LogId, Note, Op, Retire, Upsert, decode_payload


@dataclass
class CarriedOver:
    """What :func:`start_epoch_carrying` did."""

    entry: Entry
    """The new epoch's first entry."""
    kept: int
    """The last entry of the old log the new epoch continues from."""
    abandoned: int
    """Entries of the old log past ``kept``, each written again in the new epoch."""
    renamed: dict[str, str] = field(default_factory=dict)
    """``old id -> new id`` of the records the abandoned stretch created."""
    unsealed: list[tuple[str, str, str]] = field(default_factory=list)
    """``(kind, new id, field)`` of sealed values that must be entered again."""


def agreed_seq(store: NodeStore, epoch: int | None = None, head: int | None = None) -> int:
    """The furthest entry of our current log (or of our closed ``epoch``, up to its
    ``head``) that a parent acknowledged with the hash we hold there (0 if none):
    everything up to it is surely theirs too."""
    changelog = store.changelog
    log = changelog.log if epoch is None else LogId(changelog.log.node, epoch)
    last = changelog.head_seq if head is None else head
    acks, best = PeerAcks(store.db), 0
    for kept in acks.kept():
        if kept.log != str(log) or kept.seq <= best or kept.seq > last:
            continue
        theirs = acks.head(kept.peer, log)
        ours = next(changelog.entries(kept.seq, kept.seq, epoch=log.epoch), None)
        if theirs is not None and ours is not None and ours.hash == theirs.hash:
            best = kept.seq
    return best


def start_epoch_carrying(store: NodeStore, reason: str, known_epoch: int) -> CarriedOver:
    """Open a new epoch from the last agreed entry and write the rest again in it; keep
    what happened for the status (node/store/restores.py)."""
    old = store.changelog
    kept = agreed_seq(store)
    abandoned = list(store.entries(kept + 1, old.head_seq))
    lost_last = max((r.last_seq for r in PeerAcks(store.db).rejections() if r.log == str(old.log)),
                    default=0)  # fmt: skip
    try:
        with store.bulk():
            if not abandoned:
                done = CarriedOver(store.start_epoch(reason, known_epoch), kept, 0)
            else:
                entry = store.start_epoch(reason, known_epoch, kept=kept)
                _rebuild_records(store)
                done = CarriedOver(entry, kept, len(abandoned))
                write_again(store, abandoned, done)
            how = "fork" if reason == "fork" else "hand_copy"
            event = RestoreEvent(store.clock(), how, done.entry.log.epoch, str(old.log), kept,
                                 max(lost_last, kept), rewritten=len(abandoned))  # fmt: skip
            Restores(store.db).record(event)
    except BaseException:
        store.changelog = old
        raise
    return done


def carry_returned(store: NodeStore, log: LogId, entries: list[Entry]) -> CarriedOver:
    """Write again in the current epoch the entries of a copy the parent handed back that
    can never go up in their closed ``log`` (node/sync/returned.py ``stranded``): they
    are the only copy left of changes the parent confirmed. As for a stale copy's
    writes, records they created get new ids of this epoch, references are renamed and
    sealed values are listed; the officer's status says so (restores.py). The caller
    forgets the copy in the same transaction.

    Entries this store still holds past the log's cut were abandoned and written again
    when the epoch was opened (:func:`start_epoch_carrying`): not twice."""
    held = {e.seq: e.hash for e in store.changelog.entries(entries[0].seq, entries[-1].seq,
                                                            epoch=log.epoch)}  # fmt: skip
    again = [e for e in entries if held.get(e.seq) != e.hash]
    done = CarriedOver(next(store.entries(1, 1)), entries[0].seq - 1, len(again))
    if again:
        write_again(store, again, done)
        seqs = (entries[0].seq, entries[-1].seq)
        Restores(store.db).add_carried(store.clock(), done.entry.log.epoch, str(log), seqs,
                                       len(again))  # fmt: skip
    return done


def write_again(store: NodeStore, entries: list[Entry], done: CarriedOver) -> None:
    """Write the ops of ``entries`` again in the store's current epoch: new ids for the
    records they created, references renamed, sealed values listed in ``done``."""
    for old_entry in entries:
        ops = _carried_ops(store, old_entry, done)
        if ops:
            store.write(ops)


def _rebuild_records(store: NodeStore) -> None:
    """The records as the kept entries make them (the abandoned stretch left out), on
    the cards of a recovery if there was one (node/store/recovery.py)."""
    store.db.execute("DELETE FROM records")
    Recovery(store.db).replay_into(store.db, store.changelog.kept_entries())


def _carried_ops(store: NodeStore, entry: Entry, done: CarriedOver) -> list[Op]:
    """The ops of an abandoned entry, as this store writes them now."""
    if entry.payload is None:
        return []
    out: list[Op] = []
    for op in decode_payload(entry.payload):
        if isinstance(op, Upsert):
            out.append(_carried_upsert(store, op, done))
        elif isinstance(op, Retire):
            rid = done.renamed.get(op.id, op.id)
            if store.record(op.kind, rid) is not None:
                out.append(store.retire_op(op.kind, rid, op.reason))
        elif isinstance(op, Note):
            out.append(op)
    return out


def _carried_upsert(store: NodeStore, op: Upsert, done: CarriedOver) -> Upsert:
    rid = done.renamed.get(op.id, op.id)
    if rid == op.id and store.record(op.kind, op.id) is None:
        rid = done.renamed[op.id] = store.new_id(op.kind)
    values: dict[str, Any] = {}
    for name, (value, _base) in op.fields.items():
        if name.endswith("_ref") and isinstance(value, str):
            value = done.renamed.get(value, value)
        if rid != op.id and name in SEALED_FIELDS.get(op.kind, ()) and value is not None:
            done.unsealed.append((op.kind, rid, name))
            value = None
        values[name] = value
    return store.upsert_op(op.kind, rid, values)
