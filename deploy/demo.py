# SPDX-License-Identifier: Apache-2.0
"""``renkou demo``: a whole county on this machine, syncing over loopback HTTP.

Named after a real county, 博罗县 (441322, Huizhou, Guangdong: a coastal industrial
county with many floating residents) and three of its real towns; the villages below
them and all residents are synthetic. The county and each town run the real sync
server on a free loopback port; each village generates a realistic year into its own
SQLite store, and sync rounds carry every change village -> town -> county, with the
county's acknowledgements travelling back down.

Every PC is enrolled the way an administrator does it (issue 14): the county's root is
made offline (``admin/offline-root``) and certifies the issuing key the aggregator
serves enrolments with; each town and village gets a one-time code (``renkou keys
invite``) and enrols with it over the network (``renkou node enroll``), a village
through its town.

What it prints is in the officer's language, through the catalogue (Chinese by default,
English with ``--lang en``; issue 15 item 10); names, codes and addresses as they are.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from wcwidth import wcswidth

from county_aggregator.merge import merge_new
from county_aggregator.notices import send_notices
from county_aggregator.store import counts as merged_counts
from county_aggregator.store import open_merged
from node.admin import CountyAdmin
from node.i18n import gettext as _
from node.i18n.cli import table
from node.keys.enrolment import enrol_with_code
from node.keys.invites import DAY_MS, create_invite
from node.keys.unlock import PASSPHRASE_ENV
from node.pages.demo_accounts import DEMO_PASSWORD, add_demo_accounts, demo_pages, sign_in_line
from node.server import create_app
from node.server.serving import NodeServer
from node.store.acks import PeerAcks
from node.store.holdings import Holdings
from node.store.outcomes import CountyOutcomes
from node.store.store import NodeStore
from node.sync.client import SyncClient
from node.timeutil import SHANGHAI
from protocol import NodeId
from protocol import Role as NodeRole
from protocol.enrolment import format_code

COUNTY = ("441322", "博罗县")
TOWNS = (("441322119", "园洲镇"), ("441322121", "石湾镇"), ("441322100", "石坝镇"))
VILLAGES_PER_TOWN = 4
Echo = Callable[[str], None]
PHASES: dict[str, Callable[[], str]] = {
    "push": lambda: _("push"),
    "forward": lambda: _("forward"),
    "merge": lambda: _("merge"),
}
"""Each step of a sync pass as printed (looked up when printed: the language is the run's)."""
NODE_KINDS: tuple[tuple[NodeRole, Callable[[], str]], ...] = (
    (NodeRole.VILLAGE, lambda: _("villages")),
    (NodeRole.TOWNSHIP, lambda: _("townships")),
    (NodeRole.COUNTY, lambda: _("the county")),
)
"""Each kind of node whose pages the demo lists, as printed."""


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal cells (a Chinese character takes two)."""
    return text + " " * max(0, width - wcswidth(text))


@dataclass
class DemoCounty:
    directory: Path
    servers: list[NodeServer] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    stores: dict[str, NodeStore] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    last_sync: dict[str, str] = field(default_factory=dict)
    merged: dict[str, int] = field(default_factory=dict)

    def serve(self, store: NodeStore, parent: str = "", admin_dir: Path | None = None) -> None:
        config = {"RENKOU_DATA_DIR": str(store.data_dir), "RENKOU_PARENT_URL": parent}
        if admin_dir is not None:
            config["RENKOU_ADMIN_DIR"] = str(admin_dir)  # the county answers enrolments
        app = create_app(config)
        server = NodeServer("127.0.0.1", 0, app)
        server.start()
        self.servers.append(server)
        self.urls[store.node.code] = server.url

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        for store in self.stores.values():
            store.close()


DEMO_PASSPHRASE = "renkou-demo-keys"
"""What the demo's key files are locked with when no passphrase is given (README)."""


def run_demo(directory: Path | None, *, once: bool, seed: int, echo: Echo) -> None:
    """Build, sync and summarise the demo county; keep serving unless ``once``."""
    _demo_passphrase(echo)
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="renkou-demo-") as tmp:
            _run(Path(tmp), once, seed, echo)
    else:
        _run(directory, once, seed, echo)


