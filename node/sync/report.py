# SPDX-License-Identifier: Apache-2.0
"""What a sync round did, for ``renkou node sync``, the logs, the benchmarks and tests."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Traffic:
    """Requests and body bytes sent and received over the link (HTTP framing aside)."""

    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0


@dataclass
class RoundReport(Traffic):
    """One round: the link counts its requests and bytes into it (Traffic)."""

    idle: bool = False
    pushed_entries: int = 0
    forwarded_envelopes: int = 0
    pulled: int = 0
    resyncs: int = 0
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unwrapped: int = 0
    """Kept copies a relay took its own wrap out of this round (node/sync/relay.py)."""
    lost: list[str] = field(default_factory=list)
    """Relayed ranges whose copies were lost ("<log> <first>..<last>"): the relay's head
    went back, the child sends them again (node/sync/relay.py)."""
