# SPDX-License-Identifier: Apache-2.0
"""Pushing our own log to the parent, from what the parent holds (SPEC.md §6, §9.2).

What the parent holds decides what is sent, never what we believe we sent: our log is
pushed from the parent's head (so a parent restored from a backup gets everything
again), in batches of at most ``batch_entries`` entries and ``MAX_BATCH_BYTES`` of
payload, each signed, sealed for the parent, the county and our own escrow key, and
addressed to the parent. A ``gap`` (or an overlap, ``bad_chain``) means our view of the
parent is stale: :class:`Stale` makes the round re-read its state.

After a restore (node/store/backup.py) earlier epochs are closed logs: entries of them
the parent lacks are pushed too. A parent holding more of our current log than this
store, all of which it acknowledged, means this store is an old copy: a new epoch
starts (SPEC §3.5). A parent holding another history is a fork: recorded, and pushed
only where that lets the parent record it too.
"""

from __future__ import annotations

from node.store.acks import PeerAcks
from node.store.carry import CarriedOver, carry_returned
from node.store.holdings import Holdings
from node.store.restores import RestoreEvent, Restores
from node.sync import epochs, returned
from node.sync.acks import AckBook
from node.sync.failures import Stale, SyncFailed, is_refusal
from node.sync.round import Round
from protocol import (
    Entry,
    Envelope,
    Frontier,
    Head,
    KemPublicKey,
    LogId,
    address,
    seal_batch,
    sign_batch,
)

MAX_BATCH_BYTES = 1 << 20
ENVELOPE_TTL_MS = 7 * 86_400_000
ENVELOPES_PATH = "/sync/v1/envelopes"
_NOTHING = Head(0, bytes(32))


