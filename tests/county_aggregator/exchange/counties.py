# SPDX-License-Identifier: Apache-2.0
"""Two counties on loopback for the exchange tests: real stores, real HTTP servers.

County A (440104) has a township and a village that sync to its county node (the
residence place); county B (440105, Haizhu) is a county node alone (the hukou place).
The administrators cross-certify each other's roots with the real ``renkou keys trust``
(the fingerprint heard by phone), and each county node serves the exchange
(county_aggregator/exchange/server.py) and registers the other as a peer with
``renkou county exchange peer``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from county_aggregator.exchange.server import create_app
from deploy.cli import cli
from node.admin import ROOT_DIR, CountyAdmin
from node.server.serving import NodeServer
from node.store.store import NodeStore
from protocol import NodeId
from protocol.fingerprints import fingerprint
from tests.node.sync.network import County, loopback_county

A_VILLAGE = "440104001002"
B_VILLAGE = "440105001001"


def now() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Exchange:
    a: County
    a_server: NodeServer
    b_admin: CountyAdmin
    b: NodeStore
    b_server: NodeServer

    @property
    def a_dir(self) -> Path:
        return self.a.county.store.data_dir

    @property
    def b_dir(self) -> Path:
        return self.b.data_dir


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--lang", "en", *args], catch_exceptions=False)


def trust(admin: CountyAdmin, peer: CountyAdmin, county_dir: Path) -> None:
    """``renkou keys trust``: ``admin`` cross-certifies ``peer``'s root, fingerprint heard."""
    done = run(
        "keys", "trust", "--peer-root", str(peer.directory / "root.cert"),
        "--peer-issuing", str(peer.directory / "issuing.cert"),
        "--admin-dir", str(admin.directory), "--root-dir", str(admin.directory / ROOT_DIR),
        "--county-data-dir", str(county_dir), "--fingerprint", fingerprint(peer.root),
    )  # fmt: skip
    assert done.exit_code == 0, done.output


def serve(data_dir: Path) -> NodeServer:
    server = NodeServer("127.0.0.1", 0, create_app({"RENKOU_DATA_DIR": str(data_dir)}))
    server.start()
    return server


def b_county(root: Path, code: str = "440105") -> tuple[CountyAdmin, NodeStore]:
    """A county's administrator and its enrolled county node (no villages)."""
    admin = CountyAdmin.create(root / f"{code}-admin", code, now())
    store = NodeStore.init(root / code, NodeId.for_code(code), f"县{code}")
    cert = admin.certify(store.data_dir, now())
    admin.enrol(store.data_dir, cert, cert, cert)
    return admin, store


@contextmanager
def two_counties(root: Path, *, peered: bool = True, villages: bool = True) -> Iterator[Exchange]:
    """A (with a village when ``villages``) and B, cross-certified and peered."""
    with loopback_county(root / "a", {A_VILLAGE[:9]: [A_VILLAGE]} if villages else {}) as a:
        b_admin, b = b_county(root)
        servers = [serve(a.county.store.data_dir), serve(b.data_dir)]
        try:
            ex = Exchange(a, servers[0], b_admin, b, servers[1])
            if peered:
                trust(a.admin, b_admin, ex.a_dir)
                trust(b_admin, a.admin, ex.b_dir)
                for here, there, code in ((ex.a_dir, servers[1], "440105"),
                                          (ex.b_dir, servers[0], "440104")):  # fmt: skip
                    said = run("county", "exchange", "peer", "--county", code,
                               "--url", there.url, "--data-dir", str(here))  # fmt: skip
                    assert said.exit_code == 0, said.output
            yield ex
        finally:
            for server in servers:
                server.stop()
            b.close()
