# SPDX-License-Identifier: Apache-2.0
"""``renkou county …``: what the county bureau runs on the aggregator.

The ``renkou`` command (deploy/cli.py) puts this group beside the node's. Every
command reads the county node's directory (``--data-dir``) and the merged database
(``--merged``, by default ``merged.db`` inside it).

The shared options come from ``node.cli_options``; what it prints comes from the
node's gettext catalogue (node/i18n), like every other command's.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from county_aggregator.cli_options import reader_options
from node.cli_options import data_dir_option, reports_errors
from node.i18n import gettext as _

# The county shares the node's --data-dir option and bilingual error reporting.
F = TypeVar("F", bound=Callable[..., Any])


def merged_option(func: F) -> F:
    """``--merged``: the merged database file (default: merged.db in the data dir)."""
    return click.option(
        "--merged",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="RENKOU_MERGED",
        default=None,
        show_envvar=True,
        help="Merged database file [default: <data-dir>/merged.db].",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def _audit(
    node: Any, actor: str, action: str, records: Iterable[tuple[str, str]], purpose: str
) -> None:
    """One audit row per record shown, before anything of it is printed."""
    node.audit_many(actor, action, sorted(set(records)), purpose)


def _open(data_dir: Path, merged: Path | None) -> tuple[Any, Any]:
    from county_aggregator.store import open_merged
    from node.store.store import NodeStore

    node = NodeStore.open(data_dir)
    # merged.db is encrypted under the county node's database key (store.open_merged),
    # which the node's sealed key file gave up to the operator's passphrase.
    return node, open_merged(merged or data_dir / "merged.db", key=node.identity.db_key)


def _say(line: str) -> None:
    """A line about people, to a terminal: control, format and bidi characters in the
    data escaped, so a value cannot rewrite what the officer sees (issue 13, fact 11)."""
    from node.domain.text import terminal_safe

    click.echo(terminal_safe(line))


def _echo_json(obj: Any) -> None:
    """JSON, Chinese kept readable, but every character a terminal would obey (format
    and bidi characters pass ``ensure_ascii=False`` raw) written as a JSON escape."""
    from node.domain.text import is_refused

    text = json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True)
    click.echo("".join(_json_escape(ch) if is_refused(ch, multiline=True) else ch for ch in text))


def _json_escape(ch: str) -> str:
    return json.dumps(ch, ensure_ascii=True)[1:-1]


def _timed(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        result = func(*args, **kwargs)
        click.echo(f"({time.perf_counter() - t0:.1f} s)", err=True)
        return result

    return cast(F, wrapper)


@click.group()
def county() -> None:
    """County aggregator: merge every node's log, conflicts, data quality."""


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@county.command()
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes to merge with [default: the number of CPUs].",
)
@data_dir_option
@merged_option
@reports_errors
@_timed
def rebuild(workers: int | None, data_dir: Path, merged: Path | None) -> None:
    """Recreate the merged database from every entry the county node holds.

    Example:

    \b
        renkou county rebuild --data-dir ./county --merged ./county/merged.db
    """
    from county_aggregator.merge import load_revocations
    from county_aggregator.merge import rebuild as run

    node, db = _open(data_dir, merged)
    revocations = load_revocations(data_dir)
    stats = run(node.db, db, revocations=revocations, workers=workers or _cpus())
    click.echo(_("Rebuilt: %(applied)s entries merged, %(rejected)s rejected.",
                 applied=stats.applied, rejected=stats.rejected))  # fmt: skip


@county.command()
@data_dir_option
@merged_option
@reports_errors
@_timed
def merge(data_dir: Path, merged: Path | None) -> None:
    """Merge the entries received since the last merge (resumes after a crash).

    Example:

    \b
        renkou county merge --data-dir ./county
    """
    from county_aggregator.advisories import issue_pending
    from county_aggregator.exchange.cli import after_merge
    from county_aggregator.merge import load_revocations, merge_new
    from county_aggregator.notices import send_notices
    from node.store.changelog import now_ms

    node, db = _open(data_dir, merged)
    stats = merge_new(node.db, db, revocations=load_revocations(data_dir))
    said = (
        _(
            "Rebuilt (revocations changed): %(applied)s entries merged, %(rejected)s rejected.",
            applied=stats.applied,
            rejected=stats.rejected,
        )  # fmt: skip
        if stats.rebuilt
        else _(
            "Merged: %(applied)s entries merged, %(rejected)s rejected.",
            applied=stats.applied,
            rejected=stats.rejected,
        )  # fmt: skip
    )
    click.echo(said)
    told = send_notices(db, node, now_ms())
    click.echo(_("Outcome notices queued for %(n)s log(s); townships pass them down.", n=told))
    _echo_issued(issue_pending(db, node, now_ms()))
    after_merge(data_dir, node, db)  # floating-population notifications (篇10 第24条)


