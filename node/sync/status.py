# SPDX-License-Identifier: Apache-2.0
"""What ``renkou node status`` says about sync: acknowledgements, refusals, alerts.

One line per fact, in the officer's language through the catalogue (Chinese by default,
English with ``--lang en``; issue 15 item 10), times in Asia/Shanghai. Node names, logs,
seqs and the protocol's error codes are printed as they are. No personal data.
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
from node.sync.relay_returns import status_lines as returned_lines
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
    acks = PeerAcks(db)
    lines = [
        gettext(
            "acked:     %(peer)s holds %(log)s through seq %(seq)s (%(at)s)",
            peer=a.peer,
            log=a.log,
            seq=a.seq,
            at=_when(a.at),
        )
        for a in acks.kept()
    ]
    lines += _rejection_lines(acks)
    lines += _quarantine_lines(Evidence(db))
    lines += restore_lines(db)
    lines += outcome_lines(db)
    lines += advisory_lines(db)
    lines += revocation_lines(data_dir)
    lines += expiry_lines(data_dir, time.time_ns() // 1_000_000)
    lines += returned_lines(db, data_dir, time.time_ns() // 1_000_000)
    return lines + _alert_lines(Evidence(db))


def _rejection_lines(acks: PeerAcks) -> list[str]:
    lines = []
    for r in acks.rejections():
        where = {"code": r.code, "log": r.log, "first": r.first_seq, "last": r.last_seq}
        if r.told_by is None:
            lines.append(
                gettext(
                    "rejected by %(peer)s: %(code)s  %(log)s seq %(first)s..%(last)s "
                    "(%(at)s): %(reason)s",
                    peer=r.peer,
                    at=_when(r.at),
                    reason=r.reason,
                    **where,
                )
            )
            continue
        # A relay's notice: its word, signed by it alone (issue 13, fact 7).
        lines.append(
            gettext(
                "told by %(relay)s: %(code)s  %(log)s seq %(first)s..%(last)s refused "
                "upstream, it says, by %(peer)s (not signed by %(peer)s, %(at)s): %(reason)s",
                relay=r.told_by,
                peer=r.peer,
                at=_when(r.at),
                reason=r.reason,
                **where,
            )
        )
    return lines


def _quarantine_lines(evidence: Evidence) -> list[str]:
    kept, quarantined = evidence.quarantined(QUARANTINE_SHOWN)
    lines = [
        gettext(
            "quarantined: %(code)s  %(log)s seq %(first)s..%(last)s (not adopted, %(at)s)",
            code=q.code,
            log=q.log,
            first=q.first_seq,
            last=q.last_seq,
            at=_when(q.at),
        )
        for q in quarantined
    ]
    if kept > QUARANTINE_SHOWN:
        lines.append(
            gettext("quarantined: … %(n)s older batch(es) not shown", n=kept - QUARANTINE_SHOWN)
        )
    return lines


def _alert_lines(evidence: Evidence) -> list[str]:
    """Each alert (a fork, with its proof kept); its detail is the protocol's own
    sentence, in English, which the Chinese line leaves to the administrator's tools."""
    lines = []
    for alert in evidence.alerts():
        try:
            text = str(json.loads(alert.detail).get("detail", alert.detail))
        except (ValueError, AttributeError):
            text = str(alert.detail)
        lines.append(
            gettext(
                "ALERT:     %(kind)s  %(log)s (%(at)s): %(detail)s",
                kind=alert.kind,
                log=alert.log,
                at=_when(alert.at),
                detail=text,
            )
        )
    return lines or [gettext("alerts:    none")]
