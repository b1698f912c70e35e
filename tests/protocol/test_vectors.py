# SPDX-License-Identifier: Apache-2.0
"""The protocol test vectors (protocol/vectors/*.json) still hold, byte for byte.

Deterministic bytes (canonical JSON, keys from seeds, entry headers and hashes, batch
headers, Ed25519 signatures, certificate bodies) are recomputed and compared; randomized
ones (ML-DSA signatures, HPKE wraps) are verified and opened.
"""

from __future__ import annotations

import json
from itertools import accumulate
from pathlib import Path
from typing import Any

import pytest

from protocol import canonical
from protocol.batches import decode_header, rebuild_entries, sign_batch
from protocol.certs import decode_certificate, decode_revocations, verify_chain
from protocol.crypto import KemPrivateKey, SigningKey, Suite, VerifyKey
from protocol.entries import Entry, make_entry
from protocol.envelope import decode_envelope, open_envelope
from protocol.envelope_evidence import decode_evidence, evidence_form
from protocol.errors import ProtocolError
from protocol.frames import decode_frames, encode_frames
from protocol.frontier import Frontier, decode_ack, decode_fork_proof
from protocol.ids import LogId, NodeId
from protocol.ops import decode_payload
from protocol.signed import decode_signed
from protocol.testing import ORIGIN_EXPIRES, ORIGIN_SENT, make_node

VECTORS = Path(__file__).parents[2] / "protocol" / "vectors"


def load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def cases(name: str, key: str) -> list[Any]:
    return load(name)[key]


@pytest.mark.parametrize("case", cases("canonical.json", "valid"))
def test_canonical_valid(case: dict[str, Any]) -> None:
    """§2: one spelling per value; decoding the bytes gives the value back."""
    assert canonical.encode(case["value"]).hex() == case["bytes"]
    assert canonical.decode(bytes.fromhex(case["bytes"])) == case["value"]


@pytest.mark.parametrize("case", cases("canonical.json", "invalid"))
def test_canonical_invalid(case: dict[str, Any]) -> None:
    """§2: anything but the canonical spelling is rejected with its error code."""
    with pytest.raises(ProtocolError) as exc:
        canonical.decode(bytes.fromhex(case["bytes"]))
    assert exc.value.code == case["error"]


@pytest.mark.parametrize("case", cases("keys.json", "keys"))
def test_keys_from_seeds(case: dict[str, Any]) -> None:
    """§4: public keys and key ids derive from the seeds; certificates decode and verify."""
    suite = Suite(case["suite"])
    signing = SigningKey(suite, bytes.fromhex(case["sign_seed"]))
    kem = KemPrivateKey(suite, bytes.fromhex(case["kem_seed"]))
    assert signing.verify_key.raw.hex() == case["verify_key"]
    assert signing.verify_key.key_id.hex() == case["verify_key_id"]
    assert kem.public_key.raw.hex() == case["kem_key"]
    assert kem.public_key.key_id.hex() == case["kem_key_id"]
    cert = decode_certificate(bytes.fromhex(case["certificate"]))
    assert cert.signed.body_bytes.decode() == case["certificate_body"]
    assert str(cert.node) == case["node"]
    root = make_node("440104", suite=suite)
    verify_chain([cert], [root.cert], cert.not_before)


@pytest.mark.parametrize("case", cases("payloads.json", "valid"))
def test_payload_valid(case: dict[str, Any]) -> None:
    """§10: valid payloads decode."""
    assert decode_payload(bytes.fromhex(case["bytes"]))


@pytest.mark.parametrize("case", cases("payloads.json", "invalid"))
def test_payload_invalid(case: dict[str, Any]) -> None:
    """§10: invalid payloads fail with their error code."""
    with pytest.raises(ProtocolError) as exc:
        decode_payload(bytes.fromhex(case["bytes"]))
    assert exc.value.code == case["error"]


@pytest.mark.parametrize("case", cases("chains.json", "chains"), ids=lambda c: f"suite{c['suite']}")
def test_chain(case: dict[str, Any]) -> None:
    """§5: entry headers, hashes and the batch header are recomputed exactly."""
    suite, log = Suite(case["suite"]), LogId.parse(case["log"])
    prev = bytes(32)
    entries = []
    for item in case["entries"]:
        payload = bytes.fromhex(item["payload"])
        entry = make_entry(suite, log, item["seq"], prev, item["hlc"], item["ruleset"], payload)
        assert entry.header().hex() == item["header"]
        assert entry.hash.hex() == item["hash"]
        entries.append(entry)
        prev = entry.hash
    header = decode_header(bytes.fromhex(case["batch_header"]))
    signer = make_node("440104001002", make_node("440104", suite=suite), suite)
    new_header, new_sig = sign_batch(
        entries, signer.signing, signer.cert.serial, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES
    )
    assert new_header == header
    assert new_header.to_bytes().hex() == case["batch_header"]
    header.verify(signer.signing.verify_key, bytes.fromhex(case["batch_signature"]))
    if case["signature_deterministic"]:
        assert new_sig.hex() == case["batch_signature"]


@pytest.mark.parametrize("case", cases("envelopes.json", "cases"), ids=lambda c: c["name"])
def test_envelope(case: dict[str, Any]) -> None:
    """§6: the receive pipeline accepts the valid envelope and names each failure."""
    suite = Suite(case["suite"])
    root = make_node("440104", suite=suite)
    village = make_node("440104001002", root, suite)
    reader = {str(n.node): n for n in (root, make_node("440104001", root, suite), village)}[
        case["reader"]
    ]

    def receive() -> list[Any]:
        env = decode_envelope(bytes.fromhex(case["envelope"]))
        env.verify_hop(village.signing.verify_key, case["now"])
        env.verify_batch(village.signing.verify_key)
        return open_envelope(env, {reader.kem.public_key.key_id: reader.kem})

    if case["expect"] == "ok":
        assert [e.hash.hex() for e in receive()] == case["entry_hashes"]
    else:
        with pytest.raises(ProtocolError) as exc:
            receive()
        assert exc.value.code == case["expect"]