@county.group()
def conflicts() -> None:
    """The conflict queue: list, show, resolve into an advisory."""


@conflicts.command("list")
@click.option("--status", type=click.Choice(["open", "advised", "settled"]), default=None)
@data_dir_option
@merged_option
@json_option
@reader_options("conflict queue review")
@reports_errors
def list_(
    status: str | None,
    data_dir: Path,
    merged: Path | None,
    as_json: bool,
    actor: str,
    purpose: str,
) -> None:
    """List conflict items (id, rule, record, fields, status).

    Example:

    \b
        renkou county conflicts list --status open
    """
    from county_aggregator.conflicts import list_conflicts

    node, db = _open(data_dir, merged)
    items = list_conflicts(db, status=status)
    _audit(node, actor, "county_conflicts", ((i["kind"], i["key"]) for i in items), purpose)
    if as_json:
        _echo_json(items)
        return
    for it in items:
        fields = ",".join(it["fields"])
        _say(
            f"{it['id'][:12]}  {it['status']:<8} {it['rule']:<10} {it['kind']} "
            f"{it['key']}  [{fields}]  {it['a_origin']} / {it['b_origin']}"
        )
    click.echo(_("%(n)s conflict(s)", n=len(items)), err=True)


@conflicts.command()
@click.argument("conflict_id")
@data_dir_option
@merged_option
@json_option
@reader_options("conflict resolution")
@reports_errors
def show(
    conflict_id: str, data_dir: Path, merged: Path | None, as_json: bool, actor: str, purpose: str
) -> None:
    """Show one conflict: both values, both origins, both times (ID may be a prefix).

    Example:

    \b
        renkou county conflicts show 3f2a9c
    """
    from county_aggregator.conflicts import show as run

    node, db = _open(data_dir, merged)
    item = run(db, conflict_id)
    _audit(node, actor, "county_conflict", [(item["kind"], item["key"])], purpose)
    if as_json:
        _echo_json(item)
        return
    _say(_("conflict %(id)s  (%(rule)s, %(status)s)", **item))
    _say(_("record   %(kind)s %(key)s", **item))
    for side in ("a", "b"):
        s = item[side]
        _say(
            _(
                "%(side)s: entry %(entry)s  node %(origin)s  record %(record)s  hlc %(hlc)s",
                side=side,
                **s,
            )  # fmt: skip
        )
    for f in item["fields"]:
        a = json.dumps(f["a"], ensure_ascii=False)
        b = json.dumps(f["b"], ensure_ascii=False)
        _say(_("  %(field)s: a=%(a)s  b=%(b)s  (provisional: %(provisional)s)", field=f["field"],
               a=a, b=b, provisional=f["provisional"]))  # fmt: skip


@conflicts.command()
@click.argument("conflict_id")
@click.option(
    "--choose", type=click.Choice(["a", "b"]), required=True, help="The side whose value is right."
)
@data_dir_option
@merged_option
@reports_errors
def resolve(conflict_id: str, choose: str, data_dir: Path, merged: Path | None) -> None:
    """Resolve a conflict: write an advisory for the node on the other side.

    The advisory is appended to the county node's own log; the node records the fix
    as its own change when it receives it.

    Example:

    \b
        renkou county conflicts resolve 3f2a9c --choose a
    """
    from county_aggregator.advisories import issued_to
    from county_aggregator.conflicts import resolve as run

    node, db = _open(data_dir, merged)
    entry = run(db, node, conflict_id, choose)
    click.echo(_("Advisory written as entry %(entry)s.", entry=f"{entry.log}/{entry.seq}"))
    towns = issued_to(node.db, str(entry.log), entry.seq)
    if towns:
        click.echo(_("Queued in the outbox of %(towns)s; it reaches the node with the next "
                     "syncs.", towns=", ".join(towns)))  # fmt: skip
    else:
        click.echo(_("Not sent yet (the node's certificate has not reached the county); the "
                     "next merge tries again."))  # fmt: skip


def _echo_issued(issued: Any, *, err: bool = False) -> None:
    """One line about the advisories an issue run queued, and one per waiting one."""
    click.echo(_("Advisories queued for %(sent)s node(s) (%(before)s sent before).",
                 sent=issued.sent, before=issued.already), err=err)  # fmt: skip
    for line in issued.waiting:
        click.echo(_("Advisory waiting: %(line)s", line=line), err=True)


