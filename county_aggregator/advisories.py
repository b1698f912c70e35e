# SPDX-License-Identifier: Apache-2.0
"""Sending each advisory down to the node it advises (node/advisories.py takes it).

An advisory is an entry of the county node's own log (conflicts.resolve). For each
pending advisory entry and advised node, this puts into the county's outbox, for the
township on the path (the township itself when it is the advised node), an
envelope of that one entry: batch-signed and hop-signed with the county node's key,
addressed to the advised node, its payload sealed for that node's key-agreement key
alone (from the certificate its township introduced when relaying its log). The
township checks the signatures and passes it on unopened; it cannot read the value.

Durable and idempotent: ``advisories_issued`` (the county's table in the county node's
store, store_node.py) records, in
the same transaction as the outbox item, which (entry, node) pairs were sent, so
re-running (every ``renkou county merge`` does, and ``renkou county advisories
--send``) sends only what was never sent; a crash between the advisory entry and its
outbox item is mended by the next run. ``again`` sends every pending advisory anew
(after a township lost its copy, e.g. restored from an old backup): the node applies
an advisory once per county entry however often it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from county_aggregator.advised import pending_advisories
from county_aggregator.store_node import IssuedAdvisories
from node.errors import NodeError
from node.store.outbox import Outbox
from node.store.store import NodeStore
from node.sync.trust import Trust
from protocol import (
    CertificateError,
    Entry,
    LogId,
    NodeId,
    ProtocolError,
    Role,
    seal_advisory,
)


@dataclass
class Issued:
    """What one run did: envelopes queued, and advisories that must wait (why)."""

    sent: int = 0
    already: int = 0
    waiting: list[str] = field(default_factory=list)


def issue_pending(
    merged: Database, county: NodeStore, now_ms: int, *, again: bool = False
) -> Issued:
    """Queue an envelope for every pending advisory of the county's log not yet sent."""
    out = Issued()
    targets: dict[tuple[str, int], set[str]] = {}
    for adv in pending_advisories(merged):
        try:
            log = LogId.parse(adv["log"])
        except ProtocolError:
            continue
        if log.node == county.node:
            targets.setdefault((adv["log"], int(adv["seq"])), set()).add(adv["for_node"])
    if not targets:
        return out
    try:
        trust = Trust.load(county.db, county.data_dir)
        own = trust.own("node.cert")
    except NodeError as exc:  # a county node not enrolled yet cannot sign for the network
        out.waiting.append(f"{exc.code}: {exc.en}")
        return out
    issued = IssuedAdvisories(county.db)
    for (log_text, seq), nodes in sorted(targets.items()):
        log = LogId.parse(log_text)
        entry = next(county.changelog.entries(seq, seq, epoch=log.epoch), None)
        for for_node in sorted(nodes):
            if not again and issued.issued(log_text, seq, for_node):
                out.already += 1
                continue
            problem = _send(county, issued, trust, own.serial, entry, for_node, now_ms)
            if problem:
                out.waiting.append(f"{log_text}/{seq} for {for_node}: {problem}")
            else:
                out.sent += 1
    return out


def _send(
    county: NodeStore,
    issued: IssuedAdvisories,
    trust: Trust,
    serial: int,
    entry: Entry | None,
    for_node: str,
    now_ms: int,
) -> str:
    """Seal, address and queue one advisory; "" when queued, else why it must wait."""
    if entry is None or entry.payload is None:
        return "the advisory entry is not held in full here"
    try:
        target = NodeId.parse(for_node)
    except ProtocolError:
        return "the advised node's id is not valid"
    child = target if target.role is Role.TOWNSHIP else target.parent
    if child is None or child.parent != county.node:
        return "the advised node is not below this county"
    try:
        cert = trust.certificate(target)
        trust.check_not_revoked(cert)
    except (CertificateError, ProtocolError) as exc:
        return f"no usable certificate of the node yet ({exc.code})"
    signing = county.identity.signing
    try:
        raw = seal_advisory(entry, signing, serial, county.node, target, cert.kem_key, now_ms)
    except ValueError as exc:
        return f"cannot seal for the node: {exc}"
    with county.db.atomic():
        Outbox(county.db).add(str(child), raw)
        issued.record(str(entry.log), entry.seq, for_node, str(child), now_ms)
    return ""


def issued_to(db: Database, log: str, seq: int) -> list[str]:
    """The outboxes (townships) an advisory entry was put into."""
    return IssuedAdvisories(db).outboxes(log, seq)
