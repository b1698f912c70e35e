# SPDX-License-Identifier: Apache-2.0
"""Evidence a township keeps of what it refused is openable only for a bounded time
(SPEC.md §6.3.2, issue 13 item 1): past ``RENKOU_EVIDENCE_DAYS`` only its wrap-free
evidence form stays, which still proves who sent what and opens for no one.

Loopback network, real servers and stores (tests/node/sync/network.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.errors import NodeError
from node.store.database import DB_NAME
from node.store.evidence import DAY_MS, evidence_days, wrap_free
from node.store.store import NodeStore
from node.sync.client import SyncClient, SyncFailed
from protocol import (
    ProtocolError,
    decode_envelope,
    decode_evidence,
    evidence_form,
    open_envelope,
)
from tests.node.sync.faults import address_as, no_sleep, sealed_batch, write
from tests.node.sync.network import County, SimClock, loopback_county
from tests.node.sync.test_defences import V1, T, _forked_copy, post, refused, sync


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V1]}, clock=SimClock()) as c:
        yield c


def _blobs(town: NodeStore) -> list[bytes]:
    """Everything a township keeps of refused and relayed batches."""
    out = [bytes(r) for (r,) in town.db.execute("SELECT raw FROM quarantine")]
    out += [bytes(p) for (p,) in town.db.execute("SELECT proof FROM alerts") if p is not None]
    return out + [bytes(r) for (r,) in town.db.execute("SELECT raw FROM inbound")]


def _opened_by(town: NodeStore) -> list[str]:
    """The payloads the township (its store and its key: a PC taken with its
    passphrase) can open from what it keeps."""
    kem = town.identity.kem
    payloads: list[str] = []
    for blob in _blobs(town):
        try:
            entries = open_envelope(decode_envelope(blob), {kem.public_key.key_id: kem})
        except ProtocolError:
            continue
        payloads += [e.payload.decode() for e in entries if e.payload is not None]
    return payloads


def _quarantine_at_the_township(county: County) -> None:
    """The village writes two cards with its clock two days ahead: the township refuses
    the batch (clock_drift) and keeps it, as it came, for its administrator."""
    clock = county.clock
    clock.advance(2 * DAY_MS)
    write(county.villages[V1], 2, tag="甲")
    clock.now -= 2 * DAY_MS
    with pytest.raises(SyncFailed) as exc:
        sync(county, V1)
    assert exc.value.code == "clock_drift"


def test_a_stolen_township_pcs_evidence_past_the_limit_reveals_no_personal_data(
    county: County,
) -> None:
    """Within the limit the township can open the batch it refused (its administrator
    may look); 30 days on, its round leaves only the evidence form: it verifies with the
    village's key as sender and writer, and the township's key opens nothing it keeps;
    the WAL is emptied, so old frames do not keep the envelope with its wraps."""
    _quarantine_at_the_township(county)
    town = county.towns[T].store
    assert any("人甲0" in p for p in _opened_by(town))  # the evidence, as it came
    county.clock.advance(29 * DAY_MS)
    sync(county, T)
    assert any("人甲0" in p for p in _opened_by(town))  # still within the limit
    county.clock.advance(1 * DAY_MS + 1)
    sync(county, T)
    assert _opened_by(town) == []
    assert (town.data_dir / (DB_NAME + "-wal")).stat().st_size == 0
    ((raw, cut_at),) = town.db.execute("SELECT raw, cut_at FROM quarantine").fetchall()
    assert cut_at is not None
    evidence = decode_evidence(bytes(raw))
    village_key = county.villages[V1].identity.signing.verify_key
    evidence.verify(village_key, village_key)  # still proves who sent what
    assert evidence.sender == county.villages[V1].node


def test_a_fork_kept_as_an_envelope_keeps_only_its_evidence_past_the_limit(
    county: County, tmp_path: Path
) -> None:
    """A fork alert whose proof is the refused envelope itself (no pair of signed
    headers to prove it with) loses its wraps at the limit, like a quarantined batch."""
    village, restored = _forked_copy(county, tmp_path)
    town = county.towns[T].store
    try:
        forger = SyncClient(restored, county.towns[T].url, now_ms=county.clock, sleep=no_sleep)
        raw = address_as(forger, sealed_batch(forger, 6, 7)[0])
        refused(post(forger, raw), 409, "fork")
    finally:
        restored.close()
    (proof,) = [bytes(p) for (p,) in town.db.execute("SELECT proof FROM alerts")]
    assert proof == raw
    county.clock.advance(30 * DAY_MS)
    sync(county, T)
    (proof,) = [bytes(p) for (p,) in town.db.execute("SELECT proof FROM alerts")]
    assert proof == evidence_form(decode_envelope(raw))
    key = village.identity.signing.verify_key
    decode_evidence(proof).verify(key, key)


def test_the_limit_is_configurable_and_a_bad_setting_is_refused(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RENKOU_EVIDENCE_DAYS=5 cuts after 5 days; 0, 91 or not a number is refused with a
    message naming the setting, not stretched or ignored."""
    monkeypatch.setenv("RENKOU_EVIDENCE_DAYS", "5")
    _quarantine_at_the_township(county)
    town = county.towns[T].store
    county.clock.advance(5 * DAY_MS + 1)
    sync(county, T)
    assert _opened_by(town) == []
    for bad in ("0", "91", "thirty", "３０"):
        with pytest.raises(NodeError) as exc:
            evidence_days({"RENKOU_EVIDENCE_DAYS": bad})
        assert exc.value.code == "evidence_days" and "RENKOU_EVIDENCE_DAYS" in exc.value.zh
    assert evidence_days({}) == 30


def test_version_2_evidence_keeps_its_header_and_origin_signature(county: County) -> None:
    """An envelope of version 2 kept before the upgrade (SPEC.md §6.8) has no evidence
    form (its hop signature covers the wraps): past the limit its hop fields, batch
    header and origin signature stay, nothing of its wraps or ciphertext."""
    write(county.villages[V1], 2)
    c = county.client(V1, sleep=no_sleep)
    v3 = decode_envelope(address_as(c, sealed_batch(c, 1, 3)[0]))
    sig = len(v3.batch_sig).to_bytes(2, "big") + v3.batch_sig
    rest = v3.raw[65 + 144 + len(sig) :]
    v2 = b"RKV2" + v3.raw[4:65] + v3.header_bytes[:128] + sig + rest
    kept = wrap_free(v2)
    assert kept == v2[: 65 + 128 + len(sig)]
    assert v3.ciphertext not in kept and all(w not in kept for _, w in v3.wraps)
    proof = b"RKF2" + bytes(20)
    assert wrap_free(proof) == proof  # a fork proof holds no wrap: kept as it is
