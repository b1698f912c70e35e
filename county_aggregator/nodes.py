# SPDX-License-Identifier: Apache-2.0
"""Every node of the county, when it was last heard from, and an alert for silence
(issue 12 item 3: ``renkou county nodes``).

A village that stops syncing, or whose township acknowledges its changes and never
hands them up, used to leave the county with nothing and no alert anywhere. The county
node knows each node of its county from the certificates it keeps (a township's came
with its first session, a village's with its township's first forward) and, with
``admin_issued``, from every certificate the administrator issued (so a node enrolled
and never heard from is listed too). For each node it shows:

* last contact: when anything of the node's logs last reached the county, directly (a
  township's own log, or anything the township relayed: it was in touch) or through its
  relay (a village's log, forwarded by its township);
* its head as its parent last handed it up (current epoch: seq and when);
* what the county holds of it (entries over all its epochs);
* an alert when it has not been heard from for ``silent_days`` (35 by default: a
  monthly cadence plus margin), or never.

The county sees contact only through what arrives: a village whose rounds with its
township carry nothing new for a month is not told apart from a silent one here (its
own status page says whether its township and the county confirmed its changes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from node.store.certs import Certs
from node.store.holdings import Holdings
from node.store.store import NodeStore
from protocol import NodeId

DAY_MS = 86_400_000
SILENT_DAYS = 35


@dataclass(frozen=True)
class NodeRow:
    node: str
    relay: str
    """The node's parent when it is not the county (a village's township), else ""."""
    last_contact: int
    """UTC ms of the last arrival of anything of it (0: never)."""
    epoch: int
    head: int
    head_at: int
    held: int
    silent_days: int
    """Whole days since last contact (-1: never heard from)."""
    alert: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def node_rows(
    county: NodeStore,
    now_ms: int,
    silent_days: int = SILENT_DAYS,
    admin_issued: Iterable[str] = (),
) -> list[NodeRow]:
    """One row per node of the county but the county node itself, by node id."""
    me = county.node
    heads = Holdings(county.db).head_times()
    known = {NodeId.parse(text) for text in Certs(county.db).nodes()}
    known |= {log.node for log in heads}
    known |= {NodeId.for_code(code) for code in admin_issued}
    rows = []
    for node in sorted((n for n in known if n != me), key=str):
        logs = {log: held for log, held in heads.items() if log.node == node}
        relayed = [
            at for log, (_, at) in heads.items() if node.parent == me and _below(log.node, node)
        ]
        contact = max([at for _, at in logs.values()] + relayed, default=0)
        epoch = max((log.epoch for log in logs), default=0)
        current = next(((s, at) for log, (s, at) in logs.items() if log.epoch == epoch), (0, 0))
        # A contact stamped ahead of now (the county's clock was put back since) is
        # recent, not "never": only no contact at all is never heard from.
        days = max(0, (now_ms - contact) // DAY_MS) if contact else -1
        rows.append(
            NodeRow(
                str(node),
                "" if node.parent in (None, me) else str(node.parent),
                contact,
                epoch,
                current[0],
                current[1],
                sum(seq for seq, _ in logs.values()),
                int(days),
                not contact or now_ms - contact > silent_days * DAY_MS,
            )
        )
    return rows


def _below(other: NodeId, node: NodeId) -> bool:
    """Is ``other`` a node of ``node``'s subtree (a village of a township)?"""
    return other != node and other.code.startswith(node.code)
