# SPDX-License-Identifier: Apache-2.0
"""Acknowledgements and refusals, as the sender keeps them (SPEC.md §8.4).

A sender advances its record of a peer only from that peer's signed acknowledgement,
sent after the peer committed (CouchDB's and Tarr's lesson: never from "I sent it").
An acknowledgement is checked before it is kept: signed by the node it names, for the
log we sent, at least through the seq we sent, with our head hash at that seq. One that
fails any of these is refused with :class:`SyncFailed` and nothing is recorded.

A refusal the parent authenticated is kept per (peer, log) in ``sync_rejections`` until
that peer acknowledges the range (node/store/acks.py).
"""

from __future__ import annotations

from node.store.acks import PeerAcks, Rejection
from node.store.outbox import Outbox
from node.sync import delivery
from node.sync.failures import SyncFailed, refusal_code, refusal_reason
from node.sync.round import Round
from protocol import Head, LogId, NodeId, ProtocolError, decode_ack


class AckBook:
    """Verifies and keeps the acknowledgements of one round; records refusals."""

    def __init__(self, round_: Round) -> None:
        self.round = round_
        self.acks = PeerAcks(round_.store.db)

    def record(
        self,
        ack_raw: bytes,
        by: NodeId,
        log: LogId,
        seq: int,
        head: bytes,
        *,
        pass_down: bool = False,
    ) -> None:
        """Verify and keep ``by``'s acknowledgement of ``log`` through ``seq`` or more.

        ``pass_down`` (a relay's forward): the acknowledgement also goes into the child's
        outbox, in the same transaction, so an acknowledgement we keep is always one the
        child will get.

        Raises:
            SyncFailed: it does not verify with ``by``'s key, or it acknowledges another
                log, less than ``seq``, or another head hash at ``seq``.
        """
        r = self.round
        signer = r.parent if by == r.parent.node else r.county
        try:
            ack = decode_ack(ack_raw, signer.verify_key)
        except ProtocolError as exc:
            raise SyncFailed(f"{by}'s acknowledgement does not verify: {exc}") from None
        if ack.by != by or ack.log != log or ack.seq < seq or (ack.seq == seq and ack.head != head):
            raise SyncFailed(f"{by} acknowledged {ack.log} through {ack.seq}, not {log} {seq}")
        with r.store.db.atomic():
            self.keep(ack_raw, str(by), str(log), ack.seq, ack.head)
            if pass_down:
                Outbox(r.store.db).add(str(log.node), ack_raw)
            elif by != r.county.node:  # our log, held by a relay: date it (delivery.py)
                delivery.relay_acknowledged(r.store.db, log, ack.seq, r.now_ms())

    def keep(self, raw: bytes, by: str, log: str, seq: int, head: bytes) -> None:
        """Keep a verified acknowledgement (one further than what we hold wins)."""
        self.acks.keep(raw, by, log, seq, head, self.round.now_ms())

    def parent_head(self, log: LogId) -> Head | None:
        """The parent's acknowledgement of ``log`` that we keep: (seq, head hash)."""
        return self.acks.head(self.round.peer, log)

    def acked(self, log: LogId) -> int:
        """How far the parent's acknowledgement of ``log`` that we keep reaches."""
        head = self.parent_head(log)
        return head.seq if head is not None else 0

    def refused(self, by: NodeId | str, log: LogId, first: int, last: int, exc: SyncFailed) -> bool:
        """Record that ``by`` refused ``log`` first..last; True if that is news."""
        r = self.round
        code = refusal_code(exc)
        r.report.rejected.append(f"{by} refused {log} {first}..{last}: {code}")
        row = Rejection(str(by), str(log), first, last, code, refusal_reason(exc), r.now_ms())
        with r.store.db.atomic():
            return self.acks.record_rejection(row)

    def took_rejection(self, row: Rejection) -> None:
        """A relay told us that its parent refused one of our batches (its word)."""
        self.acks.record_rejection(row)
        self.round.report.rejected.append(
            f"{row.told_by} says {row.peer} refused {row.log} {row.first_seq}..{row.last_seq}:"
            f" {row.code}"
        )
