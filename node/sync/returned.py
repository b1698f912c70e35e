# SPDX-License-Identifier: Apache-2.0
"""Our own batches a relay handed back, and sending them again (SPEC.md §6.5).

A township that cannot hand one of our batches on (its copy expired while the county
was out of reach, or a copy before it was lost) does not drop it: it puts the envelope
we sent it, as we sent it, into our outbox, and takes its head back. We may no longer
hold those entries (this PC was restored from a backup older than the batch, or copied
back by hand): then the returned copy is the only one left of entries the township
acknowledged to us. So we check that it is ours (our own origin signature; it opens
with our escrow key and its entries chain to the signed head), keep it, and send its
entries again once, signed anew with fresh times and sealed anew (the same message
id), under our own hop with a fresh expiry: when the township's head runs on to it, or
at once when the township still counts the range as held (its copy expired before the
county's acknowledgement came back, so it needs a fresh copy to get one). Until then
our round is never idle (client.py leaves the state digest out).

The entries go up in the log and at the seqs they were written at, exactly as they
would have had the township handed them on in time: nothing is renamed, duplicated or
re-recorded, and the county merges them once. The expiry still bounds what a relay can
do: only the origin renews it, and only for its own signed batch.
"""

from __future__ import annotations

from node.store.holdings import Holdings
from node.sync.round import Round
from protocol import Entry, Envelope, Head, LogId, NodeId, decode_envelope, open_envelope


def is_own(raw: bytes, node: NodeId) -> bool:
    """Is the envelope ``raw`` (an outbox item) a batch of our own log handed back?"""
    return decode_envelope(raw).header.log.node == node


def opened(r: Round, env: Envelope) -> list[Entry]:
    """The entries of a returned batch of ours, after checking it is what we signed.

    Raises:
        ProtocolError: not signed by us, not sealed for our escrow key, or its entries
            do not chain to the head we signed.
    """
    store = r.store
    cert = r.trust.certificate(store.node, env.header.cert_serial)
    env.verify_batch(cert.verify_key)
    kem = store.identity.kem
    return open_envelope(env, {kem.public_key.key_id: kem})


def take(r: Round, raw: bytes) -> str:
    """Take a batch of ours the parent handed back, to send it again once.

    Raises:
        ProtocolError: it is not a batch of ours (see :func:`opened`).
    """
    store = r.store
    env = decode_envelope(raw)
    header = env.header
    opened(r, env)
    Holdings(store.db).keep_returned(env.message_id, header, raw, r.now_ms())
    ours = next(store.changelog.entries(header.last_seq, header.last_seq,
                                        epoch=header.log.epoch), None)  # fmt: skip
    span = f"{header.log} {header.first_seq}..{header.last_seq}"
    if ours is not None and ours.hash == header.head_hash:
        return (
            f"上级退还了 {span}（其副本已过期），本机将重新发送 / the parent handed back "
            f"{span} (its copy expired): we send it again"
        )
    return (
        f"上级退还了 {span}（本机已没有这些记录），本机将重新发送这批记录 / the parent handed "
        f"back {span}, entries this store no longer holds: we send them again"
    )


def due(holdings: Holdings, log: LogId, head: Head) -> list[tuple[bytes, Envelope]]:
    """The returned copies of ``log`` to send now, the parent's head being ``head``,
    in order, with their message ids: those the parent holds already (its copy expired
    before its parent acknowledged it: a fresh one gets it that acknowledgement), those
    that run on from ``head``, and those that run across it.

    A copy runs across the head when this PC, restored, first sent the part of its own
    log it still holds (slow seed 3814): the parent then holds the copy's first entries
    from us, and only :func:`beyond` can tell, once the copy is open, whether they are
    the same ones."""
    out = []
    for message_id, first, last, raw in holdings.returned_copies(log):
        env = decode_envelope(raw)
        if last <= head.seq:
            out.append((message_id, env))
        elif first <= head.seq or (
            # an epoch's first entry chains from the epoch before, which is another log
            first == head.seq + 1 and (head.seq == 0 or env.header.prev_hash == head.hash)
        ):
            out.append((message_id, env))
            head = Head(last, env.header.head_hash)
    return out


def beyond(entries: list[Entry], head: Head) -> list[Entry] | None:
    """What to send of a returned copy's ``entries``, the parent's head being ``head``:
    all of it when it lies at or below the head (a fresh copy for a fresh
    acknowledgement) or runs on from it; only the entries after the head when it runs
    across it, and None when the parent's entry there is not the copy's (the copy does
    not continue what the parent holds, so sending it would only be refused as a fork).
    """
    first, last = entries[0].seq, entries[-1].seq
    if last <= head.seq or first > head.seq:
        return entries
    if entries[head.seq - first].hash != head.hash:
        return None
    return entries[head.seq - first + 1 :]


def stranded(
    holdings: Holdings, log: LogId, reach: int
) -> tuple[int, list[tuple[bytes, Envelope]]]:
    """The returned copies of a closed ``log`` that can never go up in it, in order, and
    the furthest the parent can hold of ``log`` before them.

    ``reach`` is the furthest the parent can ever hold of ``log`` from what it and we
    have: the further of its head and the closed log's own end (its cut). Only we write
    our log, and a closed one never grows, so a copy starting past ``reach + 1`` (after
    any copies that continue it) waits for entries nobody will send (slow seed 3261:
    the relay lost 2..5, this PC was copied back by hand from before them, and its new
    epoch cut the log at 1; 6..10 came back). Such a copy is the only one left of
    changes the relay confirmed: it is written again in the current epoch
    (node/store/carry.py ``carry_returned``)."""
    out = []
    for message_id, first, last, raw in holdings.returned_copies(log):
        if first > reach + 1:
            out.append((message_id, decode_envelope(raw)))
        elif not out:
            reach = max(reach, last)
    return reach, out


def own_logs(holdings: Holdings, node: NodeId) -> set[LogId]:
    """Our logs of which we keep returned copies."""
    return {log for log, *_ in holdings.returned_ranges() if log.node == node}
