# SPDX-License-Identifier: Apache-2.0
"""Copying a village's changes into the township's review store, before the wrap goes.

A township may open a batch of its villages only until the county acknowledges it
(SPEC.md §6.3.2). The relay calls :func:`take` for each batch just before it takes its
own wrap out (node/sync/relay.py), and ``renkou node review`` calls
:func:`take_readable` for the batches not yet acknowledged, so the review sees a
village's changes as soon as they reach the township and still sees them after the
county has confirmed them. Only what node/review/fields.py lists is kept, only for
changes whose month is inside the review window (node/store/review.py); a change kept
twice (a batch opened by both) is one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from node.review.fields import review_fields, reviewed, subject_of
from node.store.holdings import Holdings
from node.store.review import (
    ADDED,
    MODIFIED,
    RETIRED,
    ReviewChange,
    ReviewStore,
    first_month,
    month_of,
)
from node.store.store import NodeStore
from protocol import (
    Entry,
    Envelope,
    ProtocolError,
    Retire,
    Upsert,
    decode_envelope,
    decode_payload,
    open_envelope,
)
from protocol.clock import COUNTER_BITS

NO_LIMIT = (1 << 63) - 1


def take(store: NodeStore, env: Envelope, now_ms: int) -> int:
    """Copy what the review needs out of ``env``, a village's batch we can still open;
    return how many changes were new. A batch not sealed for us, or one that does not
    open, gives nothing (the relay checked its signatures when it came)."""
    kem = store.identity.kem
    key_id = kem.public_key.key_id
    if key_id not in env.recipient_key_ids:
        return 0
    try:
        entries = open_envelope(env, {key_id: kem})
    except ProtocolError:
        return 0
    changes = list(changes_of(entries, now_ms))
    if not changes:
        return 0
    with store.db.atomic():
        return ReviewStore(store.db).keep(changes, now_ms)


def take_readable(store: NodeStore, now_ms: int) -> int:
    """:func:`take` for every village batch we keep that the county has not yet
    acknowledged (we still hold our wrap in it); return how many changes were new."""
    holdings = Holdings(store.db)
    taken = 0
    for log, _head in holdings.frontier().items():
        for _mid, _first, _last, raw in holdings.readable_through(log, NO_LIMIT):
            taken += take(store, decode_envelope(raw), now_ms)
    return taken


def changes_of(entries: Iterable[Entry], now_ms: int) -> Iterator[ReviewChange]:
    """The reviewed changes in ``entries`` whose month is inside the window at
    ``now_ms``, each reduced to what the review keeps."""
    oldest = first_month(now_ms)
    for entry in entries:
        if entry.payload is None:
            continue  # erased at the end of its retention: nothing to review
        at_ms = entry.hlc >> COUNTER_BITS
        month = month_of(at_ms)
        if month < oldest:
            continue  # a village long offline: its old months are past review
        try:
            ops = decode_payload(entry.payload)
        except ProtocolError:
            continue
        for n, op in enumerate(ops):
            if not isinstance(op, Upsert | Retire) or not reviewed(op.kind):
                continue
            values = {k: v for k, (v, _base) in op.fields.items()} if isinstance(op, Upsert) else {}
            yield ReviewChange(
                village=entry.log.node.code,
                log=str(entry.log),
                seq=entry.seq,
                op=n,
                month=month,
                at_ms=at_ms,
                kind=op.kind,
                record_id=op.id,
                action=_action(op),
                subject=subject_of(op.kind, op.id, values),
                fields={"reason": op.reason}
                if isinstance(op, Retire)
                else review_fields(op.kind, values),
            )


def _action(op: Upsert | Retire) -> str:
    """Retired; added when the write stands on no earlier version of any field it
    writes (a new card), modified otherwise."""
    if isinstance(op, Retire):
        return RETIRED
    return ADDED if all(base == 0 for _value, base in op.fields.values()) else MODIFIED
