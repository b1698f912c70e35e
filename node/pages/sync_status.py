# SPDX-License-Identifier: Apache-2.0
"""Sync status in plain Chinese, and a button that runs one sync round now.

What an officer needs to know: when the parent last confirmed our changes, how many are
still waiting, what the county has confirmed, what was refused and why (with what to do
about it), and alerts. No personal data: logs, counts, codes and times only.
"""

from __future__ import annotations

import json
import os

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from node.errors import PROTOCOL_ZH
from node.pages.accounts import Right
from node.pages.context import get_store
from node.pages.guard import page_blueprint, requires
from node.store.acks import PeerAcks
from node.store.evidence import Evidence
from node.store.recovery import Recovery
from node.store.restores import Restores
from node.sync.delivery import DAY_MS, delivery, lag_days
from node.sync.relay_returns import alert_text, alerted
from node.sync.restored import describe, describe_recovery, lost_text
from protocol import ErrorCode

bp = page_blueprint("sync_status", __name__, url_prefix="/sync-status")


def parent_url() -> str:
    return str(
        current_app.config.get("RENKOU_PARENT_URL") or os.environ.get("RENKOU_PARENT_URL", "")
    )


def _refusal_text(code: str) -> str:
    try:
        return PROTOCOL_ZH[ErrorCode(code)]
    except (ValueError, KeyError):
        return _("The parent refused these changes (code %(code)s).", code=code)


def _alert_kind(kind: str) -> str:
    """What an alert is, in Chinese (its stored kind is a code such as ``fork``)."""
    if kind == "fork":
        return PROTOCOL_ZH[ErrorCode.FORK]
    return _("Alert (%(kind)s)", kind=kind)


def _alert_text(detail: str) -> str:
    try:
        return str(json.loads(detail).get("detail", detail))
    except (ValueError, AttributeError):
        return detail


@bp.get("")
@requires(Right.SYNC_STATUS)
def status() -> ResponseReturnValue:
    store = get_store()
    log = str(store.changelog.log)
    head = store.changelog.head_seq
    peers = PeerAcks(store.db)
    evidence = Evidence(store.db)
    ours = [a for a in peers.kept() if a.log == log]
    parent = max(
        (a for a in ours if not a.peer.startswith("county:")), key=lambda a: a.seq, default=None
    )
    county = max(
        (a for a in ours if a.peer.startswith("county:")), key=lambda a: a.seq, default=None
    )
    confirmed = max((a.seq for a in ours), default=0)
    sent = delivery(store.db, store.changelog.log, head)
    lag = lag_days(current_app.config.get("RENKOU_COUNTY_LAG_DAYS"))
    clock = current_app.config.get("RENKOU_NOW_MS") or store.clock
    now = clock()
    refusals = [(r, _refusal_text(r.code)) for r in peers.rejections()]
    kept, _newest = evidence.quarantined(0)
    alerts = sorted(evidence.alerts(), key=lambda a: a.at, reverse=True)[:20]
    events = Restores(store.db).events()
    lost = [(e.at, _("Changes lost"), e.carried_log, lost_text(e, _)) for e in events
            if e.nowhere_last]  # fmt: skip
    lost += [(b.since, _("Copy never sent again"), str(b.log), alert_text(b, now, _))
             for b in alerted(store.db, store.data_dir, now)]  # fmt: skip
    return render_template(
        "sync_status.html",
        node=f"{store.name}（{store.node.code}）",
        head=head,
        waiting=max(0, head - confirmed),
        parent=parent,
        county=county,
        refusals=refusals,
        alerts=lost + [(a.at, _alert_kind(a.kind), a.log, _alert_text(a.detail)) for a in alerts],
        quarantined=kept,
        restores=sorted(
            [(e.at, describe(e, _)) for e in events]
            + [(e.at, describe_recovery(e, _)) for e in Recovery(store.db).events()]
        ),
        parent_url=parent_url(),
        sent=sent,
        lag_days=lag,
        lagging=sent.lagging(now, lag),
        lag_ago=(now - sent.relay_since) // DAY_MS,
    )


@bp.post("/run")
@requires(Right.SYNC_RUN)
def run() -> ResponseReturnValue:
    from node.sync.client import SyncClient, SyncFailed

    url = parent_url()
    if not url:
        flash(_("No parent address is set for this node; ask the administrator."), "error")
        return redirect(url_for("sync_status.status"))
    try:
        report = SyncClient(get_store(), url).sync_round()
    except SyncFailed as failed:
        flash(_("Sync failed; it will be tried again later: %(why)s", why=str(failed)), "error")
        return redirect(url_for("sync_status.status"))
    if report.idle:
        flash(_("Sync done: nothing new on either side."))
    else:
        flash(
            _(
                "Sync done: %(pushed)s change(s) sent, %(pulled)s message(s) received.",
                pushed=report.pushed_entries,
                pulled=report.pulled,
            )
        )
    return redirect(url_for("sync_status.status"))
