# SPDX-License-Identifier: Apache-2.0
"""What ``renkou node status`` says about sync: acknowledgements, refusals, alerts.

One line per fact, English labels with the Chinese beside them, times in Asia/Shanghai.
No personal data: logs, seqs, codes and the protocol's own messages only.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from node.advisories import status_lines as advisory_lines
from node.sync import holdings
from node.sync.outcomes import status_lines as outcome_lines
from node.sync.revocations import status_lines as revocation_lines
from node.timeutil import SHANGHAI

QUARANTINE_SHOWN = 10


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def status_lines(db: Database, data_dir: Path | None = None) -> list[str]:
    """``data_dir`` (the keys/ there) adds the revocation list this node holds."""
    lines = []
    for peer, log, seq, at in db.execute(
        "SELECT peer, log, seq, at FROM peer_acks ORDER BY log, peer"
    ):
        lines.append(f"acked:     {peer} holds {log} through seq {seq} (已确认, {_when(at)})")
    for r in holdings.rejections(db):
        lines.append(
            f"rejected by {r.peer}: {r.code}  {r.log} seq {r.first_seq}..{r.last_seq}"
            f" (被拒收, {_when(r.at)}): {r.reason}"
        )
    kept = int(db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])
    quarantined = db.execute(
        "SELECT code, log, first_seq, last_seq, at FROM quarantine ORDER BY at DESC LIMIT ?",
        [QUARANTINE_SHOWN],
    ).fetchall()
    for code, log, first, last, at in quarantined:
        lines.append(
            f"quarantined: {code}  {log} seq {first}..{last} (已隔离, 未采用, {_when(at)})"
        )
    if kept > QUARANTINE_SHOWN:
        lines.append(f"quarantined: … {kept - QUARANTINE_SHOWN} older batch(es) not shown")
    lines += outcome_lines(db)
    lines += advisory_lines(db)
    lines += revocation_lines(data_dir)
    alerts = db.execute("SELECT at, kind, log, detail FROM alerts ORDER BY at").fetchall()
    for at, kind, log, detail in alerts:
        try:
            text = str(json.loads(detail).get("detail", detail))
        except (ValueError, AttributeError):
            text = str(detail)
        lines.append(f"ALERT:     {kind}  {log} (警报, {_when(at)}): {text}")
    if not alerts:
        lines.append("alerts:    none (无警报)")
    return lines
