# SPDX-License-Identifier: Apache-2.0
"""Advisories: the county's conflict resolutions, sent down as envelopes (SPEC.md §8.6).

An advisory is one entry of the county node's own log whose payload holds ``note`` ops
of topic ``advisory``, one per advised field (body: ``conflict``, ``kind``, ``key``,
``field``, ``value``, ``for_node``, ``record``). It travels down as an outbox item that is
an envelope (§6) of exactly that entry: batch-signed and hop-signed by the county node,
``from`` the county, ``to`` the advised node, sealed for the advised node's KEM key
alone (it carries a person's field value; a relay has no business reading it).

:func:`seal_advisory` builds that envelope; :func:`check_advisory` is what a relay and
the advised node check without opening; :func:`advisory_items` reads the ops of an
opened entry for one node, strictly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from protocol.batches import MAX_LIFETIME_MS, sign_batch
from protocol.crypto import KemPublicKey, SigningKey, VerifyKey
from protocol.entries import Entry
from protocol.envelope import Envelope, address, seal_batch
from protocol.errors import MalformedError, SignatureError
from protocol.ids import NodeId
from protocol.ops import Note, Op

ADVISORY_TOPIC = "advisory"
_NAMES = ("conflict", "kind", "record", "field")
MAX_NAME = 128


def seal_advisory(
    entry: Entry,
    key: SigningKey,
    cert_serial: int,
    county: NodeId,
    target: NodeId,
    target_kem: KemPublicKey,
    now_ms: int,
) -> bytes:
    """The envelope of one advisory entry of the county's log, for ``target`` alone.

    Raises:
        ValueError: the entry is not the county's, has no payload, or ``target_kem`` is
            of another suite than the county's key.
    """
    if entry.log.node != county or entry.payload is None:
        raise ValueError("an advisory is one held entry of the county's own log")
    expires = now_ms + MAX_LIFETIME_MS
    header, sig = sign_batch([entry], key, cert_serial, sent_ms=now_ms, expires_ms=expires)
    sealed = seal_batch([entry], header, sig, [target_kem])
    return address(sealed, key, county, target, now_ms, expires)


def check_advisory(env: Envelope, county: NodeId, county_key: VerifyKey) -> None:
    """What a relay (and the advised node) checks without opening: the county wrote and
    sent it, one entry, both signatures.

    ``expires_ms`` is not enforced (§8.6): authenticity is the county's batch signature,
    and a replay is harmless because a node applies an advisory once per county entry.

    Raises:
        SignatureError: another sender or log than the county's, or a signature that
            does not verify with ``county_key``.
        MalformedError: more than one entry.
    """
    if env.sender != county or env.header.log.node != county:
        raise SignatureError("an advisory not sent by the county, or not of its log")
    if env.header.first_seq != env.header.last_seq:
        raise MalformedError("an advisory envelope holds exactly one entry")
    env.verify_batch(county_key)
    env.verify_hop(county_key, env.sent_ms)  # the signature, not expiry (see above)


@dataclass(frozen=True, slots=True)
class AdvisoryItem:
    """One advised field: set ``kind``/``record``.``field`` to ``value`` (conflict id)."""

    index: int
    conflict: str
    kind: str
    record: str
    field: str
    value: Any = dataclasses.field(repr=False)  # a person's field value: never logged


def advisory_items(ops: Sequence[Op], for_node: NodeId) -> tuple[AdvisoryItem, ...]:
    """The advisory ops of an opened entry addressed to ``for_node``, by op index.

    Ops of other topics and advisories for other nodes are skipped; an advisory op for
    ``for_node`` must name its conflict, kind, record and field as non-empty strings of
    at most 128 characters (the county signed them, but a bug there must not become a
    crash or a bad write at the node).

    Raises:
        MalformedError: an advisory op for ``for_node`` that lacks one of those.
    """
    out = []
    for i, op in enumerate(ops):
        if not isinstance(op, Note) or op.topic != ADVISORY_TOPIC:
            continue
        body = op.body
        if body.get("for_node") != str(for_node):
            continue
        names = {k: body.get(k) for k in _NAMES}
        if not all(type(v) is str and 0 < len(v) <= MAX_NAME for v in names.values()):
            raise MalformedError(
                f"advisory op {i}: conflict, kind, record and field must be 1..128 characters"
            )
        out.append(
            AdvisoryItem(
                i,
                str(names["conflict"]),
                str(names["kind"]),
                str(names["record"]),
                str(names["field"]),
                body.get("value"),
            )
        )
    return tuple(out)


__all__ = [
    "ADVISORY_TOPIC",
    "AdvisoryItem",
    "advisory_items",
    "check_advisory",
    "seal_advisory",
]
