# SPDX-License-Identifier: Apache-2.0
"""A small county on loopback for the sync tests: real stores, real HTTP servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from node.admin import CountyAdmin
from node.server import create_app
from node.store.store import NodeStore
from node.sync.client import SyncClient
from protocol import NodeId


@dataclass
class Served:
    store: NodeStore
    url: str = ""
    server: BaseWSGIServer | None = None
    thread: threading.Thread | None = None


@dataclass
class County:
    root: Path
    admin: CountyAdmin
    county: Served
    towns: dict[str, Served] = field(default_factory=dict)
    villages: dict[str, NodeStore] = field(default_factory=dict)

    def client(self, code: str, **kwargs: object) -> SyncClient:
        if code in self.villages:
            store = self.villages[code]
            return SyncClient(store, self.towns[code[:9]].url, **kwargs)  # type: ignore[arg-type]
        return SyncClient(self.towns[code].store, self.county.url, **kwargs)  # type: ignore[arg-type]


def serve(store: NodeStore) -> Served:
    app = create_app({"RENKOU_DATA_DIR": str(store.data_dir)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return Served(store, f"http://127.0.0.1:{server.server_port}", server, thread)


@contextmanager
def loopback_county(root: Path, towns: dict[str, list[str]]) -> Iterator[County]:
    """County 440104 with the given towns and villages, enrolled and serving."""
    now = time.time_ns() // 1_000_000
    admin = CountyAdmin.create(root / "admin", "440104", now)
    county_store = NodeStore.init(root / "440104", NodeId.for_code("440104"), "县")
    county_cert = admin.certify(county_store.data_dir, now)
    admin.enrol(county_store.data_dir, county_cert, county_cert, county_cert)
    county = County(root, admin, serve(county_store))
    try:
        for town_code, village_codes in towns.items():
            t_store = NodeStore.init(root / town_code, NodeId.for_code(town_code), f"镇{town_code}")
            t_cert = admin.certify(t_store.data_dir, now)
            admin.enrol(t_store.data_dir, t_cert, county_cert, county_cert)
            county.towns[town_code] = serve(t_store)
            for v_code in village_codes:
                v_store = NodeStore.init(root / v_code, NodeId.for_code(v_code), f"村{v_code}")
                v_cert = admin.certify(v_store.data_dir, now)
                admin.enrol(v_store.data_dir, v_cert, t_cert, county_cert)
                county.villages[v_code] = v_store
        yield county
    finally:
        for served in [county.county, *county.towns.values()]:
            if served.server is not None:
                served.server.shutdown()
                served.server.server_close()
            served.store.close()
        for store in county.villages.values():
            store.close()
