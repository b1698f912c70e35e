# SPDX-License-Identifier: Apache-2.0
"""What the jobs of one sync round share: the store, the trust, the link, the report.

A round (node/sync/client.py) reads the parent's state, then runs its jobs in order:
push our own log (push.py), relay the children's (relay.py), take in the outbox
(intake.py); acknowledgements and refusals are kept by acks.py. Each job reads and
writes this one :class:`Round`, so a revocation list installed early in the round is
the one every later job checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from node.store.store import NodeStore
from node.sync.failures import SyncFailed
from node.sync.link import ParentLink
from node.sync.report import RoundReport
from node.sync.trust import Trust
from protocol import Certificate


@dataclass
class Round:
    store: NodeStore
    trust: Trust
    link: ParentLink
    now_ms: Callable[[], int]
    report: RoundReport = field(default_factory=RoundReport)
    own_refusal: SyncFailed | None = None
    """The parent refused our own log: the round ends with this after the pull."""
    county: Certificate = field(init=False)

    def __post_init__(self) -> None:
        self.county = self.trust.own("county.cert")

    def reload_trust(self) -> None:
        """Read certificates and revocations again (a list was installed, or the
        administrator replaced a certificate file while we run)."""
        self.trust = Trust.load(self.store.db, self.store.data_dir)
        self.county = self.trust.own("county.cert")

    @property
    def parent(self) -> Certificate:
        return self.link.parent

    @property
    def peer(self) -> str:
        """The parent's NodeId text, as our tables name it."""
        return str(self.link.parent.node)
