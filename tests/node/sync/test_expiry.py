# SPDX-License-Identifier: Apache-2.0
"""A relay cannot hand a batch on as fresher than its origin made it (issue 12 item 3).

Since envelope version 3 the origin's expiry is in the batch header, under the origin's
signature (SPEC.md §5.2), and every receiver refuses a hop expiry later than it
(``expiry_extended``, §6.7 step 2) and keeps wrap-free evidence naming the hop (§6.4).
Loopback network, real servers and stores (tests/node/sync/network.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.identity import load_certificate
from node.store.holdings import Holdings
from node.store.store import NodeStore
from node.sync.client import SyncClient
from node.sync.push import ENVELOPE_TTL_MS
from node.sync.relay import CERTS_PATH
from protocol import decode_envelope, decode_evidence
from protocol.envelope import _addressed, sealed_part
from tests.node.sync.faults import no_sleep, write
from tests.node.sync.network import County, SimClock, loopback_county
from tests.node.sync.test_defences import post, refused, sync

T, V1 = "440104001", "440104001001"
DAY_MS = 86_400_000


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V1]}, clock=SimClock()) as c:
        yield c


def _kept(town: NodeStore) -> bytes:
    (raw,) = [bytes(r) for (r,) in town.db.execute("SELECT raw FROM inbound")]
    return raw


def _extended(county: County) -> bytes:
    """The village's batch as a hostile township hands it on two days later: its own
    hop, with a fresh week of expiry (the origin allowed one week from its sending)."""
    write(county.villages[V1], 3)
    assert sync(county, V1).pushed_entries == 4  # its first entry and these
    kept = decode_envelope(_kept(county.towns[T].store))
    county.clock.advance(2 * DAY_MS)
    now = county.clock()
    town = county.towns[T].store
    assert now + ENVELOPE_TTL_MS > kept.header.expires_ms
    return _addressed(
        sealed_part(kept), town.identity.signing, town.node, county.county.store.node, now,
        now + ENVELOPE_TTL_MS,
    )  # fmt: skip


def _introduce(tc: SyncClient, county: County) -> None:
    """The village's certificate handed up, as the township does before forwarding
    (SPEC §15.6): the county checks the origin's signature with it."""
    if tc.link.session is None:
        tc.link.open_session()
    cert = load_certificate(county.villages[V1].data_dir, "node.cert")
    assert cert is not None
    tc.link.call("POST", CERTS_PATH, cert.raw)


def test_a_relay_that_extends_the_origins_expiry_is_refused_and_named(county: County) -> None:
    """The county refuses the township's copy with a later expiry than the village
    signed (403 expiry_extended), applies nothing, and keeps an alert naming the
    township whose proof verifies without wraps or ciphertext (the evidence form)."""
    raw = _extended(county)
    tc = county.client(T, sleep=no_sleep)
    _introduce(tc, county)
    refused(post(tc, raw), 403, "expiry_extended")
    county_store = county.county.store
    log = county.villages[V1].changelog.log
    assert Holdings(county_store.db).head(log) is None
    ((kind, alerted, detail, proof),) = county_store.db.execute(
        "SELECT kind, log, detail, proof FROM alerts"
    ).fetchall()
    assert (kind, alerted) == ("expiry_extended", str(log))
    assert f'"from": "{county.towns[T].store.node}"' in detail
    evidence = decode_evidence(bytes(proof))
    town_key = county.towns[T].store.identity.signing.verify_key
    village_key = county.villages[V1].identity.signing.verify_key
    evidence.verify(town_key, village_key)  # the township signed it, the village wrote it
    assert evidence.extends_expiry and evidence.sender == county.towns[T].store.node
    env = decode_envelope(raw)
    assert env.ciphertext not in bytes(proof)
    assert not any(wrap in bytes(proof) for _, wrap in env.wraps)
    refused(post(tc, raw), 403, "expiry_extended")  # sent again: alerted once
    assert county_store.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 1


def test_a_header_no_origin_signed_leaves_no_alert(county: County) -> None:
    """Found by review: a hop that changed one header byte per post, with an extended
    expiry, got an alert (and 7 KB of evidence) kept per post, for headers no origin
    signed. The origin's signature is checked first: refused as bad_signature, nothing
    kept."""
    write(county.villages[V1], 3)
    assert sync(county, V1).pushed_entries == 4
    kept = decode_envelope(_kept(county.towns[T].store))
    county.clock.advance(2 * DAY_MS)
    town, now = county.towns[T].store, county.clock()
    tc = county.client(T, sleep=no_sleep)
    _introduce(tc, county)
    for i in range(3):
        forged = bytearray(sealed_part(kept))
        forged[120] ^= 1 + i
        raw = _addressed(
            bytes(forged), town.identity.signing, town.node, county.county.store.node, now,
            now + ENVELOPE_TTL_MS,
        )  # fmt: skip
        answer = post(tc, raw)
        assert answer.status_code in (400, 401, 403) and b"expiry_extended" not in answer.content
    assert county.county.store.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0


def test_the_honest_relay_forwards_within_the_origins_expiry(county: County) -> None:
    """Two days after the village sent it, the township's own round hands the batch up
    with an expiry no later than the village's (relay.py), and the county takes it."""
    raw = _extended(county)
    origin_expires = decode_envelope(raw).header.expires_ms
    assert sync(county, T).forwarded_envelopes == 1
    head = Holdings(county.county.store.db).head(county.villages[V1].changelog.log)
    assert head is not None and head.seq == 4
    assert county.county.store.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0
    assert decode_envelope(_kept(county.towns[T].store)).header.expires_ms == origin_expires


def test_a_batch_past_its_origins_expiry_is_not_taken(county: County) -> None:
    """Past the origin's expiry the township's copy is refused upstream as expired,
    whatever hop expiry a relay would sign: a hop's is never later (§6.7 step 2)."""
    write(county.villages[V1], 2)
    assert sync(county, V1).pushed_entries == 3
    kept = decode_envelope(_kept(county.towns[T].store))
    county.clock.advance(ENVELOPE_TTL_MS + 1)
    town = county.towns[T].store
    late = _addressed(
        sealed_part(kept), town.identity.signing, town.node, county.county.store.node,
        kept.header.sent_ms + 1, kept.header.expires_ms,
    )  # fmt: skip
    refused(post(county.client(T, sleep=no_sleep), late), 401, "expired")