class OwnLogPush:
    """Pushes our current log and closed epochs for one round."""

    def __init__(self, round_: Round, acks: AckBook, batch_entries: int) -> None:
        self.round = round_
        self.acks = acks
        self.batch_entries = batch_entries
        self.reached: dict[LogId, Head] = {}
        """The parent's head of each of our logs after what this round pushed."""

    def push(self, theirs: Frontier) -> None:
        """Push what the parent lacks of our logs, ``theirs`` being its heads.

        Raises:
            Stale: the parent answered ``gap`` or ``bad_chain``: re-read its state.
            SyncFailed: the link failed (a refusal of our log is kept in
                ``round.own_refusal`` instead, and the round goes on).
        """
        store = self.round.store
        closed = epochs.closed_heads(store)
        epochs.remember(store.db, self.round.peer, theirs, store.changelog.log)
        for old, ours in closed.items():
            have = theirs.get(old) or _NOTHING
            if have.seq < ours.seq and self._parent_agrees(have, old.epoch):
                self._push_log(have.seq + 1, ours.seq, old.epoch)
        self._carry_stranded(theirs, closed)
        log = store.changelog
        have = theirs.get(log.log) or _NOTHING
        self._note_lost(log.log, have)
        if have.seq > log.head_seq and self._confirmed_through(log.head_seq):
            self._open_new_epoch(theirs, have)
            log = store.changelog
            have = _NOTHING
        if self._parent_agrees(have):
            self._push_log(have.seq + 1, log.head_seq)
        self._send_returned(theirs)

    def _send_returned(self, theirs: Frontier) -> None:
        """Send again, once each, the batches of ours a relay handed back
        (node/sync/returned.py): the same entries, signed and sealed anew, under our own
        hop and a fresh expiry; forget each once the parent took it."""
        r = self.round
        holdings = Holdings(r.store.db)
        for log in sorted(returned.own_logs(holdings, r.store.node), key=str):
            have = self.reached.get(log) or theirs.get(log) or _NOTHING
            for message_id, env in returned.due(holdings, log, have):
                chunk = returned.beyond(returned.opened(r, env), have)
                if chunk is None:
                    r.report.notes.append(_not_continuing(log, env, have))
                    break
                try:
                    self._push_batch(chunk)
                except SyncFailed as exc:
                    if exc.code in ("gap", "bad_chain"):
                        raise Stale(exc) from None
                    if not is_refusal(exc):
                        raise
                    self._refused(log, env.header.first_seq, env.header.last_seq, exc)
                    break
                with r.store.db.atomic():
                    holdings.forget_returned(message_id)
                if chunk[-1].seq > have.seq:  # a fresh copy below the head leaves it there
                    have = Head(chunk[-1].seq, chunk[-1].hash)

    def _carry_stranded(self, theirs: Frontier, closed: dict[LogId, Head]) -> None:
        """Write again in the current epoch the returned copies of our closed logs that
        can never go up in them (node/sync/returned.py ``stranded``), before the current
        log is pushed, so they go up in this round."""
        r = self.round
        store = r.store
        holdings = Holdings(store.db)
        for log in sorted(returned.own_logs(holdings, store.node), key=str):
            if log.epoch >= store.changelog.log.epoch:
                continue
            reach = max((theirs.get(log) or _NOTHING).seq, (closed.get(log) or _NOTHING).seq)
            reach, copies = returned.stranded(holdings, log, reach)
            if copies:
                self._nowhere(log, reach, copies[0][1].header.first_seq - 1)
            for message_id, env in copies:
                entries = returned.opened(r, env)
                with store.bulk():
                    done = carry_returned(store, log, entries)
                    holdings.forget_returned(message_id)
                if done.abandoned:
                    r.report.notes.append(_carried(log, env, done))

    def _nowhere(self, log: LogId, reach: int, last: int) -> None:
        """Entries ``reach + 1 .. last`` of our closed ``log`` are before a copy that can
        never go up: neither the parent nor this PC holds them. Unless the county
        acknowledged them (it got them before the relay lost its copy), they are lost
        twice over (the relay's disk, this PC's restore): no protocol brings them back,
        and the officer must hear it at once, to enter them again from paper."""
        store = self.round.store
        county = PeerAcks(store.db).head(str(self.round.county.node), log)
        first = max(reach, county.seq if county is not None else 0) + 1
        if first > last:
            return
        with store.db.atomic():
            Restores(store.db).add_nowhere(self.round.now_ms(), store.changelog.log.epoch,
                                           str(log), (first, last))  # fmt: skip
        self.round.report.notes.append(
            f"警报：{log} 第 {first}-{last} 条既不在本机也不在上级，县里也未确认收到："
            f"这些变更已丢失，请根据纸质记录重新录入 / ALERT: changes {first}..{last} of {log} "
            "are neither on this PC nor with the parent, and the county has not confirmed "
            "them: they are lost; enter them again from the paper records"
        )

    def recipients(self) -> list[KemPublicKey]:
        """Who may open our batches: the parent, the county and our own escrow key (so
        the node can restore its own log from upstream)."""
        r = self.round
        keys = {c.kem_key.key_id: c.kem_key for c in (r.parent, r.county)}
        own = r.store.identity.kem.public_key
        keys[own.key_id] = own
        return list(keys.values())

    def _recipients_changed(self) -> bool:
        """The relay says a batch is not sealed for the county (``bad_recipients``):
        read our certificates again (the administrator may have put the county node's
        certificate in place since this round began). True if that changes whom we seal
        for, so the same range is sealed again and resent: it is the same batch (same
        header, same message id), never taken for a duplicate, because the relay stored
        nothing of the refused copy."""
        before = {k.key_id for k in self.recipients()}
        self.round.reload_trust()
        return {k.key_id for k in self.recipients()} != before

    def _note_lost(self, log: LogId, have: Head) -> None:
        """The parent acknowledged more of ``log`` than it now holds: it lost copies (a
        relay's disk, a PC put back from a backup). Say so; the push from its head
        that follows sends them again (issue 12: a relay never stays short)."""
        acked = self.acks.acked(log)
        if have.seq >= acked:
            return
        r = self.round
        r.report.lost.append(f"{log} {have.seq + 1}..{acked}")
        r.report.notes.append(
            f"{r.peer} 已确认收到 {log} 至第 {acked} 条，但现在只有 {have.seq} 条，"
            f"将重新发送 / {r.peer} acknowledged {log} through {acked} but now holds "
            f"{have.seq}: sending the rest again"
        )

    def _confirmed_through(self, seq: int) -> bool:
        """Did the parent sign an acknowledgement of our current log at ``seq``, with the
        hash we hold there? Then everything we hold is a prefix of what it holds."""
        if seq == 0:
            return True
        store = self.round.store
        acked = self.acks.parent_head(store.changelog.log)
        return acked == Head(seq, next(store.entries(seq, seq)).hash)

    def _open_new_epoch(self, theirs: Frontier, have: Head) -> None:
        """The parent holds more of our log than this store, and all we hold it has
        acknowledged: this is an old copy (a PC restored by copying node.db back).
        Writing on in this log would fork it, so a new epoch starts and we go on."""
        store = self.round.store
        old, kept = store.changelog.log, store.changelog.head_seq
        known = max((log.epoch for log, _ in theirs.items() if log.node == old.node), default=0)
        with store.bulk():
            entry = store.start_epoch("restore", known)
            lost = RestoreEvent(self.round.now_ms(), "hand_copy", entry.log.epoch, str(old),
                                kept, have.seq)  # fmt: skip
            Restores(store.db).record(lost)
        self.round.report.notes.append(
            f"本机数据比上级保存的旧（{old} 上级有 {have.seq} 条），已开始新的日志周期 "
            f"{entry.log.epoch} / this store is older than the parent's copy of {old} "
            f"(it holds {have.seq}): started epoch {entry.log.epoch}"
        )

    def _push_log(self, start: int, last: int, epoch: int | None = None) -> None:
        """Push entries ``start..last`` of our current log (or of a closed ``epoch``)."""
        store = self.round.store
        log = store.changelog.log if epoch is None else LogId(store.node, epoch)
        resealed = False
        while start <= last:
            chunk = self._chunk(start, last, epoch)
            try:
                self._push_batch(chunk)
            except SyncFailed as exc:
                if exc.code in ("gap", "bad_chain"):
                    raise Stale(exc) from None
                if not is_refusal(exc):
                    raise
                if exc.code == "bad_recipients" and not resealed and self._recipients_changed():
                    resealed = True
                    continue  # the same range, sealed anew for the county we now know
                self._refused(log, chunk[0].seq, chunk[-1].seq, exc)
                return
            start, resealed = chunk[-1].seq + 1, False

    def _refused(self, log: LogId, first: int, last: int, problem: SyncFailed) -> None:
        self.acks.refused(self.round.parent.node, log, first, last, problem)
        self.round.own_refusal = problem

    def _parent_agrees(self, have: Head, epoch: int | None = None) -> bool:
        """Does the parent hold our own history? If not we were restored or forked.

        A parent holding more of our log than we have, or another hash at its head, means
        this store is an old copy (restored from a backup) or the log forked; pushing
        cannot mend that (the administrator starts a new epoch), so we record it and
        push only when a push lets the parent record the fork itself.
        """
        store = self.round.store
        log = store.changelog
        if have.seq == 0:
            return True
        if epoch is not None:  # a closed log: the parent may hold more; only a fork matters
            ours = next(log.entries(have.seq, have.seq, epoch=epoch), None)
            return ours is not None and ours.hash == have.hash
        if store.is_new_pc() and not (have.seq == 1 and self._same_install(have)):
            self._refused(log.log, 1, have.seq, _new_pc_refusal(log.log, have.seq))
            return False
        if have.seq > log.head_seq:
            self._refused(
                log.log,
                log.head_seq + 1,
                have.seq,
                SyncFailed(
                    f"the parent holds our log {log.log} through seq {have.seq} but this "
                    f"store only has {log.head_seq}: it was restored from an old copy, or "
                    "it replaces a dead PC; run `renkou node recover` to take the village's "
                    "cards back from the county (what was typed here is kept), or the "
                    "administrator runs `renkou node new-epoch --reason restore --yes`",
                    code="behind_parent",
                    detail={
                        "zh": f"上级已保存本机日志 {log.log} 至第 {have.seq} 条，本机只有 "
                        f"{log.head_seq} 条：本机是从旧副本恢复的，或是替换坏电脑的新电脑。"
                        "请运行 `renkou node recover` 从县里取回本村卡片（本机已录入的会保留），"
                        "或由管理员运行 `renkou node new-epoch --reason restore --yes`"
                    },
                ),
            )
            return False
        if next(store.entries(have.seq, have.seq)).hash == have.hash:
            return True
        self._refused(
            log.log,
            have.seq,
            have.seq,
            SyncFailed(
                f"the parent holds another entry {have.seq} of our log {log.log} (fork): "
                "two copies of this node wrote, so this data dir was copied to another PC "
                "(a clone) or put back by hand, or this PC replaces a dead one. If this PC "
                "is not the village's own, stop it and tell the administrator; if it "
                "replaces a dead PC, run `renkou node recover` (what was typed here is "
                "kept); otherwise the administrator runs "
                "`renkou node new-epoch --reason fork --yes`",
                code="fork",
                detail={
                    "zh": f"上级保存的本机日志 {log.log} 第 {have.seq} 条与本机不同（分叉）："
                    "本节点的数据目录被复制到另一台电脑使用（克隆），或被手工放回旧副本，"
                    "或本机是替换坏电脑的新电脑。如本机不是该村自己的电脑，请停用并报告管理员；"
                    "如本机替换坏电脑，请运行 `renkou node recover`（本机已录入的会保留）",
                },
            ),
        )
        return have.seq < log.head_seq  # a push lets the parent see and record the fork

    def _same_install(self, have: Head) -> bool:
        return next(self.round.store.entries(1, 1)).hash == have.hash

    def _chunk(self, start: int, last: int, epoch: int | None = None) -> list[Entry]:
        """The next batch from ``start``, never past ``last``: a closed epoch a later one
        was cut from ends at the cut, and the abandoned entries past it (a stale copy's,
        written again in the new epoch: node/store/carry.py) must never go up in it."""
        out: list[Entry] = []
        size = 0
        last = min(last, start + self.batch_entries - 1)
        for entry in self.round.store.changelog.entries(start, last, epoch=epoch):
            size += entry.payload_len
            if out and size > MAX_BATCH_BYTES:
                break
            out.append(entry)
        return out

    def _push_batch(self, chunk: list[Entry]) -> None:
        r = self.round
        signing = r.store.identity.signing
        now = r.now_ms()
        expires = now + ENVELOPE_TTL_MS  # under our batch signature: no relay goes beyond it
        header, sig = sign_batch(
            chunk, signing, r.link.own_cert.serial, sent_ms=now, expires_ms=expires
        )
        sealed = seal_batch(chunk, header, sig, self.recipients())
        raw = address(sealed, signing, r.store.node, r.parent.node, now, expires)
        ack_raw = r.link.call("POST", ENVELOPES_PATH, raw).content
        self.acks.record(ack_raw, r.parent.node, header.log, header.last_seq, header.head_hash)
        self.reached[header.log] = Head(header.last_seq, header.head_hash)
        r.report.pushed_entries += len(chunk)


