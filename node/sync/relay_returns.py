# SPDX-License-Identifier: Apache-2.0
"""What ``renkou node status`` says about batches handed back to their origin (SPEC §6.5).

A relay that cannot hand a child's batch on (its copy expired while the parent was out
of reach, or a copy before it was lost) hands it back to the child and keeps it until
the child has sent the range again (node/sync/relay.py, node/sync/returned.py). The
child is the only node that can renew it; if it never does (its PC is gone, it was
revoked), the relay's copy is the only one left of changes it acknowledged, and the
county's administrator must hear of it: the relay's status raises an alert once a copy
has waited ``ALERT_DAYS`` (the county's not-heard-from bound: a monthly cadence plus
margin), or at once when the child is revoked or its PC was replaced (the new PC's
keys cannot open the copy: only the dead PC could have sent it again). The county
sees the same child as not heard from (county_aggregator/nodes.py). At the child,
status lists the batches it took back and sends again. Logs and seqs only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from node.i18n import gettext as _
from node.identity import load_certificate
from node.store.certs import Certs
from node.store.holdings import Holdings
from node.sync.delivery import DAY_MS
from node.sync.trust import held_revocations
from node.timeutil import SHANGHAI
from protocol import LogId, NodeId, decode_certificate, decode_envelope

ALERT_DAYS = 35
"""Days a copy handed back may wait for its origin before the relay raises an alert."""


@dataclass(frozen=True)
class HandedBack:
    log: LogId
    first: int
    last: int
    since: int
    """When it was handed back (UTC ms)."""
    revoked: bool
    """The origin is revoked: it cannot send it again."""
    unopenable: bool = False
    """No key of the origin's newest certificate we keep opens it: its PC was replaced
    (or changed keys), and the PC there now cannot open it to send it again."""

    def alert(self, now_ms: int, days: int = ALERT_DAYS) -> bool:
        return self.revoked or self.unopenable or now_ms - self.since > days * DAY_MS


def handed_back(db: Database, own: NodeId | None, revoked: set[NodeId]) -> list[HandedBack]:
    """The children's batches this relay handed back and still keeps (not ``own``'s)."""
    ranges = [r for r in Holdings(db).returned_ranges() if r[0].node != own]
    unopenable = {log: _unopenable(db, log) for log in {r[0] for r in ranges}}
    return [
        HandedBack(log, first, last, since, log.node in revoked, unopenable[log])
        for log, first, last, since in ranges
    ]


def _unopenable(db: Database, log: LogId) -> bool:
    """Whether a copy of ``log`` handed back is sealed for none of the keys of the newest
    certificate of its origin that we keep (a replacement PC introduces its own when it
    opens a session): seeds 5156 and 5468, where the PC died with the only key that
    could open and renew the copy, and the alert waited 35 days for nothing."""
    newest = Certs(db).of(str(log.node))[:1]
    if not newest:
        return False
    key = decode_certificate(newest[0]).kem_key.key_id
    return any(
        key not in decode_envelope(raw).recipient_key_ids
        for raw in Holdings(db).returned_envelopes(log)
    )


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _own_and_revoked(data_dir: Path | None) -> tuple[NodeId | None, set[NodeId]]:
    """This node, and the children its held revocation list names."""
    cert = load_certificate(data_dir, "node.cert") if data_dir is not None else None
    crl = held_revocations(data_dir) if data_dir is not None else None
    revoked = {item.node for item in crl.revoked.values()} if crl is not None else set()
    return (cert.node if cert is not None else None), revoked


def alert_text(back: HandedBack, now_ms: int, _: Callable[..., str] = _) -> str:
    """The alert for a copy no origin will send again (``_``: the pages pass theirs)."""
    return _(
        "ALERT: %(node)s has not sent %(log)s %(first)s-%(last)s again "
        "(handed back %(ago)s day(s) ago%(revoked)s): this PC keeps the only "
        "copy of changes it confirmed; tell the county administrator",
        node=back.log.node,
        log=back.log,
        first=back.first,
        last=back.last,
        ago=max(0, now_ms - back.since) // DAY_MS,  # a PC clock set back: not '-8 days'
        revoked=(_(", and it is revoked") if back.revoked else "")
        + (
            _(", and its present keys cannot open it: its PC was replaced")
            if back.unopenable
            else ""
        ),  # fmt: skip
    )


def alerted(db: Database, data_dir: Path | None, now_ms: int) -> list[HandedBack]:
    """The copies this relay handed back whose alert is up: the sync status page lists
    them among its alerts, as ``renkou node status`` does."""
    own, revoked = _own_and_revoked(data_dir)
    return [back for back in handed_back(db, own, revoked) if back.alert(now_ms)]


def status_lines(db: Database, data_dir: Path | None, now_ms: int) -> list[str]:
    """One line per batch handed back (at a relay) or taken back (at its origin), and
    the alert for each that waited too long or whose origin is revoked."""
    own, revoked = _own_and_revoked(data_dir)
    lines = [
        _(
            "taken back: the parent handed back %(log)s %(first)s-%(last)s on %(date)s; "
            "this PC sends it again",
            log=log,
            first=first,
            last=last,
            date=_when(since),
        )
        for log, first, last, since in Holdings(db).returned_ranges()
        if log.node == own
    ]
    for back in handed_back(db, own, revoked):
        lines.append(
            _(
                "handed back: %(log)s %(first)s-%(last)s to %(node)s on %(date)s (it could "
                "not be handed on); kept until it is sent again",
                log=back.log,
                first=back.first,
                last=back.last,
                node=back.log.node,
                date=_when(back.since),
            )
        )
        if back.alert(now_ms):
            lines.append(alert_text(back, now_ms))
    return lines
