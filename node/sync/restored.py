# SPDX-License-Identifier: Apache-2.0
"""What ``renkou node status`` and the sync status page say about restores (issue 12
item 6): when, how, from which backup, which changes this PC lacks since, and how many
changes written on a stale copy were written again; and the cards that came back from
upstream (node/sync/recovered.py). Logs and seqs only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlite_utils import Database

from node.i18n import gettext as _
from node.store.recovery import Recovery, RecoveryEvent
from node.store.restores import RestoreEvent, Restores
from node.timeutil import SHANGHAI


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def describe(event: RestoreEvent, _: Callable[..., str] = _) -> str:
    """One sentence for the officer about ``event`` (``_``: the pages pass theirs)."""
    if event.how == "handed_back":
        return "; ".join(t for t in (_carried(event, _), lost_text(event, _)) if t)
    if event.how == "restore":
        text = _(
            "restored from backup %(source)s at %(when)s; new epoch %(epoch)s",
            source=event.source,
            when=_when(event.at),
            epoch=event.epoch,
        )
    elif event.how == "fork":
        text = _(
            "new epoch %(epoch)s after a fork at %(when)s", epoch=event.epoch, when=_when(event.at)
        )
    else:
        text = _(
            "this PC's database was an old copy (found at %(when)s); new epoch %(epoch)s",
            when=_when(event.at),
            epoch=event.epoch,
        )
    if event.lost_last > event.kept:
        text += "; " + _(
            "changes %(first)s-%(last)s of %(log)s are no longer on this PC (upstream holds them)",
            first=event.kept + 1,
            last=event.lost_last,
            log=event.log,
        )
    if event.rewritten:
        text += "; " + _(
            "%(n)s changes written on the old copy were recorded again", n=event.rewritten
        )
    if event.carried:
        text += "; " + _carried(event, _)
    lost = lost_text(event, _)
    return f"{text}; {lost}" if lost else text


def lost_text(event: RestoreEvent, _: Callable[..., str] = _) -> str:
    """The alert for changes ``event`` found lost twice over ("" if none): the status
    line carries it, and the sync status page lists it among the alerts too."""
    if not event.nowhere_last:
        return ""
    return _(
        "ALERT: changes %(first)s-%(last)s of %(log)s are neither on this PC nor with the "
        "township, and the county never confirmed them: they are lost; enter them again "
        "from the paper records",
        first=event.nowhere_first,
        last=event.nowhere_last,
        log=event.carried_log,
    )


def _carried(event: RestoreEvent, _: Callable[..., str]) -> str:
    if not event.carried:
        return ""
    return _(
        "%(n)s changes of %(log)s (%(first)s-%(last)s) the parent handed back, which can no "
        "longer go up in that log, were recorded again in epoch %(epoch)s (cards they "
        "created got new ids)",
        n=event.carried,
        log=event.carried_log,
        first=event.carried_first,
        last=event.carried_last,
        epoch=event.epoch,
    )


def describe_recovery(event: RecoveryEvent, _: Callable[..., str] = _) -> str:
    """One sentence about the cards that came back from upstream (SPEC §8.10)."""
    through = ", ".join(f"{log} #{seq}" for log, seq in sorted(event.heads.items()))
    return _(
        "%(n)s cards came back from upstream (%(county)s) at %(when)s, through %(through)s;"
        " new epoch %(epoch)s",
        n=event.records,
        county=event.county,
        when=_when(event.at),
        through=through,
        epoch=event.epoch,
    )


def status_lines(db: Database) -> list[str]:
    lines = [_("restore:   %(what)s", what=describe(e)) for e in Restores(db).events()]
    recovery = Recovery(db)
    lines += [_("recovery:  %(what)s", what=describe_recovery(e)) for e in recovery.events()]
    if recovery.pending() is not None:
        waiting = _("asked upstream for this node's cards; not come yet")
        lines.append(_("recovery:  %(what)s", what=waiting))
    return lines
