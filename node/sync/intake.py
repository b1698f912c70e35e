# SPDX-License-Identifier: Apache-2.0
"""Taking in the parent's outbox: acknowledgements, notices and advisories for us.

The parent keeps, per child, a numbered outbox (protocol.outbox); we read it page by
page from our cursor and take each item in the transaction that advances the cursor:
the county's acknowledgement of our log, a relay's notice that the county refused one
of our batches, the county's outcome notice (node/sync/outcomes.py), an advisory
envelope (node/advisories.py), or a recovery snapshot (node/sync/recovered.py). An
item that does not verify is noted and skipped: it cannot be taken later either, and
must not hold the rest back.

A parent restored from an old backup numbers its outbox from where the backup left it,
below our cursor; its state names its item at our cursor (``mark``), so we notice and
read its outbox again from the start. Taking an item twice is harmless: an
acknowledgement is kept only if it is newer, a notice replaces what the same range
said, an advisory applies once per county entry.
"""

from __future__ import annotations

from node import advisories
from node.store.acks import Rejection
from node.store.outbox import Inbox
from node.sync import outcomes, recovered, returned
from node.sync.acks import AckBook
from node.sync.failures import SyncFailed
from node.sync.round import Round
from protocol import (
    MalformedError,
    OutboxItem,
    ProtocolError,
    decode_ack,
    decode_outbox_page,
    decode_rejection,
    decode_signed,
    item_mark,
)
from protocol.recovery import is_snapshot

OUTBOX_PATH = "/sync/v1/outbox"


class Intake:
    """Reads and takes the parent's outbox for one round."""

    def __init__(self, round_: Round, acks: AckBook) -> None:
        self.round = round_
        self.acks = acks
        self.inbox = Inbox(round_.store.db)

    def cursor(self) -> int:
        """The last item of the parent's outbox we took."""
        return self.inbox.cursor(self.round.peer)

    def mark(self) -> str:
        """The mark of that item ("" if unknown)."""
        return self.inbox.mark(self.round.peer)

    def reset_if_renumbered(self, outbox: int, mark: str | None) -> None:
        """Start reading the parent's outbox again from 1 if it is not the one we read.

        We notice it from the outbox's size below our cursor, or from the item at our
        cursor (``mark``, as the parent reports it) not being the last one we took.
        """
        peer, cursor, mine = self.round.peer, self.cursor(), self.mark()
        if cursor == 0:
            return
        if mark is not None and not mine:  # taken before marks were kept: adopt it
            if mark:
                self.inbox.set(peer, cursor, mark)
            mine = mark
        if outbox >= cursor and (mark is None or mark == mine):
            return
        with self.round.store.db.atomic():
            self.inbox.set(peer, 0, "")
        self.round.report.notes.append(
            f"上级的发件箱已重新编号（有 {outbox} 条，本机已读到 {cursor}），从头重新读取 / "
            f"the parent's outbox was renumbered ({outbox} items, we had read {cursor}): "
            "reading it again from the start"
        )

    def pull(self, until: int | None = None) -> None:
        """Read the outbox page by page, up to ``until`` (its size in the parent's state;
        knowing it saves the request that would find an empty page).

        Raises:
            SyncFailed: the link failed, or a page does not decode.
        """
        r = self.round
        while until is None or self.cursor() < until:
            after = self.cursor()
            body = r.link.call("GET", f"{OUTBOX_PATH}?after={after}").content
            try:
                items = decode_outbox_page(body, after)
            except ProtocolError as exc:
                raise SyncFailed(f"the parent's outbox page is not readable: {exc}") from None
            if not items:
                return
            with r.store.db.atomic():
                for item in items:
                    self._take(item)
                    self.inbox.set(r.peer, item.n, item_mark(item.raw))
                    r.report.pulled += 1

    def _take(self, item: OutboxItem) -> None:
        r = self.round
        raw = item.raw
        try:
            if is_snapshot(raw):
                r.report.notes.append(recovered.take(r.store, raw, r.county))
                return
            if item.is_envelope and returned.is_own(raw, r.store.node):
                r.report.notes.append(returned.take(r, raw))  # a batch of ours handed back
                return
            if item.is_envelope:
                r.report.notes.append(advisories.take(r.store, raw, r.county))
                return
            kind = decode_signed(raw).type
            if kind == "ack":
                ack = decode_ack(raw, r.county.verify_key)
                self.acks.keep(raw, str(ack.by), str(ack.log), ack.seq, ack.head)
            elif kind == "rejection":
                self._take_rejection(raw)
            elif kind == "outcome":
                note = outcomes.take(r.store, raw, r.county.node, r.county.verify_key)
                r.report.notes.append(note)
            else:
                r.report.notes.append(f"ignored an outbox item of type {kind!r}")
        except ProtocolError as exc:
            r.report.notes.append(f"ignored an outbox item that does not verify: {exc.code}")

    def _take_rejection(self, raw: bytes) -> None:
        r = self.round
        notice = decode_rejection(raw, r.parent.verify_key, r.parent.node)
        if notice.log.node != r.store.node:
            raise MalformedError("a rejection notice about another node's log")
        # Signed by our parent alone: what it says the county refused is its word, and
        # is kept and shown as such (told_by), never as the county's (issue 13, fact 7).
        self.acks.took_rejection(
            Rejection(
                str(notice.by),
                str(notice.log),
                notice.first_seq,
                notice.last_seq,
                notice.code,
                notice.reason[:600],
                notice.at,
                told_by=str(r.parent.node),
            )
        )
