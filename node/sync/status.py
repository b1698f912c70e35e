# SPDX-License-Identifier: Apache-2.0
"""What ``renkou node status`` says about sync: acknowledgements, refusals, alerts.

One line per fact, English labels with the Chinese beside them, times in Asia/Shanghai.
No personal data: logs, seqs, codes and the protocol's own messages only.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from node.advisories import status_lines as advisory_lines
from node.i18n import gettext
from node.keys.expiry import status_lines as expiry_lines
from node.store.acks import PeerAcks
from node.store.evidence import Evidence
from node.sync.delivery import DAY_MS, LAG_DAYS, Delivery
from node.sync.outcomes import status_lines as outcome_lines
from node.sync.restored import status_lines as restore_lines
from node.sync.revocations import status_lines as revocation_lines
from node.timeutil import SHANGHAI

QUARANTINE_SHOWN = 10


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def delivery_lines(d: Delivery, now_ms: int, days: int = LAG_DAYS) -> list[str]:
    """Where our log's changes are: confirmed by the relay only, or by nobody yet; and
    the alert when the county's confirmation lags the relay's by more than ``days``
    (node/sync/delivery.py). Through the catalogue: an officer reads these."""
    lines = []
    if d.at_relay_only:
        county = (
            gettext("the county last confirmed on %(date)s", date=_when(d.county_at))
            if d.county_at
            else gettext("the county has confirmed nothing yet")
        )
        lines.append(
            gettext(
                "Sent to %(relay)s, not yet confirmed by the county: %(count)s change(s) "
                "(seq %(first)s-%(last)s), confirmed by %(relay)s on %(date)s; %(county)s",
                relay=d.relay,
                count=d.at_relay_only,
                first=d.county_seq + 1,
                last=d.relay_seq,
                date=_when(d.relay_since),
                county=county,
            )
        )
    if d.unconfirmed:
        lines.append(
            gettext("Not yet confirmed upstream: %(count)s change(s)", count=d.unconfirmed)
        )
    if d.lagging(now_ms, days):
        lines.append(
            gettext(
                "ALERT: the county has not confirmed changes %(relay)s confirmed %(ago)s "
                "day(s) ago (more than %(days)s): it may have lost or withheld them; tell "
                "the county administrator",
                relay=d.relay,
                ago=(now_ms - d.relay_since) // DAY_MS,
                days=days,
            )
        )
    return lines


def status_lines(db: Database, data_dir: Path | None = None) -> list[str]:
    """``data_dir`` (the keys/ there) adds the revocation list this node holds and a
    warning for each of its certificates that expires within 30 days."""
    acks, evidence = PeerAcks(db), Evidence(db)
    lines = [
        f"acked:     {a.peer} holds {a.log} through seq {a.seq} (已确认, {_when(a.at)})"
        for a in acks.kept()
    ]
    for r in acks.rejections():
        if r.told_by is None:
            lines.append(
                f"rejected by {r.peer}: {r.code}  {r.log} seq {r.first_seq}..{r.last_seq}"
                f" (被拒收, {_when(r.at)}): {r.reason}"
            )
            continue
        # A relay's notice: its word, signed by it alone (issue 13, fact 7).
        lines.append(
            f"told by {r.told_by}: {r.code}  {r.log} seq {r.first_seq}..{r.last_seq}"
            f" refused upstream, it says, by {r.peer} (上级转告被拒收, 非{r.peer}签发,"
            f" {_when(r.at)}): {r.reason}"
        )
    kept, quarantined = evidence.quarantined(QUARANTINE_SHOWN)
    for q in quarantined:
        lines.append(
            f"quarantined: {q.code}  {q.log} seq {q.first_seq}..{q.last_seq}"
            f" (已隔离, 未采用, {_when(q.at)})"
        )
    if kept > QUARANTINE_SHOWN:
        lines.append(f"quarantined: … {kept - QUARANTINE_SHOWN} older batch(es) not shown")
    lines += restore_lines(db)
    lines += outcome_lines(db)
    lines += advisory_lines(db)
    lines += revocation_lines(data_dir)
    lines += expiry_lines(data_dir, time.time_ns() // 1_000_000)
    alerts = evidence.alerts()
    for alert in alerts:
        try:
            text = str(json.loads(alert.detail).get("detail", alert.detail))
        except (ValueError, AttributeError):
            text = str(alert.detail)
        lines.append(f"ALERT:     {alert.kind}  {alert.log} (警报, {_when(alert.at)}): {text}")
    if not alerts:
        lines.append("alerts:    none (无警报)")
    return lines
