# SPDX-License-Identifier: Apache-2.0
"""The sync client: one round = compare state, push what the parent lacks, pull the outbox.

A round reads the parent's state (``GET /state``: one request when nothing changed,
SPEC.md §15.5), installs a newer revocation list and the holiday schedules the parent
offers, then runs its jobs
in order, each in its own module:

* push.py: our own log, from the parent's head;
* relay.py: a township's children's envelopes, forwarded up;
* recovered.py: a township's children's recovery requests, handed up;
* intake.py: the parent's outbox (acknowledgements, notices, advisories, snapshots);
* acks.py: every acknowledgement verified and kept, every refusal recorded;
* link.py: the session, the MAC and the retries under all of them.

A ``gap`` (or an overlap, ``bad_chain``) means our view of the parent is stale, e.g. it
restarted from an older copy mid-round: we re-read its state and push from there, at
most ``MAX_RESYNC`` times a round. A refusal of our own log ends the round with
:class:`SyncFailed` after the pull; a refused child's log does not stop the relay.

After restores and lost answers (what tests/sim found):

* a relay holding entries of a child the parent has not acknowledged to it asks for the
  full state even when the digests would agree (relay.py then asks for the ack again);
* the parent's state names its outbox item at our cursor, so an outbox renumbered by a
  restore is read again from the start (intake.py);
* a revoked child's log, which can move no further, counts in a relay's state digest
  at the parent's head (revoked.py), so the pair goes idle again.
* so does a child's log the parent holds further than we do (parent_ahead.py: a relay
  restored from a backup, its child restored too: nobody can give it back to us).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import requests

from node.keys import published
from node.store.holdings import Holdings
from node.store.review import purge_expired
from node.store.store import NodeStore
from node.store.sync_meta import SyncMeta
from node.sync import epochs, recovered, returned, revocations, schedules
from node.sync.acks import AckBook
from node.sync.evidence_kept import keep_wrap_free
from node.sync.failures import SessionFailed, Stale, SyncFailed
from node.sync.intake import Intake
from node.sync.link import ParentLink
from node.sync.parent_ahead import ahead_wanted, remember_ahead
from node.sync.push import OwnLogPush
from node.sync.relay import Relay, cut_expired
from node.sync.renewed import renewed_here
from node.sync.report import RoundReport
from node.sync.revoked import remember_revoked, revoked_wanted, unacknowledged
from node.sync.round import Round
from node.sync.trust import Trust
from protocol import Frontier, Head, ProtocolError, StateAnswer, decode_state, state_digest

__all__ = ["MAX_BATCH_ENTRIES", "RoundReport", "SessionFailed", "SyncClient", "SyncFailed"]

MAX_BATCH_ENTRIES = 2000
"""Entries per batch we push (read at each round, so a test or simulation may set it)."""
MAX_RESYNC = 3
STATE_PATH = "/sync/v1/state"
REVOCATIONS_PATH = "/sync/v1/revocations"
SCHEDULES_PATH = "/sync/v1/schedules"


class SyncClient:
    """Syncs one node's store with its parent at ``url``, a round at a time.

    The session (and the link's connection) lives on between rounds; everything the
    parent holds is read anew each round.
    """

    def __init__(
        self,
        store: NodeStore,
        url: str,
        *,
        now_ms: Callable[[], int] | None = None,
        http: requests.Session | None = None,
        retries: int = 5,
        backoff_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.store = store
        self.now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        trust = Trust.load(store.db, store.data_dir)
        self.link = ParentLink(
            store,
            url,
            trust.own("parent.cert"),
            trust.own("node.cert"),
            now_ms=self.now_ms,
            http=http,
            retries=retries,
            backoff_s=backoff_s,
            sleep=sleep,
            rng=rng,
            timeout_s=timeout_s,
        )
        self.round = Round(store, trust, self.link, self.now_ms)

    @property
    def report(self) -> RoundReport:
        """The report of the round running or last run."""
        return self.round.report

    def sync_round(self) -> RoundReport:
        """Compare, push (re-reading the parent's state after a gap), pull.

        Raises:
            SyncFailed: the parent could not be reached, or it refused our own log
                (recorded in sync_rejections first; ``exc.report`` has the round).
        """
        r = self.round = Round(self.store, self.round.trust, self.link, self.now_ms)
        self.link.traffic = r.report
        published.before_round(r)  # the county's list; never sync with a revoked parent
        renewed_here(r)  # our renewed or rotated certificate, from the county
        acks = AckBook(r)
        intake = Intake(r, acks)
        push, relay = OwnLogPush(r, acks, MAX_BATCH_ENTRIES), Relay(r, acks)
        outbox = 0
        for attempt in range(MAX_RESYNC + 1):
            state = self._read_state(intake)
            if state is None:
                r.report.idle = attempt == 0
                if recovered.hand_up(r):  # a child's request waits even when all else is equal
                    r.report.idle = False
                    intake.pull()
                return self._finish()
            outbox = state.outbox
            self._take_revocations(state.crl)
            self._take_schedules(state.schedules)
            remember_revoked(self.store.db, r.peer, r.trust.crl, state.heads)
            remember_ahead(self.store.db, r.peer, self.store.node, state.heads)
            intake.reset_if_renumbered(state.outbox, state.mark)
            try:
                push.push(state.heads)
                relay.forward(state.heads)
                break
            except Stale as stale:
                r.report.resyncs += 1
                r.report.notes.append(f"re-read the parent's state after: {stale.failure}")
                if attempt == MAX_RESYNC:
                    stale.failure.report = r.report
                    raise stale.failure from None
        if recovered.hand_up(r):  # the county answers into our outbox at once
            intake.pull()
        elif outbox > intake.cursor():
            intake.pull(outbox)
        return self._finish()

    def wanted(self) -> Frontier:
        """What the parent should hold after this round: our log, and a relay's children's.

        A revoked child's log counts at the parent's last reported head once the parent
        holds all of it that it will ever take from us (revoked.revoked_wanted).
        """
        r = self.round
        heads = revoked_wanted(
            self.store.db, r.peer, r.trust.crl, Holdings(self.store.db).frontier()
        )
        ahead_wanted(self.store.db, r.peer, heads)  # children's logs only the parent holds
        for closed, head in epochs.wanted_heads(self.store, r.peer).items():
            heads.set(closed, head)
        log = self.store.changelog
        heads.set(log.log, Head(log.head_seq, log.head_hash))
        return heads

    def _finish(self) -> RoundReport:
        keep_wrap_free(self.store, self.round.now_ms())  # evidence past the limit: no wraps
        r = self.round
        cut_expired(r)  # a relay's confirmed copies past their expiry: headers only
        purge_expired(self.store.db, r.now_ms())  # review changes past the review window
        if r.own_refusal is not None:
            r.own_refusal.report = r.report
            raise r.own_refusal
        return r.report

    def _read_state(self, intake: Intake) -> StateAnswer | None:
        """The parent's view of what we should both hold; None when nothing differs.

        A relay holding a child's entries the parent has not acknowledged to us asks for
        the full state (no ``d``) even if the digests would agree: the parent may hold
        them (it committed, its answer was lost) and the child still needs that ack.
        """
        r = self.round
        cursor = intake.cursor()
        asked = f"c={cursor}"
        # Batches of ours handed back wait to be sent again (node/sync/returned.py).
        handed_back = returned.own_logs(Holdings(self.store.db), self.store.node)
        if not unacknowledged(self.store.db, r.peer, r.trust.crl) and not handed_back:
            asked = f"d={state_digest(self.wanted(), cursor, intake.mark())}&{asked}"
        asked += revocations.state_param(r.trust.crl)
        resp = self.link.call(
            "GET", f"{STATE_PATH}?{asked}{schedules.state_param(SyncMeta(self.store.db))}"
        )
        if resp.status_code == 204:
            return None
        try:
            return decode_state(resp.content)
        except ProtocolError as exc:
            raise SyncFailed(f"the parent's state is not readable: {exc}") from None

    def _take_revocations(self, offered: int) -> None:
        """Fetch and install the parent's revocation list if it offers a newer one
        (node/sync/revocations.py), before anything is pushed or forwarded: a relay then
        stops passing on a revoked child's batches in this very round."""
        r = self.round
        if offered <= revocations.version(r.trust.crl):
            return
        try:
            raw = self.link.call("GET", REVOCATIONS_PATH).content
            r.report.notes.append(revocations.take(self.store.data_dir, raw))
        except ProtocolError as exc:
            r.report.notes.append(
                f"上级的吊销名单无效，未安装 / the parent's revocation list was not installed: "
                f"{exc.code}: {exc}"
            )
            return
        r.reload_trust()

    def _take_schedules(self, digest: str) -> None:
        """Fetch and install the parent's holiday schedules if it holds a set we have
        not taken (node/sync/schedules.py); a bundle that is not readable is a note."""
        meta = SyncMeta(self.store.db)
        if not schedules.offered(meta, digest):
            return
        r = self.round
        try:
            bundle = self.link.call("GET", SCHEDULES_PATH).content
            r.report.notes.extend(schedules.take(self.store.data_dir, meta, digest, bundle))
        except ProtocolError as exc:
            r.report.notes.append(
                f"上级的节假日安排无法读取 / the parent's holiday schedules were not readable: "
                f"{exc.code}: {exc}"
            )
