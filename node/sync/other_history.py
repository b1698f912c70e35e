# SPDX-License-Identifier: Apache-2.0
"""Closed logs of ours that the county holds another history of, at a recovery (SPEC.md
§8.10).

A replacement PC's first log has the dead PC's log id. If the officer typed cards on it
and the PC was then put back from its own backup (``renkou node restore``) or copied
back by hand before ``renkou node recover``, that log is closed: the restore opened a
new epoch. No sync can put it at the county, which holds the dead PC's entries there,
so a snapshot never covered it and the recovery said 'ask again after a sync' for ever.
The recovery writes what was typed there again in its new epoch, as it does for the open
log (recovered.py ``_not_upstream``), and then forgets those entries: they are not the
village's log, and counted as ours (client.wanted) the state digest would never match
the parent's.

Only a fork we can see is taken for one: the county's head of the log lies within our
entries and its hash is not ours there, or it lies past them and the snapshot's cards
contradict one of our entries. A county head past ours says nothing about our entries by
itself, and the usual case is a PC restored from an old backup, whose closed log is a
prefix of what it sent: those entries must not be written twice.
"""

from __future__ import annotations

from node.store.carry import agreed_seq
from node.store.store import NodeStore
from protocol import Entry, EpochStart, Head, LogId, Upsert, decode_payload
from protocol.recovery import Card


def forked_closed(
    store: NodeStore, heads: dict[LogId, Head], cards: list[Card] | None = None
) -> dict[int, int]:
    """``{epoch: last agreed seq}`` of each closed epoch of ours whose head in ``heads``
    (the county's) lies within our entries with another hash, or past them where the
    snapshot's ``cards`` show one of our entries is not the county's (:func:`_belied`):
    everything past the last entry a parent acknowledged with our hash is another
    history than the county's."""
    log = store.changelog
    out: dict[int, int] = {}
    for epoch, (seq, _hash) in log.closed_heads().items():
        theirs = heads.get(LogId(store.node, epoch))
        if theirs is None or theirs.seq == 0:
            continue
        agreed = agreed_seq(store, epoch, seq)
        if theirs.seq > seq:
            past = list(log.entries(agreed + 1, seq, epoch=epoch))
            if cards is not None and _belied(past, cards):
                out[epoch] = agreed
            continue
        ours = next(log.entries(theirs.seq, theirs.seq, epoch=epoch), None)
        if ours is not None and ours.hash != theirs.hash:
            out[epoch] = agreed
    return out


def _belied(entries: list[Entry], cards: list[Card]) -> bool:
    """Whether the county's cards show that one of ``entries`` (ours, in a log the
    county holds further than we do) is not the entry the county holds at its seq: a
    record it wrote is on no card, or a field the card says that very entry (``"<log
    id>/<seq>"``) last wrote holds another value. A county head past ours says nothing
    of our entries by itself; a replacement PC restored before recovering, with fewer
    entries typed than the dead PC wrote, would lose them to the snapshot unseen. The
    same history always agrees (the cards are made from those entries); an entry whose
    every field was written again later cannot be told, and is taken as the county's."""
    by_id = {(card.kind, card.id): card for card in cards}
    for entry in entries:
        at = f"{entry.log}/{entry.seq}"
        for op in decode_payload(entry.payload) if entry.payload is not None else []:
            if not isinstance(op, Upsert):
                continue
            card = by_id.get((op.kind, op.id))
            if card is None:
                return True
            if any(
                card.versions.get(name) == at and card.data.get(name) != value
                for name, (value, _base) in op.fields.items()
            ):
                return True
    return False


def typed_there(store: NodeStore, forked: dict[int, int]) -> list[Entry]:
    """The entries of the ``forked`` epochs past their agreed seq (up to where each
    closed log ends: a cut's abandoned stretch was written again when it was cut), oldest
    epoch first, epoch starts left out."""
    log = store.changelog
    closed = log.closed_heads()
    out: list[Entry] = []
    for epoch in sorted(forked):
        for entry in log.entries(forked[epoch] + 1, closed[epoch][0], epoch=epoch):
            ops = decode_payload(entry.payload) if entry.payload is not None else []
            if any(not isinstance(op, EpochStart) for op in ops):
                out.append(entry)
    return out


def forget(store: NodeStore, forked: dict[int, int]) -> None:
    """Drop our entries of the ``forked`` epochs past their agreed seq (inside the
    recovery's transaction, once :func:`typed_there`'s were written again)."""
    for epoch, agreed in forked.items():
        store.changelog.forget_past(epoch, agreed)