def _not_continuing(log: LogId, env: Envelope, have: Head) -> str:
    h = env.header
    return (
        f"上级退还的 {log} 第 {h.first_seq}-{h.last_seq} 条与上级现存的第 {have.seq} 条不一致，"
        f"暂不重新发送 / the copy of {log} {h.first_seq}..{h.last_seq} handed back does not "
        f"continue the parent's entry {have.seq}: not sent again"
    )


def _carried(log: LogId, env: Envelope, done: CarriedOver) -> str:
    h, epoch = env.header, done.entry.log.epoch
    text = (
        f"上级退还的 {log} 第 {h.first_seq}-{h.last_seq} 条之前的记录已不在任何地方，无法再在该"
        f"日志中上报：已在日志周期 {epoch} 中重新记录 {done.abandoned} 条 / the copy of {log} "
        f"{h.first_seq}..{h.last_seq} handed back can never go up in that log (the entries "
        f"before it are gone): its {done.abandoned} changes were recorded again in epoch {epoch}"
    )
    if done.renamed:
        ids = ", ".join(f"{old}→{new}" for old, new in sorted(done.renamed.items()))
        text += f"；新编号 / new ids: {ids}"
    if done.unsealed:
        fields = ", ".join(f"{kind} {rid} {name}" for kind, rid, name in done.unsealed)
        text += f"；请重新录入保密字段 / enter these sealed fields again: {fields}"
    return text


def _new_pc_refusal(log: LogId, held: int) -> SyncFailed:
    """What a replacement PC is told when it syncs before `renkou node recover`: the parent
    holds the old PC's history of this log, which neither `new-epoch` (an empty PC writing
    on) nor the clone warning of a fork would mend; the cards come back from upstream."""
    return SyncFailed(
        f"this PC is new and holds none of {log.node}'s records, while the parent holds its "
        f"log {log} through seq {held} (the PC it replaces): run `renkou node recover` to "
        "take the village's cards back from the county, then sync",
        code="behind_parent",
        detail={
            "zh": f"本机是新电脑，尚无 {log.node} 的任何记录，而上级已保存其日志 {log} 至第 "
            f"{held} 条（被替换的旧电脑所写）：请先运行 `renkou node recover` 从县里取回本村"
            "的卡片，再同步"
        },
    )
