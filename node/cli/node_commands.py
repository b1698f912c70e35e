# SPDX-License-Identifier: Apache-2.0
"""``renkou node …``: what a village or township officer runs on the node's PC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, TypeVar

import click

from node.cli_options import DAY, data_dir_option, reports_errors
from node.i18n import gettext as _
from node.i18n.cli import table
from node.output_files import check_target, force_option, write_output

F = TypeVar("F", bound=Callable[..., object])


@click.group()
def node() -> None:
    """Village and township node: records, registers, reports, sync."""


@node.command()
@click.option("--code", required=True, help="12-digit village (or 9-digit township) code.")
@click.option("--name", required=True, help="The village's name, as printed on registers.")
@data_dir_option
@reports_errors
def init(code: str, name: str, data_dir: Path) -> None:
    """Create a node: its keys, its database and the first entry of its log.

    Example:

    \b
        renkou node init --code 441322119001 --name 上南村 --data-dir ./village
    """
    from node.domain.divisions import check_node_code
    from node.domain.text import check_node_name
    from node.store.store import NodeStore
    from protocol import NodeId

    check_node_code(code)
    check_node_name(name)
    store = NodeStore.init(data_dir, NodeId.for_code(code), name)
    click.echo(_("Initialised %(node)s (%(name)s) in %(dir)s.", node=store.node, name=name,
                 dir=data_dir))  # fmt: skip
    click.echo(_("Next: ask the administrator to enrol this PC (renkou keys enrol)."))


@node.command()
@click.option(
    "--county-lag-days",
    type=click.IntRange(1, 365),
    envvar="RENKOU_COUNTY_LAG_DAYS",
    default=3,
    show_default=True,
    help="Alert when the county's confirmation lags the township's by more days than this.",
)
@data_dir_option
@reports_errors
def status(county_lag_days: int, data_dir: Path) -> None:
    """Show the node's identity, log head and integrity.

    Example:

    \b
        renkou node status
    """
    from node.domain.records import KIND_LABELS
    from node.i18n import cli_language
    from node.store.store import NodeStore

    store = NodeStore.open(data_dir)
    log = store.changelog
    counts = store.counts()
    named = KIND_LABELS if cli_language() == "zh_CN" else {}
    for line in table(
        [
            [_("Node:"), f"{store.node} ({store.name})"],
            [
                _("Log:"),
                _(
                    "%(log)s, head entry %(seq)s %(hash)s…",
                    log=log.log,
                    seq=log.head_seq,
                    hash=log.head_hash.hex()[:16],
                ),
            ],  # fmt: skip
            [
                _("Records:"),
                "，".join(f"{named.get(k, k)} {n}" for k, n in counts.items()) or _("none"),
            ],  # fmt: skip
        ]
    ):
        click.echo(line)
    from node.sync.delivery import delivery
    from node.sync.status import delivery_lines, status_lines
    from protocol import Role

    if store.node.role is not Role.COUNTY:  # the county has nobody upstream
        sent = delivery(store.db, log.log, log.head_seq)
        for line in delivery_lines(sent, store.clock(), county_lag_days):
            click.echo(line)
    for line in status_lines(store.db, store.data_dir):
        click.echo(line)
    from node.store.audit import first_break, head

    rows, chain = head(store.db)
    broken = first_break(store.db)
    if broken is None:
        click.echo(_("audit:     %(rows)s rows, chain whole, head %(head)s…", rows=rows,
                     head=chain.hex()[:16]))  # fmt: skip
    else:
        click.echo(_("ALERT:     audit trail altered at row %(row)s", row=broken))


@node.command()
@click.option(
    "--today",
    type=DAY,
    default=None,
    help="Date to count from (default: today in Asia/Shanghai).",
)
@click.option("--actor", default="officer", show_default=True, help="Who lists (audited).")
@data_dir_option
@reports_errors
def due(today: datetime | None, actor: str, data_dir: Path) -> None:
    """List what the office owes and by when (working days, official holidays).

    An item stays listed until what closes it is recorded (a report's sending, a
    registration passed on, a complaint answered), overdue or not.

    Example:

    \b
        renkou node due
    """
    from node.due_listing import due_lines

    for line in due_lines(data_dir, today, actor):
        click.echo(line)


@node.group()
def retention() -> None:
    """Records past their retention period, for controlled deletion."""


@retention.command("list")
@click.option("--today", type=DAY, default=None)
@data_dir_option
@reports_errors
def retention_list(today: datetime | None, data_dir: Path) -> None:
    """List cards and printed registers whose retention has ended.

    Example:

    \b
        renkou node retention list
    """
    from node.i18n import cli_language
    from node.retention import due_for_deletion
    from node.store import archive
    from node.store.store import NodeStore
    from node.timeutil import shanghai_today

    store = NodeStore.open(data_dir)
    day = today.date() if today is not None else shanghai_today()
    expired = due_for_deletion(store, day)
    for e in expired:
        reason = e.reason_zh if cli_language() == "zh_CN" else e.reason_en
        click.echo(_("%(kind)s %(record)s  %(reason)s (since %(since)s)", kind=e.kind,
                     record=e.record_id, reason=reason, since=e.since))  # fmt: skip
    click.echo(_("%(n)s record(s) due for deletion", n=len(expired)))
    prints = archive.due(store, day)
    for a in prints:
        click.echo(_("print #%(id)s  %(name)s %(period)s printed %(printed)s kept to %(until)s",
                     id=a.id, name=a.name, period=a.period, printed=a.printed_at,
                     until=a.keep_until))  # fmt: skip
    click.echo(_("%(n)s printed register(s) due for destruction (retention destroy-prints)",
                 n=len(prints)))  # fmt: skip


@retention.command("delete")
@click.argument("record_ids", nargs=-1, required=True)
@click.option("--today", type=DAY, default=None)
@click.option("--yes", is_flag=True, help="Confirm the controlled deletion.")
@data_dir_option
@reports_errors
def retention_delete(
    record_ids: tuple[str, ...], today: datetime | None, yes: bool, data_dir: Path
) -> None:
    """Delete (retire with reason 'retention') cards whose retention has ended.

    Example:

    \b
        renkou node retention delete P12 P40 --yes
    """
    from node.retention import delete_expired
    from node.store.store import NodeStore
    from node.timeutil import shanghai_today

    if not yes:
        raise click.UsageError(_("Controlled deletion needs --yes."))
    store = NodeStore.open(data_dir)
    day = today.date() if today is not None else shanghai_today()
    count = delete_expired(store, list(record_ids), day)
    click.echo(_("Deleted %(count)s of %(total)s (the others are not due for deletion).",
                 count=count, total=len(record_ids)))  # fmt: skip


@node.command("import-schedule")
@click.argument("file", type=click.File("rb"))
@data_dir_option
@reports_errors
def import_schedule_command(file: IO[bytes], data_dir: Path) -> None:
    """Import a holiday schedule signed by the county root.

    Example:

    \b
        renkou node import-schedule holidays-2027.signed
    """
    from node.calendar_store import import_schedule

    schedule = import_schedule(data_dir, file.read())
    click.echo(_("Imported the official schedule for %(year)s.", year=schedule.year))


@node.command()
@click.argument("name")
@click.option("--month", required=True, help="YYYY-MM (YYYYY for an annual register)")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@force_option
@click.option(
    "--actor",
    default="officer",
    show_default=True,
    help="Who prints it (kept in the audit log: a register shows personal data).",
)
@data_dir_option
@reports_errors
def register(
    name: str, month: str, fmt: str, out: Path, force: bool, actor: str, data_dir: Path
) -> None:
    """Print register NAME for a month (marriages, births, supplies, ...) to a file.

    The print is archived as printed (signed) and audited.

    Example:

    \b
        renkou node register births --month 2026-03 --format xlsx --out births.xlsx
    """
    from node.domain.text import terminal_safe
    from node.registers.printing import print_register
    from node.store.store import NodeStore

    check_target(out, force=force, protected=[data_dir])  # before the print is audited
    store = NodeStore.open(data_dir)
    printed = print_register(store, name, month, fmt, actor=actor, purpose=f"export {fmt}")
    write_output(out, printed.output, force=force, protected=[data_dir])
    title = terminal_safe(printed.register.full_title)
    click.echo(_("%(title)s: %(n)s row(s) written to %(out)s", title=title,
                 n=len(printed.register.rows), out=out))  # fmt: skip


@node.command()
@click.argument("kind", type=click.Choice(["monthly"]))
@click.option("--month", required=True, help="YYYY-MM")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    default=None,
    help="Write a file instead of printing a summary.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@force_option
@click.option("--actor", default="officer", show_default=True)
@data_dir_option
@reports_errors
def report(
    kind: str,
    month: str,
    fmt: str | None,
    out: Path | None,
    force: bool,
    actor: str,
    data_dir: Path,
) -> None:
    """The monthly change report (月变更报告单) for the township, archived and audited.

    Example:

    \b
        renkou node report monthly --month 2026-03 --format xlsx --out changes.xlsx
    """
    from node.registers.printing import MONTHLY_CHANGES, print_register
    from node.store.store import NodeStore

    if fmt is not None and out is None:
        raise click.UsageError(_("--format needs --out."))
    if out is not None and fmt is not None:
        check_target(out, force=force, protected=[data_dir])  # before the print is audited
    store = NodeStore.open(data_dir)
    printed = print_register(
        store, MONTHLY_CHANGES, month, fmt or "screen", actor=actor, purpose="report"
    )
    if out is not None and fmt is not None:
        write_output(out, printed.output, force=force, protected=[data_dir])
        click.echo(_("%(title)s: %(n)s change(s) written to %(out)s",
                     title=printed.register.full_title, n=len(printed.register.rows),
                     out=out))  # fmt: skip
        return
    lines = printed.text.splitlines()
    for line in lines[:52]:
        click.echo(line)
    if len(lines) > 52:
        click.echo(_("  … %(n)s more (use --format/--out for the full report)",
                     n=len(lines) - 52))  # fmt: skip


@node.command()
@click.option("--residents", type=click.IntRange(1, 50_000), default=1000, show_default=True)
@click.option("--months", type=click.IntRange(0, 120), default=12, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--start",
    type=DAY,
    default="2025-10-01",
    show_default=True,
    help="First day of the generated history.",
)
@data_dir_option
@reports_errors
def generate(residents: int, months: int, seed: int, start: datetime, data_dir: Path) -> None:
    """Fill this (test) village with realistic synthetic residents and events.

    Example:

    \b
        renkou node generate --residents 5000 --months 12 --seed 7
    """
    from node.store.store import NodeStore
    from node.synth import generate_village

    store = NodeStore.open(data_dir)
    summary = generate_village(
        store, residents=residents, months=months, seed=seed, start=start.date(), progress=True
    )
    click.echo(_("Generated: %(summary)s", summary=summary))


def parent_url_option(func: F) -> F:
    return click.option(
        "--parent-url",
        envvar="RENKOU_PARENT_URL",
        default=None,
        help="The parent's sync address (township for a village, county for a "
        "township), e.g. https://township.example:8440",
    )(func)


@node.command()
@parent_url_option
@data_dir_option
@reports_errors
def sync(parent_url: str | None, data_dir: Path) -> None:
    """Run one sync round with the parent: push what it lacks, pull what is ours.

    Example:

    \b
        renkou node sync --parent-url http://127.0.0.1:8440
    """
    from node.store.store import NodeStore
    from node.sync.client import SyncClient, SyncFailed
    from node.sync.parent import parent_url as kept_parent_url

    parent_url = parent_url or kept_parent_url(data_dir)  # kept at enrolment
    if not parent_url:
        raise click.UsageError(_("--parent-url (or RENKOU_PARENT_URL) is required."))
    store = NodeStore.open(data_dir)
    try:
        report = SyncClient(store, parent_url).sync_round()
    except SyncFailed as exc:
        # A failure without the parent's own words says 同步失败 itself (SyncFailed).
        zh = exc.zh.removeprefix("同步失败：")
        click.echo(_("Sync failed: %(zh)s / %(en)s", zh=zh, en=exc.en), err=True)
        raise SystemExit(2) from None
    if report.idle:
        click.echo(_("Nothing to sync (1 round trip)."))
    else:
        click.echo(
            _(
                "Pushed %(pushed)s entries, forwarded %(forwarded)s envelopes, pulled "
                "%(pulled)s messages in %(requests)s requests.",
                pushed=report.pushed_entries,
                forwarded=report.forwarded_envelopes,
                pulled=report.pulled,
                requests=report.requests,
            )  # fmt: skip
        )


@node.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8440, show_default=True)
@click.option(
    "--every",
    type=click.IntRange(10, 86_400),
    default=300,
    show_default=True,
    help="Seconds between sync rounds with the parent (with --parent-url).",
)
@parent_url_option
@data_dir_option
@reports_errors
def serve(host: str, port: int, every: int, parent_url: str | None, data_dir: Path) -> None:
    """Serve the operator pages and the sync API, and sync with the parent on a schedule.

    For a township or the county. Put TLS in front of it (deploy/nginx) on real links.

    Example:

    \b
        renkou node serve --port 8440 --parent-url http://county.example:8440
    """
    import threading
    import time

    from node.i18n import cli_language
    from node.server import create_app
    from node.server.serving import NodeServer
    from node.store.store import NodeStore
    from node.sync.client import SyncClient, SyncFailed
    from node.sync.parent import parent_url as kept_parent_url

    NodeStore.open(data_dir).close()  # fail now, with a clear message, if there is no node
    parent_url = parent_url or kept_parent_url(data_dir) or None  # kept at enrolment

    def sync_loop() -> None:
        while True:
            time.sleep(every)
            store = NodeStore.open(data_dir)
            try:
                SyncClient(store, parent_url or "").sync_round()
            except SyncFailed as exc:
                reason = exc.en if cli_language() == "en" else exc.zh
                click.echo(_("Sync failed, will retry: %(reason)s", reason=reason), err=True)
            finally:
                store.close()

    if parent_url:
        threading.Thread(target=sync_loop, daemon=True).start()
    app = create_app({"RENKOU_DATA_DIR": str(data_dir), "RENKOU_PARENT_URL": parent_url or ""})
    click.echo(_("Serving %(dir)s on %(url)s", dir=data_dir, url=f"http://{host}:{port}/sync/v1/"))
    click.echo(_("Pages (sign in): %(url)s  (accounts: renkou node user add)",
                 url=f"http://{host}:{port}/"))  # fmt: skip
    NodeServer(host, port, app).serve_forever()


from node.cli.users import user  # noqa: E402  (accounts for the pages, node/cli/users.py)

node.add_command(user)

from node.cli.add import add  # noqa: E402  (records from card files, node/cli/add.py)
from node.cli.edit import edit  # noqa: E402  (the pages' correction, node/cli/edit.py)

node.add_command(add)
node.add_command(edit)

from node.cli.bulk import template  # noqa: E402  (bulk-entry sheets, node/cli/bulk.py)

node.add_command(template)

from node.cli.done import done  # noqa: E402  (close an open item, node/cli/done.py)

node.add_command(done)

from node.cli.backups import backup, new_epoch, restore  # noqa: E402  (node/cli/backups.py)

for _command in (backup, restore, new_epoch):
    node.add_command(_command)

from node.cli.recover import recover  # noqa: E402  (recovery from upstream, node/cli/recover.py)

node.add_command(recover)
