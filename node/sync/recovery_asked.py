# SPDX-License-Identifier: Apache-2.0
"""A child's request for its cards, at its parent (SPEC.md §8.10, ``POST /sync/v1/recovery``).

Who may ask: the holder of a certificate that our root vouches for (issued by the
county's issuing key, not revoked, in its window), for the node of that certificate,
signed by its key, over a session opened by that node or by its parent (its township
handing the request up). Anything else is refused with a code, and a request for
another node's cards never gets past here.

A relay keeps a checked request and hands it up at its next round (recovered.py
``hand_up``); when the county refused it, the relay answers the child's next sending of
that request with the county's refusal instead (so the officer learns why). The
county node, which holds the entries of its villages' logs, answers: it makes the
node's cards from them (node/store/recovery_cards.py), seals them for the requesting
certificate's key alone, signs them, writes the audit row (who asked, when, which
node, how many cards) and puts the snapshot into the outbox of the session's client,
all in one transaction. The snapshot then travels down as an advisory does.
"""

from __future__ import annotations

from node.errors import NodeError
from node.store.outbox import Outbox
from node.store.recovery import Recovery
from node.store.recovery_cards import held_heads, node_cards
from node.store.store import NodeStore
from node.sync.trust import Trust
from protocol import Certificate, NodeId, Role
from protocol.recovery import (
    RecoveryRequest,
    SnapshotHeader,
    decode_recovery_request,
    seal_snapshot,
)

AUDIT_ACTION = "recovery_snapshot"


class RecoveryRefused(NodeError):
    """A recovery request we will not take; ``status`` is its HTTP status."""

    def __init__(self, code: str, zh: str, en: str, status: int) -> None:
        super().__init__(zh, en, code=code)
        self.status = status


def take_request(store: NodeStore, trust: Trust, raw: bytes, peer: NodeId, now_ms: int) -> str:
    """Check a request that came over ``peer``'s session; keep it (a relay) or answer it
    (the county). Returns a line for the log (no personal data).

    Raises:
        ProtocolError: the request or its certificate does not check (§8.10).
        RecoveryRefused: ``recovery.wrong_node`` (another node's cards),
            ``recovery.nothing_held`` (a county holding nothing of the node), or
            ``recovery.cannot_seal``.
    """
    request = decode_recovery_request(raw)
    cert = trust.check(request.certificate, now_ms)
    request.verify(cert)
    if cert.node != peer and cert.node.parent != peer:
        raise RecoveryRefused(
            "recovery.wrong_node",
            f"{peer} 不能取回 {cert.node} 的卡片：只能取回本节点或其下级的",
            f"{peer} may not recover the cards of {cert.node}: only its own or its child's",
            403,
        )
    if store.node.role is not Role.COUNTY:
        recovery = Recovery(store.db)
        with store.db.atomic():
            told = recovery.take_refusal(str(cert.node), request.id)
            if told is None:
                recovery.keep_request(request.id, str(cert.node), raw, now_ms)
        if told is not None:
            raise _passed_down(cert.node, *told)
        return f"kept the recovery request of {cert.node} to hand up"
    return _answer(store, request, cert, peer, now_ms)


def _passed_down(node: NodeId, code: str, status: int) -> RecoveryRefused:
    """Our parent's refusal of ``node``'s request, for the child that asks again."""
    if code == "recovery.nothing_held":
        return RecoveryRefused(
            code,
            f"县里没有 {node} 的任何记录，无可取回：请直接同步（renkou node sync），"
            "本机录入的变更照常上报",
            f"the county holds no entry of {node}: there is nothing to recover; sync "
            "(renkou node sync) and what this PC holds goes up as usual",
            status,
        )
    return RecoveryRefused(
        code,
        f"县里拒绝了 {node} 的取回请求（{code}）",
        f"the county refused the recovery request of {node} ({code})",
        status,
    )


def _answer(
    store: NodeStore, request: RecoveryRequest, cert: Certificate, peer: NodeId, now_ms: int
) -> str:
    heads = held_heads(store.db, cert.node)
    if not heads:
        raise RecoveryRefused(
            "recovery.nothing_held",
            f"县里没有 {cert.node} 的任何记录，无可取回",
            f"the county holds no entry of {cert.node}: there is nothing to recover",
            404,
        )
    cards = node_cards(store.db, cert.node, heads, store.identity.suite)
    header = SnapshotHeader(
        store.node, cert.node, cert.kem_key.key_id, request.id, heads, len(cards), now_ms
    )
    try:
        snapshot = seal_snapshot(header, cards, store.identity.signing, cert.kem_key)
    except ValueError as exc:
        raise RecoveryRefused(
            "recovery.cannot_seal",
            f"无法为 {cert.node} 生成快照",
            f"cannot make the snapshot for {cert.node}: {exc}",
            422,
        ) from None
    with store.db.atomic():
        Outbox(store.db).add(str(peer), snapshot)
        store.audit(
            f"{cert.node} (certificate {cert.serial})",
            AUDIT_ACTION,
            "node",
            str(cert.node),
            f"recovery through {peer}: {len(cards)} cards, request {request.id[:16]}",
        )
    return f"sent {len(cards)} cards of {cert.node} to {peer}'s outbox"
