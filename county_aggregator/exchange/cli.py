# SPDX-License-Identifier: Apache-2.0
"""``renkou county exchange …``: the floating-population exchange for the county officer.

``peer`` registers a peer county's county node (its certificate, checked through our
cross-certificate of its root, and its server's address); ``push`` sends what is
pending, ``export``/``import`` carry it on files; ``inbox`` lists what other counties
told us and ``answer`` answers it; ``status`` lists what we told them. Every command
that shows a person's data writes the county audit trail first (issue 13).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from county_aggregator.cli_options import reader_options
from county_aggregator.store_exchange import ExchangeStore
from node.cli_options import data_dir_option, reports_errors
from node.i18n import gettext as _

AUDIT_KIND = "floating_notification"


def after_merge(data_dir: Path, node: Any, merged: Any) -> None:
    """Called by ``renkou county merge``: the merged events' notifications (篇10 第24条)."""
    from county_aggregator.exchange.derive import derive_notifications
    from node.calendar_store import node_calendar

    now = node.clock()
    new = derive_notifications(
        merged, ExchangeStore(node.db), node.node.code, node_calendar(data_dir), _today(now), now
    )
    click.echo(_("Floating-population notifications made: %(n)s.", n=new))


def _head(path: Path, n: int) -> bytes:
    """At most ``n`` bytes of a file an officer names: a wrong file of gigabytes is
    refused by the decoder's bound without being read into memory."""
    with open(path, "rb") as fh:
        return fh.read(n)


def _today(now: int) -> date:
    from node.timeutil import shanghai_today

    return shanghai_today(datetime.fromtimestamp(now / 1000, UTC))


def _open(data_dir: Path) -> tuple[Any, ExchangeStore, Any]:
    from node.store.store import NodeStore
    from node.sync.trust import Trust

    node = NodeStore.open(data_dir)
    return node, ExchangeStore(node.db), Trust.load(node.db, data_dir)


_actor = reader_options("floating-population exchange")


@click.group()
def exchange() -> None:
    """Floating-population exchange with other counties (流动人口信息通报)."""


@exchange.command()
@click.option("--county", "code", required=True, help="The peer county's 6-digit code.")
@click.option("--url", default="", help="The peer county node's server (https://…).")
@click.option("--certificate", "cert_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Its county node certificate on a file (no link).")  # fmt: skip
@data_dir_option
@reports_errors
def peer(code: str, url: str, cert_file: Path | None, data_dir: Path) -> None:
    """Register a peer county's county node: its certificate must verify through our
    cross-certificate of its root (renkou keys trust).

    Example:

    \b
        renkou county exchange peer --county 440105 --url https://rk.haizhu.example
    """
    import requests

    from county_aggregator.exchange.send import TIMEOUT_S
    from node.errors import NodeError

    node, store, trust = _open(data_dir)
    if cert_file is not None:
        raw = _head(cert_file, 65_537)
    else:
        try:
            resp = requests.get(url.rstrip("/") + "/exchange/v1/certificate", timeout=TIMEOUT_S)
        except requests.RequestException:
            resp = None
        if resp is None or resp.status_code != 200:
            raise NodeError(f"无法从 {url} 取得对方县级节点证书",
                            f"could not fetch the county node certificate from {url}",
                            code="exchange.unreachable")  # fmt: skip
        raw = resp.content[:65_537]
    cert = trust.check(raw, node.clock())
    if cert.node.code != code or cert.issuer == trust.root.node:
        raise NodeError(f"证书属于 {cert.node}，不是县 {code} 的县级节点",
                        f"the certificate is {cert.node}'s, not county {code}'s node",
                        code="exchange.wrong_peer")  # fmt: skip
    store.add_peer(code, url, cert.raw, node.clock())
    click.echo(_("Peer county %(code)s registered (certificate %(serial)s).", code=code,
                 serial=cert.serial))  # fmt: skip


def _outgoing(data_dir: Path) -> tuple[Any, ExchangeStore, list[Any]]:
    from county_aggregator.exchange.send import outgoing
    from node.errors import NodeError

    node, store, trust = _open(data_dir)
    own = (data_dir / "keys" / "node.cert").read_bytes()
    notices = _refresh(data_dir, node, store)
    items = []
    for item in outgoing(node.identity, own, store, trust, node.clock(), notices=notices):
        if isinstance(item, NodeError):
            click.echo(f"{item.zh} / {item.en} [{item.code}]", err=True)
        else:
            items.append(item)
    return node, store, items