def _demo_passphrase(echo: Echo) -> None:
    """The demo's keys are locked like every node's, under one passphrase. With none
    given, the demo chooses it and says so: `make demo` on a fresh machine must neither
    stop to ask a new user for a secret they cannot know nor fail without a terminal, and
    its data is generated (in a temporary directory unless --dir)."""
    if os.environ.get(PASSPHRASE_ENV):
        return
    os.environ[PASSPHRASE_ENV] = DEMO_PASSPHRASE
    echo(
        _(
            "demo keys are locked with the passphrase %(passphrase)s"
            " (set RENKOU_PASSPHRASE to choose your own)",
            passphrase=DEMO_PASSPHRASE,
        )
    )


def _run(directory: Path, once: bool, seed: int, echo: Echo) -> None:
    with _county(directory, seed, echo) as county:
        _sync_everything(county, echo)
        _summary(county, echo)
        _sign_ins(county, echo, once)
        if once:
            return
        echo("")
        echo(_("sync servers (Ctrl-C to stop):"))
        servers = [
            [county.names[c], f"{u}/sync/v1/"] for c, u in county.urls.items() if len(c) < 12
        ]
        for line in table(servers):
            echo(f"  {line}")
        echo(_("villages sync every 60 s meanwhile"))
        try:
            while True:
                time.sleep(60)
                _sync_everything(county, lambda _m: None)
        except KeyboardInterrupt:
            echo(_("stopped"))


@contextmanager
def _county(directory: Path, seed: int, echo: Echo) -> Iterator[DemoCounty]:
    from node.synth import generate_village

    now = time.time_ns() // 1_000_000
    county = DemoCounty(directory)
    try:
        admin = CountyAdmin.create(directory / "admin", COUNTY[0], now)
        c_store = NodeStore.init(directory / COUNTY[0], NodeId.for_code(COUNTY[0]), COUNTY[1])
        c_cert = admin.certify(c_store.data_dir, now)
        admin.enrol(c_store.data_dir, c_cert, c_cert, c_cert)
        county.stores[COUNTY[0]], county.names[COUNTY[0]] = c_store, COUNTY[1]
        add_demo_accounts(c_store, now)
        county.serve(c_store, admin_dir=admin.directory)
        county_url = county.urls[COUNTY[0]]
        echo(_("demo county %(name)s (%(code)s) in %(dir)s", name=COUNTY[1], code=COUNTY[0],
               dir=directory))  # fmt: skip
        for t_index, (t_code, t_name) in enumerate(TOWNS):
            t_store = NodeStore.init(directory / t_code, NodeId.for_code(t_code), t_name)
            _enrol_by_code(admin, t_store, county_url, county_url, echo)
            county.stores[t_code], county.names[t_code] = t_store, t_name
            add_demo_accounts(t_store, now)
            county.serve(t_store, parent=county_url)
            for v in range(1, VILLAGES_PER_TOWN + 1):
                v_code, v_name = f"{t_code}{v:03d}", f"{t_name[:2]}第{v}村"
                v_store = NodeStore.init(directory / v_code, NodeId.for_code(v_code), v_name)
                _enrol_by_code(admin, v_store, county.urls[t_code], county_url, echo)
                county.stores[v_code], county.names[v_code] = v_store, v_name
                generate_village(
                    v_store,
                    residents=300 + 100 * v,
                    months=12,
                    seed=seed * 100 + t_index * 10 + v,
                    start=date(2025, 10, 1),
                )
                add_demo_accounts(v_store, now)
                county.serve(v_store, parent=county.urls[t_code])
                echo(_("  %(name)s (%(code)s): %(n)s changes generated", name=v_name,
                       code=v_code, n=v_store.changelog.head_seq))  # fmt: skip
        yield county
    finally:
        county.close()


def _enrol_by_code(
    admin: CountyAdmin, store: NodeStore, via: str, county_url: str, echo: Echo
) -> None:
    """``renkou keys invite`` on the aggregator, then ``renkou node enroll`` on the PC
    (through ``via``: the county for a town, the town for a village)."""
    now = time.time_ns() // 1_000_000
    code, _invite = create_invite(admin.directory, store.node, now, 7 * DAY_MS)
    started = time.monotonic()
    answer = enrol_with_code(store.data_dir, code, via, now, county_url=county_url)
    echo(
        _(
            "  enrolled %(node)s with code %(code)s via %(via)s (certificate %(serial)s, "
            "%(seconds)s s)",
            node=store.node,
            code=format_code(code),
            via=via,
            serial=answer.node.serial,
            seconds=f"{time.monotonic() - started:.2f}",
        )
    )