@pytest.mark.parametrize("case", cases("envelopes.json", "evidence"), ids=lambda c: c["name"])
def test_envelope_evidence(case: dict[str, Any]) -> None:
    """§6.4: the evidence form (digest form and hop signature, no wraps, no ciphertext)
    is derived from the envelope byte for byte and proves the hop and the origin; a
    changed digest does not verify; a hop's extended expiry shows in it."""
    suite = Suite(case["suite"])
    village = make_node("440104001002", make_node("440104", suite=suite), suite)
    raw = bytes.fromhex(case["evidence"])

    def check() -> None:
        decode_evidence(raw).verify(village.signing.verify_key, village.signing.verify_key)

    if case["expect"] == "ok":
        check()
        env = decode_envelope(bytes.fromhex(case["envelope"]))
        assert evidence_form(env) == raw
        kept = decode_evidence(raw)
        assert kept.extends_expiry is case["extends_expiry"]
        assert [k for k, _ in kept.wrap_hashes] == env.recipient_key_ids
        assert all(w not in raw for _, w in env.wraps) and env.ciphertext not in raw
    else:
        with pytest.raises(ProtocolError) as exc:
            check()
        assert exc.value.code == case["expect"]


def test_frames_valid() -> None:
    """§5.3: the frames rebuild every payload byte for byte (and the erased entry's
    length and hash); the reference encoder produces exactly these frames."""
    data = load("frames.json")["valid"]
    frames = bytes.fromhex(data["frames"])
    decoded = decode_frames(frames, data["count"])
    rows = data["entries"]
    assert [None if p is None else p.hex() for p in decoded.payloads] == [
        row["payload"] for row in rows
    ]
    assert [(n, h.hex()) for n, h in decoded.erased] == [
        (row["payload_len"], row["payload_hash"]) for row in rows if row["payload"] is None
    ]
    hlcs = list(accumulate(decoded.deltas))
    assert hlcs == [row["hlc"] for row in rows]
    assert list(decoded.rulesets) == [row["ruleset"] for row in rows]
    assert list(decoded.flags) == [row["flags"] for row in rows]
    log = LogId(NodeId.for_code("440104001002"), 1)
    entries = []
    for seq, row in enumerate(rows, start=1):
        payload = None if row["payload"] is None else bytes.fromhex(row["payload"])
        digest = bytes.fromhex(row["payload_hash"])
        entries.append(
            Entry(Suite.CLASSIC, log, seq, bytes(32), row["hlc"], row["ruleset"], digest,
                  row["payload_len"], payload, row["flags"])
        )  # fmt: skip
    assert encode_frames(entries) == frames


def test_frames_with_their_batch_header() -> None:
    """§5.3 "Decoding" steps 11-17: the frames rebuild, under their signed batch header,
    entries whose chain ends in the header's head_hash (the erased one included)."""
    data = load("frames.json")["valid"]
    header = decode_header(bytes.fromhex(data["batch_header"]))
    signer = make_node(NodeId.parse(data["signer"]).code, make_node("440104", suite=Suite.CLASSIC),
                       Suite.CLASSIC)  # fmt: skip
    header.verify(signer.signing.verify_key, bytes.fromhex(data["batch_signature"]))
    assert data["count"] == header.count
    entries = rebuild_entries(header, bytes.fromhex(data["frames"]))
    assert data["entry_hashes"] == [e.hash.hex() for e in entries]
    assert header.head_hash == entries[-1].hash
    assert [None if row["payload"] is None else bytes.fromhex(row["payload"])
            for row in data["entries"]] == [e.payload for e in entries]  # fmt: skip


@pytest.mark.parametrize("case", cases("frames.json", "invalid"), ids=lambda c: c["name"])
def test_frames_invalid(case: dict[str, Any]) -> None:
    """§5.3: each structural fault of the frames is named by its code."""
    frames = bytes.fromhex(case["frames"])
    if case["expect"] == "ok":
        decode_frames(frames, case["count"])
        return
    with pytest.raises(ProtocolError) as exc:
        decode_frames(frames, case["count"])
    assert exc.value.code == case["expect"]


def test_objects() -> None:
    """§8-9: revocation list, ack and frontier digest."""
    data = load("objects.json")
    root = make_node("440104", suite=Suite(data["signer_suite"]))
    crl = decode_revocations(bytes.fromhex(data["revocations"]), root.cert)
    assert len(crl.revoked) == 1
    ack = decode_ack(bytes.fromhex(data["ack"]), root.signing.verify_key)
    assert ack.by == NodeId.for_code("440104")
    frontier = Frontier.from_json(data["frontier"])
    assert frontier.digest().hex() == data["frontier_digest"]
    assert isinstance(root.signing.verify_key, VerifyKey)


_DECODERS = {"signed": decode_signed, "header": decode_header, "fork_proof": decode_fork_proof}


@pytest.mark.parametrize("case", cases("objects.json", "invalid"), ids=lambda c: c["name"])
def test_object_versions(case: dict[str, Any]) -> None:
    """§1.3: a known magic with another version digit, or an integer "v" other than 1,
    is unsupported; other magics and a "v" that is not an integer are malformed."""
    decode = _DECODERS[case["decoder"]]
    raw = bytes.fromhex(case["bytes"])
    if case["expect"] == "ok":
        decode(raw)
    else:
        with pytest.raises(ProtocolError) as exc:
            decode(raw)
        assert exc.value.code == case["expect"]
