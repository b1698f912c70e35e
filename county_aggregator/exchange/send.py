# SPDX-License-Identifier: Apache-2.0
"""Sealing our notifications and answers for a peer county, and delivering them: over
HTTP to its county node's server, or on files for a county with no link (SPEC.md §8.11).

Each message is sealed at delivery, for the KEM key of the peer's county node
certificate as it verifies now (through our cross-certificate of its root): a peer
that re-enrolled its county node gets the next message under its new key. A message
counts as sent once the peer kept it (HTTP 202) or once it was written to a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import requests

from county_aggregator.store_exchange import ExchangeStore, Received, Sent
from node.errors import NodeError
from node.identity import NodeIdentity
from node.keys.files import write_atomic
from node.sync.link import plain_session
from node.sync.trust import Trust
from protocol.certs import Certificate
from protocol.exchange import (
    ANSWER,
    NOTIFICATION,
    Answer,
    ExchangeHeader,
    Notification,
    seal_exchange,
)

PATH = "/exchange/v1/messages"
SUFFIX = ".rkx"
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Outgoing:
    """One message ready for a peer: what it is, for which county, and its bytes."""

    type: str
    id: str
    county: str
    raw: bytes
    source: Sent | Received


@dataclass(frozen=True)
class Delivery:
    type: str
    id: str
    county: str
    ok: bool
    code: str
    """``new``/``duplicate`` (kept by the peer), else the peer's or the link's error code."""


def peer_certificate(store: ExchangeStore, trust: Trust, county: str, now: int) -> Certificate:
    """The peer's county node certificate, checked again now (chain, validity).

    Raises:
        NodeError: ``exchange.no_peer`` when we hold none for ``county``.
        ProtocolError: it no longer verifies (expired, our cross-certificate gone).
    """
    held = store.peer(county)
    if held is None:
        raise NodeError(
            f"尚未登记县 {county} 的县级节点证书：请先运行 renkou county exchange peer",
            f"no county node certificate of {county} is held: run renkou county exchange peer",
            code="exchange.no_peer",
        )
    return trust.check(held[1], now)


def outgoing(
    identity: NodeIdentity, own_cert: bytes, store: ExchangeStore, trust: Trust, now: int,
    *, notices: bool = True,
) -> Iterator[Outgoing | NodeError]:  # fmt: skip
    """Every notification not yet sent (unless ``notices`` is False: they could not be
    re-derived from the merged records) and every answer not yet sent, sealed; a county
    whose certificate we lack yields the error instead (the rest go on)."""
    items: list[tuple[str, str, str, Notification | Answer, Sent | Received]] = []
    for s in store.sent_all(unsent_only=True) if notices else []:
        items.append((NOTIFICATION, s.id, s.to_county, _notification(s), s))
    for r in store.answers_to_send():
        items.append((ANSWER, r.id, r.from_county, _answer(r), r))
    for kind, nid, county, content, source in items:
        try:
            peer = peer_certificate(store, trust, county, now)
        except NodeError as exc:
            yield exc
            continue
        key = peer.kem_key
        header = ExchangeHeader(kind, nid, identity.node, peer.node, key.key_id, now)
        raw = seal_exchange(header, content, identity.signing, own_cert, key)
        yield Outgoing(kind, nid, county, raw, source)


def _notification(s: Sent) -> Notification:
    b = dict(s.body)
    b.pop("v", None)
    return Notification(**b)


def _answer(r: Received) -> Answer:
    assert r.outcome is not None and r.answered_date is not None
    return Answer(r.outcome, r.received_date, r.answered_date, r.cross_check or "", r.note or "")


def mark(store: ExchangeStore, item: Outgoing, now: int, today: date, via: str) -> None:
    if item.type == NOTIFICATION:
        store.mark_sent(item.id, now, today.isoformat(), via)
    else:
        store.mark_answer_sent(item.county, item.id, now)


def push(
    items: list[Outgoing], store: ExchangeStore, now: int, today: date,
    http: requests.Session | None = None,
) -> list[Delivery]:  # fmt: skip
    """POST each message to its county's server; mark those the peer kept."""
    session = http or plain_session(requests.Session)
    out: list[Delivery] = []
    for item in items:
        url = (store.peer(item.county) or ("", b""))[0]
        code = _post(session, url, item.raw)
        ok = code in ("new", "duplicate")
        if ok:
            mark(store, item, now, today, "http")
        out.append(Delivery(item.type, item.id, item.county, ok, code))
    return out


def _post(session: requests.Session, url: str, raw: bytes) -> str:
    if not url:
        return "exchange.no_url"
    try:
        resp = session.post(
            url.rstrip("/") + PATH, data=raw, timeout=TIMEOUT_S,
            headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
    except requests.RequestException:
        return "unreachable"
    try:
        body = resp.json()
    except ValueError:
        return f"http_{resp.status_code}"
    if resp.status_code == 202 and isinstance(body, dict) and body.get("ok") is True:
        return str(body.get("stored", "new"))
    return str(body.get("code", f"http_{resp.status_code}")) if isinstance(body, dict) else "?"


def export(
    items: list[Outgoing], store: ExchangeStore, directory: Path, now: int, today: date
) -> list[Path]:
    """Write each message as ``<county>-<id>.<type>.rkx`` for carrying by hand."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for item in items:
        path = directory / f"{item.county}-{item.id}.{item.type}{SUFFIX}"
        write_atomic(path, item.raw, mode=0o600)  # sealed, but a person's file all the same
        mark(store, item, now, today, "file")
        written.append(path)
    return written