@county.command()
@click.option("--node", "node_id", default=None, help="Only advisories for this node id.")
@click.option("--send", is_flag=True, help="Queue pending advisories never sent.")
@click.option("--again", is_flag=True, help="With --send: send every pending advisory anew.")
@data_dir_option
@merged_option
@json_option
@reader_options("advisory follow-up")
@reports_errors
def advisories(
    node_id: str | None,
    send: bool,
    again: bool,
    data_dir: Path,
    merged: Path | None,
    as_json: bool,
    actor: str,
    purpose: str,
) -> None:
    """List advisories still pending (the node has not written the field since).

    ``--send`` queues those never sent (every merge does too); ``--send --again`` sends
    every pending one anew, e.g. after a township was restored from an old backup (a
    node applies each advisory once, however often it arrives).

    Example:

    \b
        renkou county advisories --node village:440104001002
        renkou county advisories --send
    """
    from county_aggregator.advised import pending_advisories

    node, db = _open(data_dir, merged)
    if send or again:
        from county_aggregator.advisories import issue_pending
        from node.store.changelog import now_ms

        _echo_issued(issue_pending(db, node, now_ms(), again=again), err=as_json)
    rows = pending_advisories(db, node_id)
    _audit(node, actor, "county_advisories", ((r["kind"], r["record"]) for r in rows), purpose)
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        value = json.dumps(r["value"], ensure_ascii=False)
        _say(
            f"{r['for_node']}  {r['kind']} {r['record']}  {r['field']} := {value}  "
            + _("(conflict %(id)s)", id=r["conflict"][:12])
        )


@county.command()
@click.option(
    "--stale-months",
    type=click.IntRange(1, 600),
    default=12,
    show_default=True,
    help="A live card unchanged this long is listed as stale.",
)
@data_dir_option
@merged_option
@json_option
@reader_options("data quality check")
@reports_errors
def quality(
    stale_months: int,
    data_dir: Path,
    merged: Path | None,
    as_json: bool,
    actor: str,
    purpose: str,
) -> None:
    """Data-quality findings per village: births without a mother card, implausible
    dates, one ID number under different names, stale cards.

    Example:

    \b
        renkou county quality --stale-months 6
    """
    from county_aggregator.quality import DETAILS, build_quality

    node, db = _open(data_dir, merged)
    rows = build_quality(db, now_ms=time.time_ns() // 1_000_000, stale_months=stale_months)
    _audit(node, actor, "county_quality", ((r["kind"], r["key"]) for r in rows), purpose)
    if as_json:
        _echo_json([{k: v for k, v in r.items() if k != "detail_args"} for r in rows])
        return
    for r in rows:
        said = _(DETAILS[r["check"]], **r["detail_args"])
        _say(f"{r['village']}  {r['check']:<20} {r['kind']} {r['key']}  {said}")
    click.echo(_("%(n)s finding(s)", n=len(rows)), err=True)


@county.command()
@click.option(
    "--silent-days",
    type=click.IntRange(1, 3650),
    envvar="RENKOU_SILENT_DAYS",
    default=35,
    show_default=True,
    help="Alert for a node not heard from (directly or through its relay) for longer.",
)
@click.option(
    "--admin-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The administrator's directory: list every node issued a certificate there.",
)
@data_dir_option
@json_option
@reports_errors
def nodes(silent_days: int, admin_dir: Path | None, data_dir: Path, as_json: bool) -> None:
    """Every node of the county: last contact, head, what the county holds, alerts.

    Example:

    \b
        renkou county nodes --silent-days 35
    """
    from county_aggregator.nodes import node_rows
    from node.i18n import gettext
    from node.store.store import NodeStore

    store = NodeStore.open(data_dir)
    issued = sorted(p.stem for p in (admin_dir / "issued").glob("*.cert")) if admin_dir else []
    rows = node_rows(store, store.clock(), silent_days, issued)
    if as_json:
        _echo_json([r.as_dict() for r in rows])
        return
    for r in rows:
        seen = _day(r.last_contact) if r.last_contact else gettext("never")
        via = gettext(" via %(relay)s", relay=r.relay) if r.relay else ""
        line = gettext(
            "%(node)s  last contact %(seen)s%(via)s  head %(head)s (%(when)s)  "
            "held at the county %(held)s",
            node=r.node, seen=seen, via=via, head=r.head,
            when=_day(r.head_at) if r.head_at else "-", held=r.held,
        )  # fmt: skip
        if r.alert:
            line += "  " + (
                gettext("ALERT: never heard from")
                if r.silent_days < 0
                else gettext(
                    "ALERT: not heard from for %(days)s days (more than %(limit)s)",
                    days=r.silent_days,
                    limit=silent_days,
                )
            )
        _say(line)
    click.echo(gettext("%(n)s node(s), %(alerts)s alert(s)", n=len(rows),
                       alerts=sum(r.alert for r in rows)), err=True)  # fmt: skip


def _day(ms: int) -> str:
    from datetime import datetime

    from node.timeutil import SHANGHAI

    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%d")


def _add_reports() -> None:
    from county_aggregator.exchange.cli import exchange
    from county_aggregator.reports.cli import add_report_command

    add_report_command(county)
    county.add_command(exchange)  # the floating-population exchange with other counties


_add_reports()