def _refresh(data_dir: Path, node: Any, store: ExchangeStore) -> bool:
    """Re-derive the unsent notifications from merged.db as it is now, before any is
    sealed (derive.py): a card corrected since the last merge never sends her data to
    the county it named before. Without merged.db no notification goes (answers do)."""
    from county_aggregator.exchange.derive import derive_notifications
    from county_aggregator.store import open_merged
    from node.calendar_store import node_calendar

    path = data_dir / "merged.db"
    if not path.exists():
        click.echo(_("No merged.db: notifications are not sent until renkou county merge "
                     "has run (answers are sent)."), err=True)  # fmt: skip
        return False
    now = node.clock()
    db = open_merged(path, key=node.identity.db_key)
    derive_notifications(db, store, node.node.code, node_calendar(data_dir), _today(now), now)
    return True


@exchange.command()
@click.option("--id-number", required=True, help="The woman's ID number.")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["doubtful_data", "other"]),
    help="doubtful_data: data in doubt (篇10 第24条 ⑦); other: anything else (⑧).",
)
@click.option("--details", required=True, help="What is notified (at most 500 characters).")
@click.option("--event-date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day of the event [default: today].")  # fmt: skip
@data_dir_option
@click.option("--merged", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Merged database file [default: <data-dir>/merged.db].")  # fmt: skip
@_actor
@reports_errors
def notify(id_number: str, kind: str, details: str, event_date: datetime | None,
           data_dir: Path, merged: Path | None, actor: str, purpose: str) -> None:  # fmt: skip
    """Notify a woman's hukou county by hand of doubtful data or anything else (篇10
    第24条 ⑦ ⑧); births, procedures, pregnancies and checks are notified after each merge.

    Example:

    \b
        renkou county exchange notify --id-number 440105199503030026 --kind doubtful_data \\
            --details "婚姻状况与户籍地登记不一致"
    """
    from county_aggregator.exchange.manual import notify_by_hand
    from county_aggregator.store import open_merged
    from node.calendar_store import node_calendar

    node, store, _trust = _open(data_dir)
    db = open_merged(merged or data_dir / "merged.db", key=node.identity.db_key)
    node.audit(actor, "county_exchange_notify", "person", f"idn:{id_number}", purpose)
    now = node.clock()
    day = event_date.date() if event_date is not None else _today(now)
    nid, new = notify_by_hand(db, store, node.node.code, id_number, kind, day, details,
                              node_calendar(data_dir), now)  # fmt: skip
    made = store.sent(nid)
    due = made.due if made is not None else ""
    said = _("Notification %(id)s made, due %(due)s.", id=nid[:12], due=due)
    click.echo(said if new else _("Notification %(id)s was made already.", id=nid[:12]))


@exchange.command()
@data_dir_option
@reports_errors
def push(data_dir: Path) -> None:
    """Send every notification and answer not yet sent to its county's server.

    Example:

    \b
        renkou county exchange push
    """
    from county_aggregator.exchange.send import push as run

    node, store, items = _outgoing(data_dir)
    now = node.clock()
    done = run(items, store, now, _today(now))
    for d in done:
        click.echo(_("%(type)s %(id)s to %(county)s: %(code)s", type=d.type, id=d.id[:12],
                     county=d.county, code=d.code))  # fmt: skip
    failed = sum(not d.ok for d in done)
    click.echo(_("Sent %(ok)s, not sent %(failed)s.", ok=len(done) - failed, failed=failed))
    if failed:
        raise SystemExit(1)


@exchange.command("export")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the sealed messages into.")  # fmt: skip
@data_dir_option
@reports_errors
def export_(out: Path, data_dir: Path) -> None:
    """Write every message not yet sent to files, for a county with no link.

    Example:

    \b
        renkou county exchange export --out /media/usb/exchange
    """
    from county_aggregator.exchange.send import export

    node, store, items = _outgoing(data_dir)
    now = node.clock()
    written = export(items, store, out, now, _today(now))
    click.echo(_("%(n)s message(s) written to %(out)s.", n=len(written), out=out))


@exchange.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))  # fmt: skip
@data_dir_option
@reports_errors
def import_(files: tuple[Path, ...], data_dir: Path) -> None:
    """Take messages a peer county sent on files (checked exactly as over HTTP).

    Example:

    \b
        renkou county exchange import /media/usb/exchange/*.rkx
    """
    from county_aggregator.exchange.receive import receive
    from node.calendar_store import node_calendar
    from node.errors import NodeError
    from protocol.errors import ProtocolError
    from protocol.exchange import MAX_MESSAGE

    node, store, trust = _open(data_dir)
    calendar, bad = node_calendar(data_dir), 0
    for path in files:
        now = node.clock()
        try:
            kept = receive(_head(path, MAX_MESSAGE + 1), node.identity, trust, store,
                           calendar, now, _today(now))  # fmt: skip
        except (NodeError, ProtocolError) as exc:
            bad += 1
            click.echo(_("%(file)s refused: %(code)s %(why)s", file=path.name, code=exc.code,
                         why=str(exc)), err=True)  # fmt: skip
            continue
        said = _("new") if kept.new else _("duplicate")
        click.echo(_("%(file)s: %(type)s %(id)s, %(said)s", file=path.name, type=kept.type,
                     id=kept.id[:12], said=said))  # fmt: skip
    if bad:
        raise SystemExit(1)


