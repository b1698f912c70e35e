# SPDX-License-Identifier: Apache-2.0
"""The receive pipeline for one envelope, in the order SPEC.md §6 fixes.

decode -> addressed to us, from the session's peer -> hop signature and expiry ->
the origin is the peer or below it -> origin certificate, batch signature, revocation
-> clock bound -> continuity with what we hold (duplicate, gap, fork) -> open and
rebuild (the county) or keep sealed (a relay) -> advance the head -> signed ack.
Everything after decoding happens in one transaction: nothing half-stored.
"""

from __future__ import annotations

import json

from node.store.store import NodeStore
from node.sync import holdings
from node.sync.trust import Trust
from protocol import (
    CertificateError,
    Envelope,
    ForkError,
    MalformedError,
    NodeId,
    QuarantineError,
    Role,
    SignatureError,
    check_continues,
    decode_envelope,
    open_envelope,
)
from protocol.frontier import Ack, sign_ack
from protocol.rules import check_clock, check_rulesets, check_signer

KNOWN_RULESETS = frozenset({1})


def receive_envelope(
    store: NodeStore, trust: Trust, raw: bytes, peer: NodeId, now_ms: int
) -> bytes:
    """Verify and keep one envelope from ``peer``; return our signed acknowledgement."""
    env = decode_envelope(raw)
    if env.recipient != store.node:
        raise MalformedError(f"envelope is addressed to {env.recipient}, not to {store.node}")
    if env.sender != peer:
        raise SignatureError("envelope sender is not the authenticated peer")
    env.verify_hop(trust.certificate(peer).verify_key, now_ms)
    origin = env.header.log.node
    if not origin.code.startswith(peer.code):
        raise CertificateError(f"{peer} may not relay changes of {origin}")
    origin_cert = trust.certificate(origin, env.header.cert_serial)
    env.verify_batch(origin_cert.verify_key)
    check_signer(env.header, origin_cert, trust.crl)
    try:
        check_clock(env.header, now_ms)
        _keep(store, env, raw, now_ms)
    except ForkError as exc:
        with store.db.atomic():
            _record_fork(store, env, now_ms, str(exc))
        raise
    except QuarantineError as exc:
        with store.db.atomic():
            _quarantine(store, env, now_ms, exc)
        raise
    head = holdings.frontier(store.db, [env.header.log]).get(env.header.log)
    assert head is not None
    ack = Ack(store.node, env.header.log, head.seq, head.hash, now_ms)
    return sign_ack(ack, store.identity.signing)


def _keep(store: NodeStore, env: Envelope, raw: bytes, now_ms: int) -> None:
    db = store.db
    header = env.header
    with db.atomic():
        if check_continues(holdings.frontier(db, [header.log]), header) != "next":
            return
        if store.node.role is Role.COUNTY:
            keys = {store.identity.kem.public_key.key_id: store.identity.kem}
            entries = open_envelope(env, keys)
            check_rulesets(entries, KNOWN_RULESETS)
            holdings.store_entries(db, entries)
        else:
            db.execute(
                "INSERT OR IGNORE INTO inbound (message_id, log, first_seq, last_seq, raw,"
                " received_at) VALUES (?, ?, ?, ?, ?, ?)",
                [env.message_id, str(header.log), header.first_seq, header.last_seq, raw, now_ms],
            )
        holdings.set_head(db, header.log, header.last_seq, header.head_hash, now_ms)


def _quarantine(store: NodeStore, env: Envelope, now_ms: int, exc: QuarantineError) -> None:
    """Signed and valid but not applicable now: keep it as evidence and report it."""
    h = env.header
    store.db.execute(
        "INSERT INTO quarantine (at, log, first_seq, last_seq, code, reason, raw)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [now_ms, str(h.log), h.first_seq, h.last_seq, str(exc.code), str(exc), env.raw],
    )


def _record_fork(store: NodeStore, env: Envelope, now_ms: int, detail: str) -> None:
    """Keep the conflicting envelope as evidence where the administrator will see it.

    The log stays frozen at what we hold: check_continues refuses every later batch
    that does not extend our head, so nothing of the other branch is applied.
    """
    store.db.execute(
        "INSERT INTO alerts (at, kind, log, detail, proof) VALUES (?, 'fork', ?, ?, ?)",
        [now_ms, str(env.header.log), json.dumps({"detail": detail}, ensure_ascii=False), env.raw],
    )
