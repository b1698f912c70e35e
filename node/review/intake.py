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

from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from operator import attrgetter

from node.review.fields import kept_fields, review_fields, reviewed, subject_of
from node.store.holdings import Holdings
from node.store.review import (
    ADDED,
    MODIFIED,
    RETIRED,
    ReviewChange,
    ReviewStore,
    first_month,
    month_of,
    month_start_ms,
)
from node.store.store import NodeStore
from protocol import (
    Entry,
    Envelope,
    LogId,
    ProtocolError,
    Retire,
    Upsert,
    decode_envelope,
    decode_payload,
    open_payloads,
)
from protocol.clock import COUNTER_BITS
from protocol.fast_payload import DECLINED, OpTuple, fast_ops

try:  # pragma: no branch - which one depends on the platform (as protocol.fast_payload)
    from orjson import loads
except ImportError:  # pragma: no cover - PyPy, or a platform without an orjson wheel
    from json import loads  # type: ignore[assignment]  # the same call for bytes

NO_LIMIT = (1 << 63) - 1


def take(store: NodeStore, env: Envelope, now_ms: int, *, checked: bool = False) -> int:
    """Copy what the review needs out of ``env``, a village's batch we can still open;
    return how many changes were new. A batch not sealed for us, one that does not
    open, or one whose newest change is older than the window (its header says so) is
    not opened or gives nothing (the relay checked its signatures when it came).

    ``checked``: the county has acknowledged the batch, so it checked every payload
    strictly when the batch came (SPEC.md §6.7 step 7; the chain rebuilt on opening
    proves these are the entries it checked): the payloads are only parsed
    (:func:`_parsed_ops`), about a fifth of a change's cost here. node/sync/relay.py
    calls this inside the transaction that takes its wrap out of the batch: the copy
    and the wrap's going are one commit."""
    kem = store.identity.kem
    key_id = kem.public_key.key_id
    if key_id not in env.recipient_key_ids:
        return 0
    if env.header.hlc_max >> COUNTER_BITS < month_start_ms(first_month(now_ms)):
        return 0  # a village long offline: nothing of it is still under review
    try:
        hlcs, payloads = open_payloads(env, {key_id: kem})
    except ProtocolError:
        return 0
    header = env.header
    rows = zip(range(header.first_seq, header.last_seq + 1), hlcs, payloads, strict=True)
    changes = list(_changes(header.log, rows, now_ms, _parsed_ops if checked else _ops))
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


def changes_of(
    entries: Iterable[Entry], now_ms: int, ops_of: Callable[[bytes], list[OpTuple]] | None = None
) -> Iterator[ReviewChange]:
    """The reviewed changes in ``entries`` (of one log or more, in order) whose month
    is inside the window at ``now_ms``, each reduced to what the review keeps; payloads
    decoded by ``ops_of`` (:func:`_ops` by default)."""
    for log, run in groupby(entries, attrgetter("log")):
        rows = ((entry.seq, entry.hlc, entry.payload) for entry in run)
        yield from _changes(log, rows, now_ms, _ops if ops_of is None else ops_of)


def _changes(
    log_id: LogId,
    rows: Iterable[tuple[int, int, bytes | None]],
    now_ms: int,
    ops_of: Callable[[bytes], list[OpTuple]],
) -> Iterator[ReviewChange]:
    """:func:`changes_of` for the (seq, clock, payload) of entries of ``log_id``.

    Cheap per entry, as a catch-up of tens of thousands of entries needs: an entry
    older than the window is skipped on its clock alone, a payload is decoded by
    ``ops_of`` (the county's fast path, protocol.fast_payload, the strict decoder only
    where it declines, or :func:`_parsed_ops` for payloads the county has checked), and
    only changes of the reviewed kinds are built."""
    oldest_ms = month_start_ms(first_month(now_ms))
    village, log = log_id.node.code, str(log_id)
    kept: dict[str, frozenset[str]] = {}  # the fields kept, by kind: asked once per kind
    for seq, hlc, payload in rows:
        if payload is None:
            continue  # erased at the end of its retention: nothing to review
        at_ms = hlc >> COUNTER_BITS
        if at_ms < oldest_ms:
            continue  # a village long offline: its old months are past review
        month = month_of(at_ms)
        for n, op in enumerate(ops_of(payload)):
            if not reviewed(op[1]):
                continue
            kind, record_id = op[1], op[2]
            if op[0] == "r":
                yield ReviewChange(
                    village, log, seq, n, month, at_ms, kind, record_id, RETIRED,
                    subject_of(kind, record_id, {}), {"reason": op[3]},
                )  # fmt: skip
                continue
            keep = kept.get(kind)
            if keep is None:
                keep = kept[kind] = kept_fields(kind)
            values = {k: v[0] for k, v in op[3].items()}
            yield ReviewChange(
                village, log, seq, n, month, at_ms, kind, record_id, _action(op),
                subject_of(kind, record_id, values), review_fields(kind, values, keep),
            )  # fmt: skip


def _ops(payload: bytes) -> list[OpTuple]:
    """The upserts and retirements of ``payload`` as protocol.fast_payload's tuples
    (``("u", kind, id, {field: [value, base]}, ...)``, ``("r", kind, id, reason,
    base)``); none when it does not decode."""
    try:
        return fast_ops(payload)
    except DECLINED:
        pass
    try:
        ops = decode_payload(payload)
    except ProtocolError:
        return []
    out: list[OpTuple] = []
    for op in ops:
        if isinstance(op, Upsert):
            out.append(("u", op.kind, op.id, {k: [v, b] for k, (v, b) in op.fields.items()}))
        elif isinstance(op, Retire):
            out.append(("r", op.kind, op.id, op.reason, op.base))
    return out


def _parsed_ops(payload: bytes) -> list[OpTuple]:
    """:func:`_ops` of a payload the county has already checked strictly (SPEC.md §6.7
    step 7): parsed and taken as it is, without the fast path's canonical re-encoding,
    NFC and grammar checks; a payload of another shape (a note, an epoch start) goes to
    :func:`_ops`."""
    try:
        out: list[OpTuple] = []
        for op in loads(payload)["ops"]:
            name = op["op"]
            if name == "upsert":
                out.append(("u", op["kind"], op["id"], op["fields"]))
            elif name == "retire":
                out.append(("r", op["kind"], op["id"], op["reason"], op["base"]))
            else:
                return _ops(payload)
        return out
    except (ValueError, KeyError, TypeError):
        return _ops(payload)


def _action(op: OpTuple) -> str:
    """An upsert's action: added when the write stands on no earlier version of any
    field it writes (a new card), modified otherwise."""
    for _value, base in op[3].values():
        if base != 0:
            return MODIFIED
    return ADDED