@exchange.command()
@click.option("--all", "show_all", is_flag=True, help="Answered ones too.")
@data_dir_option
@_actor
@reports_errors
def inbox(show_all: bool, data_dir: Path, actor: str, purpose: str) -> None:
    """Notifications other counties sent about women of our hukou villages, with the
    day each answer is due (5 working days after receipt, 篇10 第24条).

    Example:

    \b
        renkou county exchange inbox
    """
    from county_aggregator.exchange.answers import reply_due
    from node.calendar_store import node_calendar

    node, store, _trust = _open(data_dir)
    items = store.inbox(open_only=not show_all)
    refs = [(AUDIT_KIND, f"received:{r.from_county}:{r.id}") for r in items]
    node.audit_many(actor, "county_exchange_inbox", refs, purpose)
    calendar = node_calendar(data_dir)
    today = _today(node.clock())
    for r in items:
        b = r.body
        due = reply_due(r, calendar)
        state = (_("answered %(day)s (%(outcome)s)", day=r.answered_date, outcome=r.outcome)
                 if r.outcome else _("OVERDUE") if today > due.due else _("open"))  # fmt: skip
        shown = due.due.isoformat() + (_(" (provisional)") if due.provisional else "")
        _say(_("%(id)s from %(county)s  %(kind)s %(day)s  due %(due)s  %(state)s",
               id=r.id[:12], county=r.from_county, kind=r.kind, day=r.event_date, due=shown,
               state=state))  # fmt: skip
        if "name" not in b:  # erased at the end of retention (store_exchange.erase_bodies)
            _say(_("    (personal data erased at the end of retention)"))
            continue
        _say(f"    {b['name']} {b['id_number']}  {b['hukou_address']} ({b['hukou_code']})")
        _say(_("    lives at: %(address)s", address=b["residence_address"]))


def _say(line: str) -> None:
    from node.domain.text import terminal_safe

    click.echo(terminal_safe(line))


@exchange.command()
@click.argument("notification_id")
@click.option("--outcome", required=True, type=click.Choice(["updated", "not_found", "other"]),
              help="updated: found and updated; not_found: only after a cross-check.")  # fmt: skip
@click.option("--cross-check", default="", help="Which records the data was checked against.")
@click.option("--note", default="", help="Anything the residence place should know.")
@data_dir_option
@_actor
@reports_errors
def answer(notification_id: str, outcome: str, cross_check: str, note: str, data_dir: Path,
           actor: str, purpose: str) -> None:  # fmt: skip
    """Answer a notification in the inbox (ID may be a prefix of 6 digits or more); the
    answer goes with the next push or export.

    Example:

    \b
        renkou county exchange answer 3f2a9c --outcome updated
        renkou county exchange answer 3f2a9c --outcome not_found --cross-check "户籍卡、派出所"
    """
    from county_aggregator.exchange.answers import answer as run
    from county_aggregator.exchange.answers import find_one
    from node.calendar_store import node_calendar

    node, store, _trust = _open(data_dir)
    item = find_one(store, notification_id)
    node.audit(actor, "county_exchange_answer", AUDIT_KIND,
               f"received:{item.from_county}:{item.id}", purpose)  # fmt: skip
    on_time = run(store, item, outcome, cross_check, note, actor, _today(node.clock()),
                  node_calendar(data_dir))  # fmt: skip
    click.echo(_("Answered %(id)s: %(outcome)s, %(when)s.", id=item.id[:12], outcome=outcome,
                 when=_("on time") if on_time else _("late")))  # fmt: skip


@exchange.command()
@data_dir_option
@reports_errors
def status(data_dir: Path) -> None:
    """Notifications we sent: due (5 working days after the event), sent, answered, on
    time. Shows no names or ID numbers.

    Example:

    \b
        renkou county exchange status
    """
    node, store, _trust = _open(data_dir)
    today = _today(node.clock()).isoformat()
    for s in store.sent_all():
        if s.outcome is not None:
            state = _("answered: %(outcome)s, %(when)s", outcome=s.outcome,
                      when=_("on time") if s.on_time else _("late"))  # fmt: skip
        elif s.sent is not None:
            state = _("sent, awaiting the answer")
        else:
            state = _("OVERDUE, not sent") if today > s.due else _("not sent yet")
        click.echo(_("%(id)s to %(county)s  %(kind)s %(day)s  due %(due)s  %(state)s",
                     id=s.id[:12], county=s.to_county, kind=s.kind, day=s.event_date,
                     due=s.due, state=state))  # fmt: skip
