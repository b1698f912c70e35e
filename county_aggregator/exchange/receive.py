# SPDX-License-Identifier: Apache-2.0
"""What a county does with a message a peer county sends (SPEC.md §8.11), over HTTP
or on a file alike: check it in the order of the spec, then keep it.

A notification goes to the inbox with its answer due within 5 working days of receipt
(篇10 第24条). An answer updates the notification we sent: answered, and on time if
the hukou place answered within 5 working days of receiving it. Nothing here writes a
village's records: the hukou village's officers update her card themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from county_aggregator.store_exchange import ExchangeStore
from node.deadlines.rules import due_date
from node.deadlines.workdays import WorkCalendar
from node.domain.divisions import check_township_code, check_village_code
from node.errors import NodeError, ValidationError
from node.identity import NodeIdentity
from node.sync.trust import Trust
from protocol.crypto import KemPrivateKey
from protocol.errors import CertificateError, UnknownRecipientError
from protocol.exchange import (
    Answer,
    ExchangeMessage,
    Notification,
    decode_exchange,
    open_exchange,
)


class ExchangeRefused(NodeError):
    """A message that verified but that this county must not take (SPEC.md §11)."""

    def __init__(self, code: str, status: int, zh: str, en: str) -> None:
        super().__init__(zh, en, code=code)
        self.status = status


@dataclass(frozen=True)
class Kept:
    type: str
    id: str
    new: bool


def receive(
    raw: bytes,
    identity: NodeIdentity,
    trust: Trust,
    store: ExchangeStore,
    calendar: WorkCalendar,
    now: int,
    today: date,
) -> Kept:
    """Check a message in the order of §8.11 and keep it.

    Raises:
        ProtocolError: the message is malformed, not for us, from a county we do not
            trust, or not signed by its sender (nothing is kept).
        ExchangeRefused: it verified, but is not ours to take (nothing is kept).
    """
    msg = decode_exchange(raw)
    _check_for_us(msg, identity.node.code, identity.kem)
    cert = trust.check(msg.certificate, now)
    msg.verify(cert)
    if cert.node.role is not identity.node.role or cert.issuer == trust.root.node:
        raise CertificateError(f"{cert.node} is not a peer county's node")
    content = open_exchange(msg, identity.kem)
    sender = msg.header.sender.code
    if isinstance(content, Notification):
        return _keep_notification(msg, content, sender, identity.node.code, store, calendar,
                                  now, today)  # fmt: skip
    return _keep_answer(msg, content, sender, store, calendar, now, today)


def _check_for_us(msg: ExchangeMessage, county: str, kem: KemPrivateKey) -> None:
    if msg.header.receiver.code != county or msg.header.kem_key != kem.public_key.key_id:
        raise UnknownRecipientError(
            f"exchange message for {msg.header.receiver} (key {msg.header.kem_key.hex()}), "
            "not for this county node's key"
        )


def _keep_notification(
    msg: ExchangeMessage, n: Notification, sender: str, county: str, store: ExchangeStore,
    calendar: WorkCalendar, now: int, today: date,
) -> Kept:  # fmt: skip
    if n.hukou_code[:6] != county:
        raise ExchangeRefused(
            "exchange.not_our_hukou", 422,
            f"通报所列户籍地 {n.hukou_code} 不在本县，未接收",
            f"the notification's hukou place {n.hukou_code} is not in this county; not taken",
        )  # fmt: skip
    _check_our_village(n.hukou_code, store)
    if n.residence_code[:6] != sender:
        raise ExchangeRefused(
            "exchange.not_their_resident", 422,
            f"通报所列现居住地 {n.residence_code} 不在发出通报的县 {sender}，未接收",
            f"the residence {n.residence_code} is not in the sending county {sender}; not taken",
        )  # fmt: skip
    new = store.keep({
        "from_county": sender, "id": msg.header.id, "kind": n.kind, "village": n.hukou_code,
        "id_number": n.id_number, "event_date": n.event_date, "body": n.body(),
        "message": msg.raw, "received": now, "received_date": today.isoformat(),
        "due": due_date("floating_hukou_reply", today, calendar).due.isoformat(),
    })  # fmt: skip
    return Kept(msg.header.type, msg.header.id, new)


def _keep_answer(
    msg: ExchangeMessage, a: Answer, sender: str, store: ExchangeStore,
    calendar: WorkCalendar, now: int, today: date,
) -> Kept:  # fmt: skip
    sent = store.sent(msg.header.id)
    if sent is None or sent.sent_date is None:  # never delivered: nothing to answer yet
        raise ExchangeRefused(
            "exchange.unknown_notification", 404,
            "本县未发出过该通报，反馈未接收",
            "this county sent no such notification; the answer was not taken",
        )  # fmt: skip
    if sent.to_county != sender:
        raise ExchangeRefused(
            "exchange.wrong_sender", 403,
            f"该通报发给的是 {sent.to_county}，不是 {sender}，反馈未接收",
            f"the notification went to {sent.to_county}, not {sender}; answer not taken",
        )  # fmt: skip
    due = due_date("floating_hukou_reply", received_on(sent.sent_date, sent.via, a), calendar).due
    # On time: answered within 5 working days of receipt (篇10 第24条), the receipt as we
    # know it (received_on), and never dated after it reached us.
    on_time = a.answered <= due.isoformat() and a.answered <= today.isoformat()
    new = store.record_answer(
        msg.header.id, a.outcome, a.received, a.answered, due.isoformat(), on_time,
        a.body(), now,
    )  # fmt: skip
    return Kept(msg.header.type, msg.header.id, new)


def received_on(sent_date: str, via: str | None, a: Answer) -> date:
    """When the hukou place received our notification, as far as we know: over HTTP the
    day its server kept it (202), which we recorded, never the date its answer claims
    (a later claimed receipt would make a late answer on time); on a file the answer's
    date, but never before we wrote the file."""
    if via == "http":
        return date.fromisoformat(sent_date)
    return date.fromisoformat(max(sent_date, a.received))


def _check_our_village(code: str, store: ExchangeStore) -> None:
    """The hukou village must be one of ours: its township in the official list or
    enrolled here, and, once this county holds certificates of villages of that
    township, one of them (villages are not in the shipped list; divisions.py). A
    phantom village would sit in the inbox for nobody to answer and make its own row in
    Table 5."""
    from node.store.certs import Certs

    codes = {n.split(":", 1)[-1] for n in Certs(store.db).nodes()}
    villages = {c for c in codes if len(c) == 12 and c[:9] == code[:9]}
    try:
        check_village_code(code, villages or None, field="hukou_code")
        check_township_code(code[:9], codes, field="hukou_code")
    except ValidationError:
        raise ExchangeRefused(
            "exchange.not_our_village", 422,
            f"通报所列户籍村 {code} 不是本县的村（居）委会，未接收",
            f"the notification's hukou village {code} is not a village of this county; not taken",
        ) from None  # fmt: skip
