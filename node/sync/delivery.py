# SPDX-License-Identifier: Apache-2.0
"""Delivery you can see (issue 12 item 3): what the relay confirmed and the county not yet.

A village's changes reach the county through its township. The township's
acknowledgement says it holds them; only the county's (passed down in the township's
outbox) says they arrived. A township that lost them, or one that acknowledges and
withholds, used to leave the village believing everything was delivered. So the
village keeps, each time the township's acknowledgement of our log reaches further,
when it did (``relay_acked:<log>`` in ``node_meta``: a few (seq, time) pairs, those the
county has not yet confirmed), and shows:

* the changes the township confirmed and the county not yet, with both dates;
* an alert when the county's confirmation lags the township's by more than a set
  time (``RENKOU_COUNTY_LAG_DAYS``, 3 days by default: the township syncs every
  15 minutes, so three days is a township that is off, lost them, or withholds).

The lag runs from the time the township confirmed the first change the county has
not: the county's confirmation of older changes does not reset it for newer ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from sqlite_utils import Database

from node.store.acks import PeerAcks
from node.store.sync_meta import SyncMeta
from protocol import LogId

DAY_MS = 86_400_000
LAG_DAYS = 3
LAG_ENV = "RENKOU_COUNTY_LAG_DAYS"
MILESTONES = 64
"""(seq, time) pairs kept per log: older ones merge into the oldest kept (the alert
still dates from the first change the county lacks, or earlier: never later)."""
_KEY = "relay_acked:{log}"


def lag_days(value: str | int | None = None) -> int:
    """The alert's threshold in days: ``value``, else the environment's, else 3.

    Raises:
        ValueError: not a whole number of days from 1 to 365.
    """
    raw = value if value is not None else os.environ.get(LAG_ENV) or LAG_DAYS
    days = int(raw)
    if not 1 <= days <= 365:
        raise ValueError(f"{LAG_ENV} must be 1 to 365 days, not {raw}")
    return days


def relay_acknowledged(db: Database, log: LogId, seq: int, at: int) -> None:
    """The relay's acknowledgement of our ``log`` now reaches ``seq`` (kept at ``at``)."""
    meta = SyncMeta(db)
    key = _KEY.format(log=log)
    marks = _milestones(meta.get(key))
    if marks and marks[-1][0] >= seq:
        return
    marks.append((seq, at))
    if len(marks) > MILESTONES:
        marks = [(marks[1][0], marks[0][1]), *marks[2:]]  # the oldest time stays
    meta.set(key, json.dumps(marks))


def _milestones(value: str | None) -> list[tuple[int, int]]:
    try:
        return [(int(s), int(t)) for s, t in json.loads(value)] if value else []
    except (ValueError, TypeError):
        return []  # a damaged value only loses the date of the lag, never a change


@dataclass(frozen=True)
class Delivery:
    """How far our current log reached: here, at the relay, at the county."""

    log: str
    head: int
    relay: str = ""
    relay_seq: int = 0
    relay_at: int = 0
    county: str = ""
    county_seq: int = 0
    county_at: int = 0
    relay_since: int = 0
    """When the relay confirmed the first change the county has not (0: none such)."""

    @property
    def at_relay_only(self) -> int:
        """Changes the relay confirmed and the county has not."""
        return max(0, self.relay_seq - self.county_seq)

    @property
    def unconfirmed(self) -> int:
        """Changes nobody upstream confirmed yet (waiting for the next sync)."""
        return max(0, self.head - max(self.relay_seq, self.county_seq))

    def lagging(self, now_ms: int, days: int = LAG_DAYS) -> bool:
        """Has the county's confirmation lagged the relay's by more than ``days``?"""
        return bool(self.at_relay_only and self.relay_since) and (
            now_ms - self.relay_since > days * DAY_MS
        )


def delivery(db: Database, log: LogId, head: int) -> Delivery:
    """Our log's delivery as the acknowledgements we keep tell it."""
    ours = [a for a in PeerAcks(db).kept() if a.log == str(log)]
    county = max(
        (a for a in ours if a.peer.startswith("county:")), key=lambda a: a.seq, default=None
    )
    relay = max(
        (a for a in ours if not a.peer.startswith("county:")), key=lambda a: a.seq, default=None
    )
    if relay is None:  # we sync with the county directly: nothing in between
        return Delivery(
            str(log),
            head,
            county=county.peer if county else "",
            county_seq=county.seq if county else 0,
            county_at=county.at if county else 0,
        )
    county_seq = county.seq if county else 0
    marks = _milestones(SyncMeta(db).get(_KEY.format(log=log)))
    since = next((at for seq, at in marks if seq > county_seq), relay.at)
    return Delivery(
        str(log),
        head,
        relay.peer,
        relay.seq,
        relay.at,
        county.peer if county else "",
        county_seq,
        county.at if county else 0,
        since if relay.seq > county_seq else 0,
    )
