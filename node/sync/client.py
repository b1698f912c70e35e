# SPDX-License-Identifier: Apache-2.0
"""The sync client: one round = compare state, push what the parent lacks, pull the outbox.

Built for bad links: every request is idempotent (a re-sent batch is a duplicate the
parent acknowledges again), progress is recorded only from the parent's signed
acknowledgement, so a dropped link costs at most the batch in flight, and retries back
off exponentially with jitter so a township's villages do not hammer it in step.

What the parent holds decides what is sent, never what we believe we sent: our own log
is pushed from the parent's head, and a relay forwards each child's envelopes from the
parent's head of that log (so a parent restored from a backup gets everything again).
A ``gap`` (or an overlap, ``bad_chain``) means our view of the parent is stale, e.g. it
restarted from an older copy mid-round: we re-read its state and push from there, at
most ``MAX_RESYNC`` times a round.

After restores and lost answers (what tests/sim found):

* a relay holding entries of a child the parent has not acknowledged to it asks for the
  full state even when the digests would agree, and if the parent already holds them
  (it committed, the answer was lost) sends the last covered envelope again: the
  parent answers the duplicate with a fresh acknowledgement, which goes down to the
  child (an acknowledgement we keep is always also in the child's outbox);
* a relay restored from a backup may forward a batch that overlaps the county's head:
  the county takes the part beyond its head when the rest matches (SPEC.md §9.2);
* a ``401 replay`` answers a request the link delivered twice: it is sent again with a
  fresh counter (or hello);
* certificates are introduced again every round (the parent may have been restored);
* the parent's state names its outbox item at our cursor: a parent restored from a
  backup numbers new items over ones we read, and we read its outbox from the start;
* a revoked child's log, which can move no further, counts in a relay's state digest
  at the parent's head (holdings.revoked_wanted), so the pair goes idle again.

Refusals travel back. A batch the parent refuses (fork, quarantine, bad signature...) is
recorded per (peer, log) in ``sync_rejections`` (holdings.py) until that peer
acknowledges the range; a relay whose parent refuses a child's batch records it too and
puts a notice signed with its own key into the child's outbox, so the village's
``renkou node status`` shows "rejected by county:…: <code>". A refusal of our own log
ends the round with :class:`SyncFailed` after the pull; a refused child's log does not
stop the relay from forwarding the others.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from node import advisories
from node.store.store import NodeStore
from node.sync import epochs, holdings, outcomes, revocations
from node.sync.holdings import Rejection
from node.sync.trust import Trust
from protocol import (
    Entry,
    Envelope,
    Frontier,
    Head,
    KemPublicKey,
    LogId,
    MalformedError,
    NodeId,
    OutboxItem,
    ProtocolError,
    RejectionNotice,
    SessionRequest,
    SignatureError,
    address,
    check_mac,
    decode_ack,
    decode_envelope,
    decode_outbox_page,
    decode_rejection,
    decode_session_answer,
    decode_signed,
    decode_state,
    encode_session_request,
    item_mark,
    mac,
    make_hello,
    open_welcome,
    readdress,
    rejection_code,
    rejection_reason,
    seal_batch,
    sign_batch,
    sign_rejection,
    state_digest,
)

MAX_BATCH_ENTRIES = 2000
MAX_BATCH_BYTES = 1 << 20
ENVELOPE_TTL_MS = 7 * 86_400_000
MAX_RESYNC = 3

# Refusals of a relayed batch that resending the same bytes cannot cure: the relay
# forgets its copy so the child sends the range again, freshly sealed.
UNREADABLE = frozenset({"decrypt_failed", "no_recipient", "malformed", "non_canonical"})


class SyncFailed(Exception):
    """The parent refused something or could not be reached after every retry.

    ``detail`` is the parent's JSON error body (``{ok, status, code, zh, en, …}``) when
    there was one; ``authenticated`` says whether that answer carried a valid session
    MAC (only authenticated refusals are recorded as the parent's word).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        detail: dict[str, Any] | None = None,
        authenticated: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail or {}
        self.authenticated = authenticated
        self.report: RoundReport | None = None


class SessionFailed(SyncFailed):
    """The handshake itself was refused or failed: nothing about any one batch."""


class _Stale(Exception):
    """The parent's answer says our view of its state is out of date: re-read it."""

    def __init__(self, failure: SyncFailed) -> None:
        super().__init__(str(failure))
        self.failure = failure


@dataclass
class RoundReport:
    idle: bool = False
    pushed_entries: int = 0
    forwarded_envelopes: int = 0
    pulled: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    requests: int = 0
    resyncs: int = 0
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class SyncClient:
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
        self.url = url.rstrip("/")
        self.now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self.http = http or requests.Session()
        self.retries, self.backoff_s, self.sleep = retries, backoff_s, sleep
        self.rng = rng or random.Random()
        self.timeout_s = timeout_s
        self.trust = Trust.load(store.db, store.data_dir)
        self.parent = self.trust.own("parent.cert")
        self.county = self.trust.own("county.cert")
        self.own_cert = self.trust.own("node.cert")
        self.session: tuple[str, bytes] | None = None
        self.counter = 0
        self.introduced: set[tuple[str, int]] = set()
        self.report = RoundReport()
        self.own_refusal: SyncFailed | None = None
        self.crl_offered = 0  # the revocation list version the parent's state offers

    # -- transport ---------------------------------------------------------------------

    def _send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> requests.Response | None:
        """One HTTP exchange; None when the link failed (the caller retries)."""
        try:
            resp = self.http.request(
                method, self.url + path, data=body, headers=headers, timeout=self.timeout_s
            )
        except requests.RequestException:
            return None
        self.report.requests += 1
        self.report.bytes_sent += len(body)
        self.report.bytes_received += len(resp.content)
        return resp

    def _backoff(self, attempt: int) -> None:
        """Exponential backoff with jitter, so a town's villages do not retry in step."""
        self.sleep(min(30.0, self.backoff_s * 2**attempt) * self.rng.uniform(0.5, 1.5))

    def _open_session(self) -> None:
        hello = make_hello(
            self.store.identity.signing, self.store.node, self.parent.node, self.now_ms()
        )
        request = encode_session_request(SessionRequest(hello, self.own_cert.raw))
        resp = self._send("POST", "/sync/v1/session", request, {})
        if resp is None:
            raise SessionFailed("parent unreachable")
        if resp.status_code != 200:
            raise _failure(resp, SessionFailed)
        try:
            answer = decode_session_answer(resp.content)
            if answer.certificate is not None and answer.certificate != self.parent.raw:
                raise SessionFailed("the parent answered with another certificate than enrolled")
            welcome = open_welcome(
                answer.welcome, hello, self.store.identity.kem, self.parent.verify_key
            )
        except ProtocolError as exc:
            raise SessionFailed(
                f"the parent's welcome is not valid: {exc}", code=str(exc.code)
            ) from None
        self.session, self.counter = (welcome.session_id, welcome.key), 0

    def call(self, method: str, path: str, body: bytes = b"") -> requests.Response:
        """An authenticated request, retried on lost links and 5xx with a fresh counter.

        Every request we send is idempotent at the parent, so resending after a lost
        answer is safe. A 401 ``no_session`` means the parent forgot our session (it
        restarted): we open a new one and resend at once. A 401 ``replay`` is the answer
        to a second delivery of a request (or hello) the link duplicated: the first one
        was handled, its answer is lost, so we resend with a fresh counter (or hello).
        That answer carries no MAC, so a forger could send it too; all it gains is a
        resend of an idempotent request, at most ``retries`` times.
        """
        for attempt in range(self.retries + 1):
            try:
                if self.session is None:
                    self._open_session()
            except SyncFailed as exc:
                replayed = exc.code == "replay"
                if (exc.status is not None and exc.status < 500 and not replayed) or (
                    attempt == self.retries
                ):
                    raise
                if not replayed:
                    self._backoff(attempt)
                continue
            assert self.session is not None
            sid, key = self.session
            self.counter += 1
            counter = self.counter
            headers = {
                "X-Rk-Session": sid,
                "X-Rk-Counter": str(counter),
                "X-Rk-Mac": mac(key, "req", method, path, counter, body),
            }
            resp = self._send(method, path, body, headers)
            code = _code(resp) if resp is not None else ""
            lost, replayed = code == "no_session", code == "replay"
            if resp is None or resp.status_code >= 500 or lost or replayed:
                if lost:
                    self.session = None
                if attempt == self.retries:
                    raise _failure(resp) if resp is not None else SyncFailed("parent unreachable")
                if not (lost or replayed):
                    self._backoff(attempt)
                continue
            authentic = _authentic(resp, key, method, path, counter)
            if resp.status_code >= 400:
                failure = _failure(resp)
                failure.authenticated = authentic
                raise failure
            if not authentic:
                raise SyncFailed("the parent's answer failed authentication")
            return resp
        raise AssertionError("unreachable")

    # -- one round ---------------------------------------------------------------------

    def wanted(self) -> Frontier:
        """What the parent should hold after this round: our log, and a relay's children's.

        A revoked child's log counts at the parent's last reported head once the parent
        holds all of it that it will ever take from us (holdings.revoked_wanted): nothing
        more can flow either way, and the round is idle again.
        """
        log = self.store.changelog
        peer = str(self.parent.node)
        heads = holdings.revoked_wanted(
            self.store.db, peer, self.trust.crl, holdings.frontier(self.store.db)
        )
        for closed, head in epochs.wanted_heads(self.store, peer).items():
            heads.set(closed, head)
        heads.set(log.log, Head(log.head_seq, log.head_hash))
        return heads

    def cursor(self) -> int:
        row = self.store.db.execute(
            "SELECT n FROM inbox_cursor WHERE peer = ?", [str(self.parent.node)]
        ).fetchone()
        return int(row[0]) if row else 0

    def _reset_inbox_if_renumbered(self, outbox: int, mark: str | None) -> None:
        """Start reading the parent's outbox again from 1 if it is not the one we read.

        A parent restored from an old backup numbers its outbox from where the backup
        left it, below our cursor: reading on from the cursor would skip (or never
        see) what it puts there now. We notice it from the outbox's size below our
        cursor, or from the item at our cursor (``mark``, its hash as the parent
        reports it) not being the last one we took. Taking an item twice is harmless
        (an acknowledgement is kept only if it is newer), so we read everything again.
        """
        peer = str(self.parent.node)
        cursor, mine = self.cursor(), holdings.inbox_mark(self.store.db, peer)
        if cursor == 0:
            return
        if mark is not None and not mine:  # taken before marks were kept: adopt it
            if mark:
                holdings.set_inbox(self.store.db, peer, cursor, mark)
            mine = mark
        if outbox >= cursor and (mark is None or mark == mine):
            return
        with self.store.db.atomic():
            holdings.set_inbox(self.store.db, peer, 0, "")
        self.report.notes.append(
            f"上级的发件箱已重新编号（有 {outbox} 条，本机已读到 {cursor}），从头重新读取 / "
            f"the parent's outbox was renumbered ({outbox} items, we had read {cursor}): "
            "reading it again from the start"
        )

    def sync_round(self) -> RoundReport:
        """Compare, push (re-reading the parent's state after a gap), pull.

        Raises:
            SyncFailed: the parent could not be reached, or it refused our own log
                (recorded in sync_rejections first; ``exc.report`` has the round).
        """
        self.report = RoundReport()
        self.own_refusal = None
        # What the parent knows of certificates is re-learned every round: it may have
        # been restored from a backup that never saw them (a kept client would
        # otherwise never introduce them again).
        self.introduced.clear()
        outbox = 0
        for attempt in range(MAX_RESYNC + 1):
            state = self._read_state()
            if state is None:
                self.report.idle = attempt == 0
                return self._finish()
            theirs, outbox, mark = state
            self._take_revocations()
            holdings.remember_revoked(self.store.db, str(self.parent.node), self.trust.crl, theirs)
            self._reset_inbox_if_renumbered(outbox, mark)
            try:
                self._push_own(theirs)
                self._forward(theirs)
                break
            except _Stale as stale:
                self.report.resyncs += 1
                self.report.notes.append(f"re-read the parent's state after: {stale.failure}")
                if attempt == MAX_RESYNC:
                    stale.failure.report = self.report
                    raise stale.failure from None
        if outbox > self.cursor():
            self._pull(outbox)
        return self._finish()

    def _finish(self) -> RoundReport:
        if self.own_refusal is not None:
            self.own_refusal.report = self.report
            raise self.own_refusal
        return self.report

    def _read_state(self) -> tuple[Frontier, int, str | None] | None:
        """The parent's view of what we should both hold, its outbox's size and the mark
        of its outbox item at our cursor (None if it sent none); None when nothing
        differs."""
        peer, cursor = str(self.parent.node), self.cursor()
        digest = state_digest(self.wanted(), cursor, holdings.inbox_mark(self.store.db, peer))
        if holdings.unacknowledged(self.store.db, peer, self.trust.crl):
            # A relay holds a child's entries the parent has not acknowledged to us:
            # even if the parent holds them (it committed, its answer was lost), the
            # child needs that acknowledgement, and _forward asks for it. Equal
            # digests would hide this, so ask for the full state.
            digest = ""
        crl = revocations.state_param(self.trust.crl)
        asked = f"d={digest}&" if digest else ""
        resp = self.call("GET", f"/sync/v1/state?{asked}c={cursor}{crl}")
        if resp.status_code == 204:
            return None
        try:
            state = decode_state(resp.content)
        except ProtocolError as exc:
            raise SyncFailed(f"the parent's state is not readable: {exc}") from None
        self.crl_offered = state.crl
        return state.heads, state.outbox, state.mark

    # -- our own log ---------------------------------------------------------------------

    def _push_own(self, theirs: Frontier) -> None:
        closed = epochs.closed_heads(self.store)
        epochs.remember(self.store.db, str(self.parent.node), theirs, self.store.changelog.log)
        for old, ours in closed.items():
            have = theirs.get(old) or Head(0, bytes(32))
            if have.seq < ours.seq and self._parent_agrees(have, old.epoch):
                self._push_log(have.seq + 1, ours.seq, old.epoch)
        log = self.store.changelog
        have = theirs.get(log.log) or Head(0, bytes(32))
        if have.seq > log.head_seq and self._confirmed_through(log.head_seq):
            self._open_new_epoch(theirs, have)
            log = self.store.changelog
            have = Head(0, bytes(32))
        if self._parent_agrees(have):
            self._push_log(have.seq + 1, log.head_seq)

    def _confirmed_through(self, seq: int) -> bool:
        """Did the parent sign an acknowledgement of our current log at ``seq``, with the
        hash we hold there? Then everything we hold is a prefix of what it holds."""
        if seq == 0:
            return True
        acked = self._parent_ack(self.store.changelog.log)
        return acked == (seq, next(self.store.entries(seq, seq)).hash)

    def _open_new_epoch(self, theirs: Frontier, have: Head) -> None:
        """The parent holds more of our log than this store, and all we hold it has
        acknowledged: this is an old copy (a PC restored by copying node.db back). Writing
        on in this log would fork it, so a new epoch starts (SPEC §3.5) and we go on."""
        old = self.store.changelog.log
        known = max((log.epoch for log, _ in theirs.items() if log.node == old.node), default=0)
        entry = self.store.start_epoch("restore", known)
        self.report.notes.append(
            f"本机数据比上级保存的旧（{old} 上级有 {have.seq} 条），已开始新的日志周期 "
            f"{entry.log.epoch} / this store is older than the parent's copy of {old} "
            f"(it holds {have.seq}): started epoch {entry.log.epoch}"
        )

    def _push_log(self, start: int, last: int, epoch: int | None = None) -> None:
        """Push entries ``start..last`` of our current log (or of a closed ``epoch``)."""
        log = self.store.changelog.log if epoch is None else LogId(self.store.node, epoch)
        while start <= last:
            chunk = self._chunk(start, epoch)
            try:
                self._push_batch(chunk)
            except SyncFailed as exc:
                if exc.code in ("gap", "bad_chain"):
                    raise _Stale(exc) from None
                if not _refusal(exc):
                    raise
                self._refused(self.parent.node, log, chunk[0].seq, chunk[-1].seq, exc)
                self.own_refusal = exc
                return
            start = chunk[-1].seq + 1

    def _parent_agrees(self, have: Head, epoch: int | None = None) -> bool:
        """Does the parent hold our own history? If not we were restored or forked.

        A parent holding more of our log than we have, or another hash at its head, means
        this store is an old copy (restored from a backup) or the log forked; pushing
        cannot mend that (the administrator starts a new epoch), so we record it and
        push only when a push lets the parent record the fork itself.
        """
        log = self.store.changelog
        if have.seq == 0:
            return True
        if epoch is not None:  # a closed log: the parent may hold more; only a fork matters
            ours = next(self.store.changelog.entries(have.seq, have.seq, epoch=epoch), None)
            return ours is not None and ours.hash == have.hash
        if have.seq > log.head_seq:
            problem = SyncFailed(
                f"the parent holds our log {log.log} through seq {have.seq} but this store "
                f"only has {log.head_seq}: it was restored from an old copy; the "
                "administrator runs `renkou node new-epoch --reason restore --yes`",
                code="behind_parent",
            )
            self._refused(self.parent.node, log.log, log.head_seq + 1, have.seq, problem)
            self.own_refusal = problem
            return False
        if next(self.store.entries(have.seq, have.seq)).hash == have.hash:
            return True
        problem = SyncFailed(
            f"the parent holds another entry {have.seq} of our log {log.log} (fork); the "
            "administrator runs `renkou node new-epoch --reason fork --yes`",
            code="fork",
        )
        self._refused(self.parent.node, log.log, have.seq, have.seq, problem)
        self.own_refusal = problem
        return have.seq < log.head_seq  # a push lets the parent see and record the fork

    def _chunk(self, start: int, epoch: int | None = None) -> list[Entry]:
        out: list[Entry] = []
        size = 0
        last = start + MAX_BATCH_ENTRIES - 1
        for entry in self.store.changelog.entries(start, last, epoch=epoch):
            size += entry.payload_len
            if out and size > MAX_BATCH_BYTES:
                break
            out.append(entry)
        return out

    def _recipients(self) -> list[KemPublicKey]:
        keys = {c.kem_key.key_id: c.kem_key for c in (self.parent, self.county)}
        own = self.store.identity.kem.public_key
        keys[own.key_id] = own  # escrow: the node can restore its own log from upstream
        return list(keys.values())

    def _push_batch(self, chunk: list[Entry]) -> None:
        header, sig = sign_batch(chunk, self.store.identity.signing, self.own_cert.serial)
        sealed = seal_batch(chunk, header, sig, self._recipients())
        now = self.now_ms()
        raw = address(
            sealed,
            self.store.identity.signing,
            self.store.node,
            self.parent.node,
            now,
            now + ENVELOPE_TTL_MS,
        )
        ack_raw = self.call("POST", "/sync/v1/envelopes", raw).content
        self._record_ack(ack_raw, self.parent.node, header.log, header.last_seq, header.head_hash)
        self.report.pushed_entries += len(chunk)

    def _record_ack(
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
        child will get; _forward asks again for any the parent holds beyond what we keep.
        """
        signer = self.parent if by == self.parent.node else self.county
        try:
            ack = decode_ack(ack_raw, signer.verify_key)
        except ProtocolError as exc:
            raise SyncFailed(f"{by}'s acknowledgement does not verify: {exc}") from None
        if ack.by != by or ack.log != log or ack.seq < seq or (ack.seq == seq and ack.head != head):
            raise SyncFailed(f"{by} acknowledged {ack.log} through {ack.seq}, not {log} {seq}")
        with self.store.db.atomic():
            self._keep_ack(ack_raw, str(by), str(log), ack.seq, ack.head)
            if pass_down:
                holdings.add_to_outbox(self.store.db, str(log.node), ack_raw)

    def _parent_ack(self, log: LogId) -> tuple[int, bytes] | None:
        """The parent's acknowledgement of ``log`` that we keep: (seq, head hash)."""
        row = self.store.db.execute(
            "SELECT seq, head FROM peer_acks WHERE peer = ? AND log = ?",
            [str(self.parent.node), str(log)],
        ).fetchone()
        return (int(row[0]), bytes(row[1])) if row else None

    def _acked(self, log: LogId) -> int:
        """How far the parent's acknowledgement of ``log`` that we keep reaches."""
        acked = self._parent_ack(log)
        return acked[0] if acked else 0

    def _keep_ack(self, raw: bytes, by: str, log: str, seq: int, head: bytes) -> None:
        self.store.db.execute(
            "INSERT INTO peer_acks (peer, log, seq, head, raw, at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (peer, log) DO UPDATE SET seq = excluded.seq, head = excluded.head,"
            " raw = excluded.raw, at = excluded.at WHERE excluded.seq >= peer_acks.seq",
            [by, log, seq, head, raw, self.now_ms()],
        )
        holdings.clear_rejections(self.store.db, by, log, seq)

    def _refused(
        self, by: NodeId | str, log: LogId, first: int, last: int, exc: SyncFailed
    ) -> bool:
        """Record that ``by`` refused ``log`` first..last; True if that is news."""
        reason = _reason(exc)
        code = exc.code or f"http_{exc.status}"
        self.report.rejected.append(f"{by} refused {log} {first}..{last}: {code}")
        with self.store.db.atomic():
            return holdings.record_rejection(
                self.store.db,
                Rejection(str(by), str(log), first, last, code, reason, self.now_ms()),
            )

    # -- a relay's children ------------------------------------------------------------

    def _forward(self, theirs: Frontier) -> None:
        """Hand each child's envelopes up in order, from the parent's head of that log."""
        db = self.store.db
        revoked = holdings.revoked_through(self.trust.crl)
        for log, ours in sorted(holdings.frontier(db).items(), key=lambda item: str(item[0])):
            have = theirs.get(log)
            have_seq = have.seq if have else 0
            db.execute(
                "UPDATE inbound SET forwarded_at = ? WHERE log = ? AND last_seq <= ?"
                " AND forwarded_at IS NULL",
                [self.now_ms(), str(log), have_seq],
            )
            pending = holdings.envelopes_after(db, log, have_seq) if ours.seq > have_seq else []
            for message_id, first, last, raw in pending:
                try:
                    self._forward_one(log, message_id, last, raw)
                except SyncFailed as exc:
                    if exc.code == "gap":
                        raise _Stale(exc) from None
                    if not _refusal(exc):
                        raise
                    self._relay_refusal(log, first, last, raw, exc)
                    break
            if self._acked(log) < have_seq and log.node not in revoked:
                self._ask_ack(log, have_seq)  # no forward's ack covered what it holds

    def _ask_ack(self, log: LogId, have_seq: int) -> None:
        """The parent holds ``log`` through ``have_seq``, beyond the acknowledgement we
        keep: it committed a forward whose answer we never kept (we crashed, the answer
        was lost on every retry). Send again the last envelope it holds; it answers the
        duplicate with a fresh acknowledgement of its head, which goes down to the child.
        Without this the child would never hear that the county has its entries."""
        held = holdings.envelopes_through(self.store.db, log, have_seq)
        if not held:
            return  # we hold none of it (restored from a backup): nothing to show
        message_id, _first, last, raw = held[-1]
        try:
            self._forward_one(log, message_id, last, raw)
        except SyncFailed as exc:
            if not _refusal(exc):
                raise
            self.report.notes.append(
                f"{self.parent.node} 未再次确认 {log} / {self.parent.node} did not "
                f"acknowledge {log} again: {exc}"
            )

    def _forward_one(self, log: LogId, message_id: bytes, last: int, raw: bytes) -> None:
        env = decode_envelope(raw)
        self._introduce(log.node, env.header.cert_serial)
        try:
            ack_raw = self._post_up(env)
        except SyncFailed as exc:
            # The parent lost the origin's certificate (restored from a backup) though
            # we introduced it earlier: introduce it again and resend, once.
            if exc.code != "bad_certificate" or not _refusal(exc):
                raise
            self._introduce(log.node, env.header.cert_serial, again=True)
            ack_raw = self._post_up(env)
        self._record_ack(ack_raw, self.parent.node, log, last, env.header.head_hash, pass_down=True)
        with self.store.db.atomic():
            self.store.db.execute(
                "UPDATE inbound SET forwarded_at = ? WHERE message_id = ?",
                [self.now_ms(), message_id],
            )
        self.report.forwarded_envelopes += 1

    def _post_up(self, env: Envelope) -> bytes:
        """Readdress a child's envelope to the parent and post it; the parent's ack."""
        now = self.now_ms()
        up = readdress(
            env,
            self.store.identity.signing,
            self.store.node,
            self.parent.node,
            now,
            now + ENVELOPE_TTL_MS,
        )
        return bytes(self.call("POST", "/sync/v1/envelopes", up).content)

    def _relay_refusal(
        self, log: LogId, first: int, last: int, raw: bytes, exc: SyncFailed
    ) -> None:
        """The parent refused a child's batch: record it, tell the child, maybe resend."""
        if self._refused(self.parent.node, log, first, last, exc):
            notice = RejectionNotice(
                self.parent.node,
                self.store.node,
                log,
                first,
                last,
                rejection_code(exc.code or f"http_{exc.status}"),
                _reason(exc),
                self.now_ms(),
            )
            with self.store.db.atomic():
                signed = sign_rejection(notice, self.store.identity.signing)
                holdings.add_to_outbox(self.store.db, str(log.node), signed)
        if exc.code in UNREADABLE:
            prev_hash = decode_envelope(raw).header.prev_hash
            dropped = holdings.drop_from(self.store.db, log, first, prev_hash, self.now_ms())
            self.report.notes.append(
                f"dropped {dropped} unreadable envelope(s) of {log} from seq {first}; "
                "the child will send them again"
            )

    def _introduce(self, node: NodeId, serial: int, *, again: bool = False) -> None:
        """Hand the parent a child's certificate, once a round (or ``again``).

        The parent refuses to be introduced to a revoked certificate, but it may still
        take that node's batches up to ``valid_through`` (after a restore of the parent
        from a backup, say): the batch itself is sent, and the parent judges it.
        """
        if (str(node), serial) in self.introduced and not again:
            return
        cert = self.trust.certificate(node, serial)
        try:
            self.call("POST", "/sync/v1/certs", cert.raw)
        except SyncFailed as exc:
            if exc.code != "revoked" or not _refusal(exc):
                raise
            self.report.notes.append(
                f"{self.parent.node} 不接受 {node} 已吊销的证书，仍发送其批次由上级判定 / "
                f"{self.parent.node} did not take {node}'s revoked certificate; its batches "
                f"are still sent for the parent to judge: {exc}"
            )
        self.introduced.add((str(node), serial))

    # -- what comes back ---------------------------------------------------------------

    def _pull(self, until: int | None = None) -> None:
        """Read the outbox page by page, up to ``until`` (its size in the parent's state;
        knowing it saves the request that would find an empty page)."""
        while until is None or self.cursor() < until:
            after = self.cursor()
            body = self.call("GET", f"/sync/v1/outbox?after={after}").content
            try:
                items = decode_outbox_page(body, after)
            except ProtocolError as exc:
                raise SyncFailed(f"the parent's outbox page is not readable: {exc}") from None
            if not items:
                return
            with self.store.db.atomic():
                for item in items:
                    self._take(item)
                    holdings.set_inbox(
                        self.store.db, str(self.parent.node), item.n, item_mark(item.raw)
                    )
                    self.report.pulled += 1

    def _take_revocations(self) -> None:
        """Fetch and install the parent's revocation list if it offers a newer one
        (node/sync/revocations.py), before anything is pushed or forwarded: a relay then
        stops passing on a revoked child's batches in this very round."""
        if self.crl_offered <= revocations.version(self.trust.crl):
            return
        try:
            raw = self.call("GET", "/sync/v1/revocations").content
            self.report.notes.append(revocations.take(self.store.data_dir, raw))
        except ProtocolError as exc:
            self.report.notes.append(
                f"上级的吊销名单无效，未安装 / the parent's revocation list was not installed: "
                f"{exc.code}: {exc}"
            )
            return
        self.trust = Trust.load(self.store.db, self.store.data_dir)
        self.crl_offered = 0

    def _take(self, item: OutboxItem) -> None:
        """An outbox item: the county's acknowledgement of our log, a relay's notice
        that the county refused one of our batches, the county's outcome notice, or an
        advisory envelope (node/advisories.py: passed down, or applied if ours)."""
        raw = item.raw
        try:
            if item.is_envelope:
                self.report.notes.append(advisories.take(self.store, raw, self.county))
                return
            kind = decode_signed(raw).type
            if kind == "ack":
                ack = decode_ack(raw, self.county.verify_key)
                self._keep_ack(raw, str(ack.by), str(ack.log), ack.seq, ack.head)
            elif kind == "rejection":
                self._take_rejection(raw)
            elif kind == "outcome":
                note = outcomes.take(self.store, raw, self.county.node, self.county.verify_key)
                self.report.notes.append(note)
            else:
                self.report.notes.append(f"ignored an outbox item of type {kind!r}")
        except ProtocolError as exc:
            self.report.notes.append(f"ignored an outbox item that does not verify: {exc.code}")

    def _take_rejection(self, raw: bytes) -> None:
        notice = decode_rejection(raw, self.parent.verify_key, self.parent.node)
        if notice.log.node != self.store.node:
            raise MalformedError("a rejection notice about another node's log")
        reason = f"{notice.reason} (relayed by {notice.relay})"
        row = Rejection(
            str(notice.by),
            str(notice.log),
            notice.first_seq,
            notice.last_seq,
            notice.code,
            reason[:600],
            notice.at,
        )
        holdings.record_rejection(self.store.db, row)
        self.report.rejected.append(
            f"{notice.by} refused {notice.log} {notice.first_seq}..{notice.last_seq}: {row.code}"
        )


def _reason(exc: SyncFailed) -> str:
    """The refusing node's own words (its ``en``), else our message; NFC, bounded."""
    text = exc.detail.get("en") if isinstance(exc.detail.get("en"), str) else str(exc)
    return rejection_reason(str(text))


def _code(resp: requests.Response) -> str:
    if resp.status_code < 400:
        return ""
    try:
        body = resp.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def _authentic(resp: requests.Response, key: bytes, method: str, path: str, n: int) -> bool:
    try:
        check_mac(key, resp.headers.get("X-Rk-Mac", ""), "res", method, path, n, resp.content)
    except SignatureError:
        return False
    return True


def _refusal(exc: SyncFailed) -> bool:
    """The parent's authenticated word that it will not take this batch (a 4xx)."""
    return (
        not isinstance(exc, SessionFailed)
        and exc.authenticated
        and exc.status is not None
        and 400 <= exc.status < 500
    )


def _failure(resp: requests.Response, kind: type[SyncFailed] = SyncFailed) -> SyncFailed:
    try:
        body = resp.json()
        if not isinstance(body, dict):
            raise ValueError("not an object")
        return kind(
            f"{body.get('code')}: {body.get('en')}",
            status=resp.status_code,
            code=str(body.get("code")),
            detail=body,
        )
    except ValueError:
        return kind(f"HTTP {resp.status_code}", status=resp.status_code)
