# SPDX-License-Identifier: Apache-2.0
"""A relay's children: their envelopes forwarded up, the answers passed down.

A township keeps the envelopes its villages send (node/sync/receive.py) and hands each
child's up in order, from the parent's head of that log, re-addressed and hop-signed by
itself with the sealed part untouched (SPEC.md §6.5). The parent's acknowledgement goes
into the child's outbox in the transaction that keeps it. Before a child's batch goes
up, the parent is introduced to the child's certificate (``POST /certs``) unless it is
known to hold it; a parent that lost it answers the batch with ``unknown_certificate``,
and it is introduced again and the batch resent.

A batch the parent refuses (fork, quarantine, bad signature...) is recorded per
(parent, log), and a notice signed with our key goes into the child's outbox
(protocol.notices), so the village's status shows "rejected by county:…: <code>"; a
refused child's log does not stop the others. A refusal that resending the same bytes
cannot cure (the batch is unreadable) makes us forget our copy, so the child sends the
range again, freshly sealed.

After restores and lost answers (what tests/sim found): a relay holding entries of a
child the parent has not acknowledged to it sends the last covered envelope again, so
the parent answers the duplicate with a fresh acknowledgement for the child.

Lost copies heal (issue 12): a relay whose kept envelopes do not run on from the
parent's head (a disk lost one, the PC was put back from a backup, the parent lost
entries we had already forwarded and dropped) cannot hand that log up: every forward
would be a ``gap``, for ever. So it sets its head of that log back to where its kept
envelopes stop running on from the parent's, and forgets the copies beyond; its state
then tells the child, whose acknowledgement from us reaches further, that we lack them,
and the child sends them again from there (push.py). Nothing the child wrote is lost:
the child keeps its whole log, and what it counts as delivered is what the relay's state
shows, not an acknowledgement the relay can no longer honour.

What a township may read of its villages, and for how long (issue 13, item 1; SPEC.md
§6.3.2): it is a recipient of their batches and keeps each one as it came only until the
county has acknowledged it. Then it takes its own wrap out of the copy it keeps
(protocol.without_wrap) and signs the copy as its own hop, so the copy still goes up to a
county restored from a backup (a revoked village cannot send it again) but opens only
for the county and the village; once the copy expires (at most 30 days after the village
sent it, and never handed on after that) only its header stays, for the fork checks.
"""

from __future__ import annotations

from node.review import intake as review
from node.store.certs import PeerCerts
from node.store.holdings import Holdings
from node.store.outbox import Outbox
from node.sync import origin_cuts
from node.sync.acks import AckBook
from node.sync.failures import Stale, SyncFailed, is_refusal, refusal_code, refusal_reason
from node.sync.push import ENVELOPE_TTL_MS, ENVELOPES_PATH
from node.sync.revoked import revoked_through
from node.sync.round import Round
from protocol import (
    Envelope,
    Frontier,
    Head,
    LogId,
    NodeId,
    RejectionNotice,
    address,
    decode_envelope,
    readdress,
    sign_rejection,
    without_wrap,
)

CERTS_PATH = "/sync/v1/certs"
_NOTHING = Head(0, bytes(32))
UNREADABLE = frozenset({"decrypt_failed", "no_recipient", "malformed", "non_canonical"})
"""Refusals of a relayed batch that resending the same bytes cannot cure."""