def _sign_ins(county: DemoCounty, echo: Echo, once: bool) -> None:
    """Every node's pages: for each kind of node (villages, townships, the county) who
    signs in as whom, the pages of the header each account opens there
    (node/pages/menu.py), and each node's address (issue 15)."""
    echo("")
    heading = (
        _("every node's pages: sign in at a node's address with an account of its kind, "
          "password %(password)s (--once: they stop now)", password=DEMO_PASSWORD)
        if once
        else _("every node's pages: sign in at a node's address with an account of its kind, "
               "password %(password)s", password=DEMO_PASSWORD)
    )  # fmt: skip
    echo(heading)
    for kind, title in NODE_KINDS:
        echo(_("%(nodes)s, accounts: %(accounts)s", nodes=title(), accounts=sign_in_line(kind)))
        pages = [[_(label), path, " · ".join(who)] for label, path, who in demo_pages(kind)]
        for line in table(pages):
            echo(f"    {line}")
        addresses = [
            [county.names[c], f"{u}/"] for c, u in county.urls.items() if len(c) == kind.code_length
        ]
        for line in table(addresses):
            echo(f"  {line}")


def _sync_everything(county: DemoCounty, echo: Echo) -> None:
    """Villages push to towns, towns forward to the county, the county merges, towns pull
    the outcome notices, villages pull the acks and the outcomes."""
    for phase in ("push", "forward", "merge", "forward", "acks"):
        if phase == "merge":
            _merge(county, echo)
            continue
        for code, store in county.stores.items():
            role = len(code)
            if (phase in ("push", "acks") and role == 12) or (phase == "forward" and role == 9):
                parent = county.urls[code[:9] if role == 12 else code[:6]]
                report = SyncClient(store, parent).sync_round()
                county.last_sync[code] = datetime.now(SHANGHAI).strftime("%H:%M:%S")
                moved = report.pushed_entries or report.forwarded_envelopes
                if phase != "acks" and moved:
                    echo(
                        _(
                            "  %(phase)s %(name)s entries %(entries)s  envelopes %(envelopes)s",
                            phase=_pad(PHASES[phase](), 7),
                            name=_pad(county.names[code], 8),
                            entries=f"{report.pushed_entries:>5}",
                            envelopes=f"{report.forwarded_envelopes:>3}",
                        )
                    )


def _merge(county: DemoCounty, echo: Echo) -> None:
    """The county aggregator's part: merge what arrived, queue each origin's outcomes."""
    c_store = county.stores[COUNTY[0]]
    merged = open_merged(county.directory / "merged.db", key=c_store.identity.db_key)
    try:
        stats = merge_new(c_store.db, merged)
        told = send_notices(merged, c_store, time.time_ns() // 1_000_000)
        county.merged = merged_counts(merged)
    finally:
        merged.close()
    if stats.applied:
        echo(
            _(
                "  %(phase)s %(name)s entries %(entries)s  outcome notices %(told)s",
                phase=_pad(PHASES["merge"](), 7),
                name=_pad(COUNTY[1], 8),
                entries=f"{stats.applied:>5}",
                told=f"{told:>3}",
            )
        )


def _summary(county: DemoCounty, echo: Echo) -> None:
    held = Holdings(county.stores[COUNTY[0]].db)
    echo("")
    rows: list[list[object]] = [
        [_("town"), _("code"), _("entries at county"), _("villages confirmed")]
    ]
    villages = {code: store for code, store in county.stores.items() if len(code) == 12}
    for t_code, t_name in TOWNS:
        confirmed = sum(
            1 for code, store in villages.items() if code.startswith(t_code) and _confirmed(store)
        )
        rows.append(
            [t_name, t_code, held.count_entries(t_code), f"{confirmed}/{VILLAGES_PER_TOWN}"]
        )
    for line in table(rows):
        echo(line)
    echo(_("county %(name)s: %(n)s entries verified and stored", name=COUNTY[1],
           n=held.count_entries()))  # fmt: skip
    told = sum(1 for store in villages.values() if CountyOutcomes(store.db).ranges())
    echo(
        _(
            "merged: %(records)s records, %(conflicts)s conflict(s) queued; %(told)s villages "
            "told the merge outcome of their entries",
            records=county.merged.get("records", 0),
            conflicts=county.merged.get("conflicts", 0),
            told=told,
        )
    )
    echo(_("last sync per node:"))
    echo("  " + ", ".join(f"{county.names[c]} {t}" for c, t in sorted(county.last_sync.items())))


def _confirmed(village: NodeStore) -> bool:
    """Has the county acknowledged every entry of the village's log?"""
    log = village.changelog
    ack = PeerAcks(village.db).head(f"county:{COUNTY[0]}", log.log)
    return ack is not None and ack.seq == log.head_seq
