# SPDX-License-Identifier: Apache-2.0
"""Hybrid logical clock (Kulkarni et al. 2014), packed into a u64.

``hlc = wall_ms << 16 | counter``: it orders events like wall time when clocks are good,
never goes backwards when they are not, and stays within the drift bound of real time,
which is what the merge needs for a deterministic "latest" without trusting any one PC's
clock. The clock reads time only through the ``now_ms`` callable it is given.
"""

from __future__ import annotations

from collections.abc import Callable

from protocol.errors import ErrorCode, QuarantineError

COUNTER_BITS = 16
COUNTER_MAX = (1 << COUNTER_BITS) - 1
DEFAULT_MAX_DRIFT_MS = 24 * 3600 * 1000


def pack(wall_ms: int, counter: int) -> int:
    return (wall_ms << COUNTER_BITS) | counter


def wall_ms(hlc: int) -> int:
    return hlc >> COUNTER_BITS


def counter(hlc: int) -> int:
    return hlc & COUNTER_MAX


class HybridClock:
    """Issues strictly increasing HLC values for one node."""

    def __init__(self, now_ms: Callable[[], int], last: int = 0) -> None:
        self._now_ms = now_ms
        self.last = last

    def tick(self) -> int:
        """Timestamp a local event."""
        now = self._now_ms()
        last_wall, last_count = wall_ms(self.last), counter(self.last)
        if now > last_wall:
            self.last = pack(now, 0)
        elif last_count < COUNTER_MAX:
            self.last = pack(last_wall, last_count + 1)
        else:
            self.last = pack(last_wall + 1, 0)
        return self.last

    def observe(self, remote: int, max_drift_ms: int = DEFAULT_MAX_DRIFT_MS) -> None:
        """Fold in a timestamp received from a peer, refusing one too far in the future.

        Raises:
            QuarantineError: ``remote`` is more than ``max_drift_ms`` ahead of our clock;
                following it would drag every later local event along.
        """
        now = self._now_ms()
        if wall_ms(remote) > now + max_drift_ms:
            raise QuarantineError(
                f"peer clock {wall_ms(remote)} ms is beyond the drift bound of {max_drift_ms} ms",
                code=ErrorCode.CLOCK_DRIFT,
            )
        if remote > self.last:
            self.last = remote
