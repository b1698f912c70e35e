# SPDX-License-Identifier: Apache-2.0
"""At a relay: where a child's new epoch cut its closed log, and the copies it handed
back that the child therefore writes again instead of sending (SPEC.md §6.5).

A relay keeps each batch it handed back until the child has sent the range again, and
raises an alert when that never happens (node/sync/relay_returns.py): the copy may be
the only one left. But a child whose new epoch cut its log before the copy (a PC put
back by hand, whose officer ran ``new-epoch``) can never send the copy in that log: the
entries between the cut and the copy exist nowhere. It writes the copy's changes again
in its current epoch (node/sync/push.py ``_carry_stranded``), and the relay's copy is
then owed by nobody: kept, it would raise a false alert 35 days later.

The relay learns the cut from the new epoch's first entry (SPEC §3.5: it names the
head the node keeps), which it can open as a recipient of the child's batches, and
keeps it under ``origin_cut:<log>`` in ``node_meta`` (node/store/sync_meta.py). It
forgets a copy by the same rule the child carries one by (node/sync/returned.py
``stranded``), from its own head: a child that reckons from a further head sends the
copy again instead, and the relay takes it in as any batch.
"""

from __future__ import annotations

from sqlite_utils import Database

from node.store.holdings import Holdings
from node.store.sync_meta import SyncMeta
from node.sync import returned
from protocol import (
    Envelope,
    EpochStart,
    KemPrivateKey,
    LogId,
    ProtocolError,
    decode_payload,
    open_envelope,
)

KEY = "origin_cut:{log}"
_ZERO = bytes(32)


def learn(db: Database, env: Envelope, kem: KemPrivateKey) -> None:
    """Keep the cut a child's epoch-opening batch names (none for other batches)."""
    header = env.header
    if header.first_seq != 1 or header.prev_hash == _ZERO:
        return
    try:
        first = open_envelope(env, {kem.public_key.key_id: kem})[0]
    except ProtocolError:
        return  # not sealed for us: the cut stays unknown, the copy is kept (and alerted)
    ops = decode_payload(first.payload) if first.payload is not None else []
    if ops and isinstance(ops[0], EpochStart) and ops[0].prev_epoch > 0:
        start = ops[0]
        closed = LogId(header.log.node, start.prev_epoch)
        meta = SyncMeta(db)
        known = meta.get(KEY.format(log=closed))
        seq = start.prev_seq if known is None else min(int(known), start.prev_seq)
        meta.set(KEY.format(log=closed), str(seq))


def settle(holdings: Holdings, log: LogId, head: int) -> int:
    """Forget the copies of ``log`` handed back that its origin writes again in a later
    epoch (it cut ``log`` before them); ``head`` is what we hold of ``log``. How many."""
    known = SyncMeta(holdings.db).get(KEY.format(log=log))
    if known is None:
        return 0
    _reach, stranded = returned.stranded(holdings, log, max(head, int(known)))
    for message_id, _env in stranded:
        holdings.forget_returned(message_id)
    return len(stranded)