class Relay:
    """Forwards the children's envelopes for one round."""

    def __init__(self, round_: Round, acks: AckBook) -> None:
        self.round = round_
        self.acks = acks
        self.holdings = Holdings(round_.store.db)
        self.peer_certs = PeerCerts(round_.store.db)
        self.revoked: set[tuple[str, int]] = set()
        """Certificates the parent refused as revoked this round: not offered again."""

    def forward(self, theirs: Frontier) -> None:
        """Hand each child's envelopes up in order, from the parent's head of that log.

        Raises:
            Stale: the parent answered ``gap``: re-read its state.
            SyncFailed: the link failed.
        """
        r = self.round
        revoked = revoked_through(r.trust.crl)
        for log, ours in sorted(self.holdings.frontier().items(), key=lambda item: str(item[0])):
            have = theirs.get(log) or _NOTHING
            have_seq = have.seq
            self.holdings.mark_forwarded_through(log, have_seq, r.now_ms())
            self.holdings.settle_returned(log, min(have_seq, self.acks.acked(log)))
            if ours.seq > have_seq:
                self._forward_log(log, have, ours.seq)
            if self.acks.acked(log) < have_seq and log.node not in revoked:
                self._ask_ack(log, have)  # no forward's ack covered what it holds
            self._unwrap_confirmed(log)
        for log in sorted({log for log, *_ in self.holdings.returned_ranges()}, key=str):
            held = self.holdings.head(log)
            origin_cuts.settle(self.holdings, log, held.seq if held is not None else 0)

    def _unwrap_confirmed(self, log: LogId) -> None:
        """Take our own wrap out of the copies of ``log`` the county has acknowledged
        (SPEC.md §6.3.2); :func:`cut_expired` cuts them to their headers later.

        Only the county's acknowledgement counts: it is the node that opens and merges,
        and it signs only after it committed. Our copy stays (without our wrap) until its
        expiry because a county restored from a backup older than that acknowledgement
        can get the batch again only from us when the village is revoked meanwhile.
        """
        r = self.round
        if r.parent.node != r.county.node:
            return  # our parent is a relay too: its acknowledgement is not the county's
        own = r.store.identity.kem.public_key.key_id
        now = r.now_ms()
        for message_id, _first, _last, raw in self.holdings.readable_through(
            log, self.acks.acked(log)
        ):
            env = decode_envelope(raw)
            if own in env.recipient_key_ids and len(env.wraps) > 1:
                sealed = without_wrap(env, own)
                signing = r.store.identity.signing
                raw = address(
                    sealed, signing, r.store.node, r.parent.node, env.sent_ms, env.expires_ms
                )
            with r.store.db.atomic():  # the review's copy and the wrap going: one commit
                review.take(r.store, env, now, checked=True)  # what the review needs, while we can
                self.holdings.keep_unwrapped(message_id, raw, now)
            r.report.unwrapped += 1

    def _forward_log(self, log: LogId, have: Head, ours: int) -> None:
        """Forward ``log``'s kept envelopes from the parent's head ``have`` up to our
        head ``ours``, in order, while they run on; where they stop running on before
        ``ours``, we lost copies: set our head back (:meth:`_lost`)."""
        reached = have
        for message_id, first, last, raw in self.holdings.envelopes_after(log, have.seq):
            if last <= reached.seq:
                continue  # a second copy of a range already handed up
            if first > reached.seq + 1:
                break  # the copies of reached.seq + 1 .. first - 1 are gone
            if self._expired(raw):
                break  # past the origin's expiry: never handed on as fresh (SPEC §6.5)
            try:
                head = self._forward_one(log, message_id, last, raw)
            except SyncFailed as exc:
                if exc.code == "gap":
                    raise Stale(exc) from None
                if not is_refusal(exc):
                    raise
                self._refused(log, first, last, raw, exc)
                return
            reached = Head(last, head)
        if reached.seq < ours:
            self._lost(log, reached, ours)

    def _lost(self, log: LogId, reached: Head, ours: int) -> None:
        """We hold ``log`` through ``ours`` but can hand it on only to ``reached`` (what
        the parent now holds): a copy past it is lost or past its expiry. Take our head
        back there, so our state shows the child what the parent lacks, and hand the
        copies beyond back to their origin through its outbox (SPEC.md §6.5): we never
        drop a copy the child counts as delivered, because the child may no longer hold
        those entries (a PC restored from an older backup), and only it can send them
        again as fresh. We keep them until it has (or the parent holds the range)."""
        r = self.round
        with r.store.db.atomic():
            returned, dropped = self.holdings.return_from(
                log, reached.seq + 1, reached.hash, r.now_ms()
            )
            outbox = Outbox(r.store.db)
            for raw in returned:
                outbox.add(str(log.node), raw)
        r.report.lost.append(f"{log} {reached.seq + 1}..{ours}")
        r.report.notes.append(
            f"本机无法转交 {log} 第 {reached.seq + 1}..{ours} 条（副本丢失或已过期），已退回到 "
            f"{reached.seq}，{len(returned)} 个副本已退还下级重新发送 / our copies of {log} "
            f"{reached.seq + 1}..{ours} cannot be handed on (lost or expired): our head is back "
            f"at {reached.seq}, {len(returned)} copies handed back to the child to send again "
            f"({dropped} headers dropped)"
        )

    def _ask_ack(self, log: LogId, have: Head) -> None:
        """The parent holds ``log`` through ``have``, beyond the acknowledgement we
        keep: it committed a forward whose answer we never kept (we crashed, the answer
        was lost on every retry). Send again the last envelope it holds; it answers the
        duplicate with a fresh acknowledgement of its head, which goes down to the child.
        Without this the child would never hear that the county has its entries."""
        held = self.holdings.envelopes_through(log, have.seq)
        if not held:
            self._show_child(log, have)  # we hold none of it: the child shows it again
            return
        message_id, first, last, raw = held[-1]
        if self._expired(raw):
            # Past its origin's expiry: not ours to hand on again (SPEC §6.5). Only the
            # origin can send a fresh copy, so it goes back to it, once.
            r = self.round
            with r.store.db.atomic():
                if self.holdings.hand_back(message_id, r.now_ms()):
                    Outbox(r.store.db).add(str(log.node), raw)
                    r.report.notes.append(
                        f"{log} {first}..{last} 的副本已过期，上级尚未确认，已退还下级重新发送 / "
                        f"our copy of {log} {first}..{last} expired before the parent's "
                        "acknowledgement came back: handed back to the child for a fresh one"
                    )
            return
        try:
            self._forward_one(log, message_id, last, raw)
        except SyncFailed as exc:
            if not is_refusal(exc):
                raise
            parent = self.round.parent.node
            self.round.report.notes.append(
                f"{parent} 未再次确认 {log} / {parent} did not acknowledge {log} again: {exc}"
            )

    def _show_child(self, log: LogId, have: Head) -> None:
        """The parent holds our head of ``log`` (``have`` is at or beyond it), but we keep
        no copy of it to send again and never kept the parent's acknowledgement (the
        copies were lost, slow seeds 3239 and 3336). We would ask the full state at every
        round for an acknowledgement nothing can bring: the pair was never idle, and the
        child never heard that the county holds those entries.

        So our head goes back to our last kept acknowledgement (SPEC.md §6.5, as for
        lost copies the parent lacks): our state shows the child what we no longer hold,
        the child sends it again, we hand it up, and the parent answers the duplicate
        with the acknowledgement the child is waiting for. A child that no longer holds
        the entries (its PC restored from before them) sends nothing: the parent alone
        holds them, and the log counts at its head in our state digest (parent_ahead.py).
        Where the parent lacks our head, the forward found the copies lost (:meth:`_lost`).
        """
        ours = self.holdings.head(log)
        acked = self.acks.parent_head(log) or _NOTHING
        if ours is None or ours.seq <= acked.seq:
            return  # nothing of ours beyond the acknowledgement we keep
        if ours.seq > have.seq or (ours.seq == have.seq and ours.hash != have.hash):
            return  # the parent lacks our head: never ours to take back here
        self._lost(log, acked, ours.seq)

    def _expired(self, raw: bytes) -> bool:
        """Is a kept envelope past the expiry its sender signed?"""
        return decode_envelope(raw).expires_ms <= self.round.now_ms()

    def _forward_one(self, log: LogId, message_id: bytes, last: int, raw: bytes) -> bytes:
        """Hand one kept envelope up; the head hash its batch ends with."""
        r = self.round
        env = decode_envelope(raw)
        self._introduce(log.node, env.header.cert_serial)
        try:
            ack_raw = self._post_up(env)
        except SyncFailed as exc:
            # The parent lost the origin's certificate (restored from a backup) though
            # we introduced it earlier: introduce it again and resend, once.
            if exc.code not in ("bad_certificate", "unknown_certificate") or not is_refusal(exc):
                raise
            with r.store.db.atomic():
                self.peer_certs.forget(r.peer, str(log.node), env.header.cert_serial)
            self._introduce(log.node, env.header.cert_serial, again=True)
            ack_raw = self._post_up(env)
        self.acks.record(ack_raw, r.parent.node, log, last, env.header.head_hash, pass_down=True)
        with r.store.db.atomic():
            self.holdings.mark_forwarded(message_id, r.now_ms())
        r.report.forwarded_envelopes += 1
        return env.header.head_hash

    def _post_up(self, env: Envelope) -> bytes:
        """Readdress a child's envelope to the parent and post it; the parent's ack.

        Its expiry is never later than the child's (SPEC.md §6.5): we cannot keep a
        batch back and hand it on as fresh."""
        r = self.round
        now = r.now_ms()
        expires = min(env.expires_ms, now + ENVELOPE_TTL_MS)
        up = readdress(env, r.store.identity.signing, r.store.node, r.parent.node, now, expires)
        return bytes(r.link.call("POST", ENVELOPES_PATH, up).content)

    def _refused(self, log: LogId, first: int, last: int, raw: bytes, exc: SyncFailed) -> None:
        """The parent refused a child's batch: record it, tell the child, maybe resend."""
        r = self.round
        if self.acks.refused(r.parent.node, log, first, last, exc):
            notice = RejectionNotice(
                r.parent.node,
                r.store.node,
                log,
                first,
                last,
                refusal_code(exc),
                refusal_reason(exc),
                r.now_ms(),
            )
            with r.store.db.atomic():
                signed = sign_rejection(notice, r.store.identity.signing)
                Outbox(r.store.db).add(str(log.node), signed)
        if exc.code in UNREADABLE:
            prev_hash = decode_envelope(raw).header.prev_hash
            dropped = self.holdings.drop_from(log, first, prev_hash, r.now_ms())
            r.report.notes.append(
                f"dropped {dropped} unreadable envelope(s) of {log} from seq {first}; "
                "the child will send them again"
            )

    def _introduce(self, node: NodeId, serial: int, *, again: bool = False) -> None:
        """Hand the parent a child's certificate unless it is known to hold it
        (PeerCerts), or ``again`` (it said it does not: restored from a backup).

        The parent refuses to be introduced to a revoked certificate, but it may still
        take that node's batches up to ``valid_through`` (after a restore of the parent
        from a backup, say): the batch itself is sent, and the parent judges it.
        """
        r = self.round
        peer = r.peer
        known = self.peer_certs.holds(peer, str(node), serial)
        if (str(node), serial) in self.revoked or (known and not again):
            return
        cert = r.trust.certificate(node, serial)
        try:
            r.link.call("POST", CERTS_PATH, cert.raw)
        except SyncFailed as exc:
            if exc.code != "revoked" or not is_refusal(exc):
                raise
            r.report.notes.append(
                f"{r.parent.node} 不接受 {node} 已吊销的证书，仍发送其批次由上级判定 / "
                f"{r.parent.node} did not take {node}'s revoked certificate; its batches "
                f"are still sent for the parent to judge: {exc}"
            )
            self.revoked.add((str(node), serial))
            return
        with r.store.db.atomic():
            self.peer_certs.note(peer, str(node), serial, r.now_ms())


def cut_expired(round_: Round) -> None:
    """At the end of every round, idle ones too: the copies we no longer open (see
    :meth:`Relay._unwrap_confirmed`) that are past their expiry keep only their headers;
    nothing would ever hand them on again (SPEC.md §6.5).

    When this round took a wrap out or cut a copy, the old bytes still sit in the WAL's
    frames until SQLite happens to overwrite them: they are written into the database
    (where secure_delete zeroes the freed pages) and the WAL is emptied now.
    """
    holdings = Holdings(round_.store.db)
    with round_.store.db.atomic():
        cut = holdings.cut_expired(round_.now_ms())
    if cut or round_.report.unwrapped:
        holdings.flush_freed()
