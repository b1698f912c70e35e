# SPDX-License-Identifier: Apache-2.0
"""The county's revocation list by a route that does not depend on the parent.

Sync passes the list down one hop at a time (node/sync/revocations.py), so a village
learns of a revoked township only through that township, which can withhold it. Two
other routes reach the village whatever its parent does:

* the county publishes the list it holds at ``GET /keys/v1/revocations`` (the list is
  signed by the county, so the address needs no session and the answer no MAC); a node
  that knows the county's address (``keys/county.url``, written at enrolment, or
  ``RENKOU_COUNTY_URL``) fetches it before a sync round, at most once per
  ``CHECK_EVERY_MS``, and installs it by the rules of SPEC.md §8.3;
* ``renkou node install-revocations FILE`` installs a list carried on a stick.

Before each round the node then checks its parent's certificate against the list it
holds, and refuses to sync with a revoked parent, saying so.
"""

from __future__ import annotations

import os
from pathlib import Path

import requests

from node.identity import key_dir
from node.keys.files import write_atomic
from node.store.sync_meta import SyncMeta
from node.sync.failures import SyncFailed
from node.sync.round import Round
from node.sync.trust import install_revocations
from protocol import ProtocolError

COUNTY_URL_FILE = "county.url"
PUBLISHED_PATH = "/keys/v1/revocations"
CHECK_EVERY_MS = 3_600_000
MAX_LIST_BYTES = 16 * 1024 * 1024
_CHECKED = "published_revocations_checked"


def county_url(data_dir: Path) -> str:
    """The county's address for published trust material ("" when none is known)."""
    from_env = os.environ.get("RENKOU_COUNTY_URL", "")
    if from_env:
        return from_env.rstrip("/")
    path = key_dir(data_dir) / COUNTY_URL_FILE
    return path.read_text(encoding="utf-8").strip().rstrip("/") if path.exists() else ""


def remember_county_url(data_dir: Path, url: str) -> None:
    """Keep the county's address (enrolment does; ``renkou node county-url`` too)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) address: {url!r}")
    write_atomic(key_dir(data_dir) / COUNTY_URL_FILE, (url.rstrip("/") + "\n").encode())


def fetch_published(
    data_dir: Path, url: str, *, http: requests.Session | None = None, timeout_s: float = 10.0
) -> str:
    """Fetch the county's published list and install it if it succeeds ours.

    Returns a line for the round's report. Nothing raises: an unreachable county or a
    list that does not verify is a note, and sync goes on with the list held.
    """
    try:
        resp = (http or requests.Session()).get(url + PUBLISHED_PATH, timeout=timeout_s)
    except requests.RequestException as exc:
        return f"县级吊销名单暂时取不到 / the county's list was not reachable: {type(exc).__name__}"
    if resp.status_code == 404:
        return "县级尚未发布吊销名单 / the county publishes no revocation list yet"
    if resp.status_code != 200 or len(resp.content) > MAX_LIST_BYTES:
        return f"县级吊销名单取回失败 / the county's list was not served (HTTP {resp.status_code})"
    try:
        crl = install_revocations(data_dir, resp.content)
    except ProtocolError as exc:
        return (
            f"县级发布的吊销名单无效或较旧，未安装 / the county's published list was not "
            f"installed: {exc.code}: {exc}"
        )
    if crl is None:
        return "县级发布的吊销名单与本机相同 / the county's published list is the one held"
    return (
        f"已从县级安装吊销名单第 {crl.version} 版 / installed the county's published "
        f"revocation list version {crl.version}"
    )


def before_round(r: Round) -> None:
    """What a round does before it talks to the parent: fetch the county's list when
    due, then refuse a revoked parent.

    Raises:
        SyncFailed: ``parent_revoked``, naming the parent, its serial and the reason.
    """
    store = r.store
    url = county_url(store.data_dir)
    meta = SyncMeta(store.db)
    now = r.now_ms()
    last = meta.get(_CHECKED)
    if url and (last is None or not 0 <= now - int(last) < CHECK_EVERY_MS):
        meta.set(_CHECKED, str(now))
        r.report.notes.append(fetch_published(store.data_dir, url))
        r.reload_trust()
    check_parent(r)


def check_parent(r: Round) -> None:
    """Our parent's certificate must not be on the list we hold (issue 13, fact 2)."""
    parent = r.parent
    item = r.trust.crl.revoked.get(parent.serial) if r.trust.crl is not None else None
    if item is None or item.node != parent.node:
        return
    raise SyncFailed(
        f"the certificate {parent.serial} of our parent {parent.node} is revoked "
        f"({item.reason}); nothing was sent. Ask the county administrator to enrol the "
        "replacement PC; this node syncs again once it holds the new certificate",
        code="parent_revoked",
        detail={
            "zh": f"上级节点 {parent.node} 的证书（{parent.serial}）已被吊销（{item.reason}），"
            "未发送任何数据；请联系县管理员为上级更换电脑并重新登记",
        },
    )
