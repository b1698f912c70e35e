# SPDX-License-Identifier: Apache-2.0
"""Before a round: take our renewed or rotated certificate from the county (at most
hourly, node/keys/renewal.py) and, when it certifies new keys, sign with them from
this very round on: the store's identity, the link's certificate and its session are
replaced together, so a batch never names one certificate and is signed by another."""

from __future__ import annotations

from node.identity import load_identity
from node.keys.published import county_url
from node.keys.renewal import fetch_own
from node.store.sync_meta import SyncMeta
from node.sync.round import Round


def renewed_here(r: Round) -> None:
    store, link = r.store, r.link
    urls = [county_url(store.data_dir), link.url]
    note = fetch_own(r.trust, SyncMeta(store.db), urls, r.now_ms(), http=link.http)
    if not note:
        return
    r.report.notes.append(note)
    r.reload_trust()
    own = r.trust.own("node.cert")
    if own.raw == link.own_cert.raw:  # a note of what was not installed
        return
    if own.verify_key.raw != store.identity.signing.verify_key.raw:
        store.identity = load_identity(store.data_dir)
    link.own_cert = own
    link.session = None  # the next request opens a session with it
