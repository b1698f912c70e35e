# SPDX-License-Identifier: Apache-2.0
"""Regression tests for the protocol review findings, one test per finding."""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib

import pytest
from hypothesis import given, settings

from protocol import canonical, crypto, envelope
from protocol.batches import MAX_SEQ, BatchHeader, decode_header, rebuild_entries, sign_batch
from protocol.canonical import MAX_DEPTH
from protocol.certs import (
    Certificate,
    Revocation,
    RevocationList,
    decode_certificate,
    decode_revocations,
    issue_certificate,
    issue_revocations,
    verify_chain,
)
from protocol.clock import HybridClock
from protocol.crypto import Suite
from protocol.entries import MAX_PAYLOAD, Entry
from protocol.envelope import (
    HOP_CONTEXT,
    MAX_LIFETIME_MS,
    address,
    decode_envelope,
    seal_batch,
)
from protocol.errors import (
    CertificateError,
    ErrorCode,
    ForkError,
    MalformedError,
    ProtocolError,
    QuarantineError,
    SignatureError,
    TooLargeError,
    UnsupportedError,
)
from protocol.fields import open_field, seal_field
from protocol.frontier import ForkProof, Frontier, Head, check_continues, decode_fork_proof
from protocol.ids import LogId, NodeId, Role
from protocol.ops import EpochStart, Retire, Upsert, check_base, decode_payload, encode_payload
from protocol.rules import check_clock, check_rulesets, check_signer
from protocol.schemas import AckBody, load_body
from protocol.session import decode_hello, make_hello, make_welcome, open_welcome
from protocol.signed import CONTEXT as SIGNED_CONTEXT
from protocol.signed import decode_signed, sign_object
from protocol.testing import NOT_AFTER, NOT_BEFORE, NOW, chain_entries, make_node, person_payload
from protocol.testing import TestNode as Node
from tests.protocol.helpers import DAY_MS, SealedBatch, raw_frames
from tests.protocol.strategies import json_values

LOG_TEXT = "village:440104001002#1"


def _header(entries: list[Entry], **changes: object) -> BatchHeader:
    first, last = entries[0], entries[-1]
    header = BatchHeader(
        first.suite, first.log, first.seq, last.seq, first.prev_hash, last.hash,
        first.hlc, last.hlc, 1,
    )  # fmt: skip
    return dataclasses.replace(header, **changes)  # type: ignore[arg-type]


def _raw_signed(body: bytes, signer: Node, magic: bytes = b"RKS1") -> bytes:
    """A signed object around exactly ``body`` (no canonical checks on the way)."""
    head = magic + bytes([signer.signing.suite]) + len(body).to_bytes(4, "big") + body
    head += signer.signing.verify_key.key_id
    sig = signer.signing.sign(SIGNED_CONTEXT + head)
    return head + len(sig).to_bytes(2, "big") + sig


def _cert(issuer: Node, subject: Node, *, serial: int = 77) -> Certificate:
    return decode_certificate(
        issue_certificate(
            issuer.signing, issuer.node, serial=serial, node=subject.node,
            verify_key=subject.signing.verify_key, kem_key=subject.kem.public_key,
            not_before=NOT_BEFORE, not_after=NOT_AFTER,
        )
    )  # fmt: skip


def _crl(issuer: Node, version: int, items: list[Revocation], at: int = NOW) -> RevocationList:
    return decode_revocations(
        issue_revocations(issuer.signing, issuer.node, version, at, items), issuer.cert
    )


def test_1_clock_overflow_is_malformed(village_log: LogId) -> None:
    """Finding 1: rebuild_entries raises MalformedError (not struct.error) when hlc >= 2**64."""
    frames = raw_frames([2**63, 2**63], codes=[1, 1], erased=[(0, bytes(32))] * 2)
    header = BatchHeader(Suite.HYBRID, village_log, 1, 2, bytes(32), bytes(32), 1, 2, 1)
    with pytest.raises(MalformedError):
        rebuild_entries(header, frames)


def test_2_check_continues_compares_older_claims_with_known_hashes(
    village: Node, entries: list[Entry], village_log: LogId
) -> None:
    """Finding 2: check_continues(known=...) raises ForkError for an older range that
    disagrees with a stored hash; without ``known`` it stays "duplicate"."""
    frontier = Frontier({village_log: Head(5, entries[-1].hash)})
    forked = chain_entries(village_log, [person_payload(i) for i in range(50, 53)])
    header, _ = sign_batch(forked, village.signing, village.cert.serial)
    stored = {e.seq: e.hash for e in entries}
    assert "duplicate" == check_continues(frontier, header)
    with pytest.raises(ForkError):
        check_continues(frontier, header, known=stored.get)
    same, _ = sign_batch(entries[1:3], village.signing, village.cert.serial)
    assert "duplicate" == check_continues(frontier, same, known=stored.get)
    assert "duplicate" == check_continues(frontier, same, known=lambda seq: None)


def test_4_county_certificate_only_last_under_an_anchor(root: Node, other_root: Node) -> None:
    """Finding 4: a county-subject (cross) certificate is allowed only as the last
    certificate, directly under an anchor (a trailing copy of the anchor is ignored)."""
    other_village = make_node("440105001001", other_root)
    cross = _cert(root, other_root, serial=9001)
    assert other_village.cert == verify_chain([other_village.cert, cross], [root.cert], NOW)
    assert other_village.cert == verify_chain(
        [other_village.cert, cross, root.cert], [root.cert], NOW
    )
    assert cross == verify_chain([cross], [root.cert], NOW)
    third_root = make_node("440106")
    transitive = _cert(other_root, third_root)
    with pytest.raises(CertificateError):
        verify_chain([make_node("440106001001", third_root).cert, transitive, cross],
                     [root.cert], NOW)  # fmt: skip
    county_node = _cert(root, make_node("440104"), serial=5)
    with pytest.raises(CertificateError):
        verify_chain([county_node, cross], [root.cert], NOW)


def test_5_successor_keeps_items_unchanged_and_time_monotonic(
    root: Node, village: Node, village2: Node, village_log: LogId
) -> None:
    """Finding 5: check_successor refuses a changed item and an earlier issued_at."""
    item = Revocation(village.cert.serial, village.node, NOW, "stolen", {village_log: 3})
    held = _crl(root, 1, [item])
    extra = Revocation(village2.cert.serial, village2.node, NOW, "lost", {})
    held.check_successor(_crl(root, 2, [item, extra]))
    for changed in [
        dataclasses.replace(item, reason="lost"),
        dataclasses.replace(item, revoked_at=NOW + 1),
        dataclasses.replace(item, valid_through={village_log: 4}),
        dataclasses.replace(item, valid_through={}),
    ]:
        with pytest.raises(CertificateError):
            held.check_successor(_crl(root, 2, [changed]))
    with pytest.raises(CertificateError):
        held.check_successor(_crl(root, 2, [item], at=NOW - 1))


def test_6_revocation_applies_to_its_node_and_issuer_only(
    root: Node, other_root: Node, village: Node, village2: Node, sealed_batch: SealedBatch
) -> None:
    """Finding 6: a revoked item applies only to batches of its node (serials are
    unique per county), and the CRL must be the signer certificate's issuer's."""
    header = sealed_batch.header
    same_serial_other_node = Revocation(village.cert.serial, village2.node, NOW, "lost", {})
    crl = _crl(root, 1, [same_serial_other_node])
    crl.check_batch(header.cert_serial, header.log, header.last_seq)
    check_signer(header, village.cert, crl)
    foreign = _crl(other_root, 1, [])
    with pytest.raises(CertificateError):
        check_signer(header, village.cert, foreign)
    with pytest.raises(CertificateError):
        foreign.check_batch(header.cert_serial, header.log, 1, issuer=root.node)


def test_7_revocation_valid_through_is_strict(root: Node, village: Node) -> None:
    """Finding 7: valid_through names each log once, in canonical LogId text."""
    for valid_through in (
        [[LOG_TEXT, 3], [LOG_TEXT, 100]],
        [["village:440104001002#01", 3]],
        [["VILLAGE:440104001002#1", 3]],
        [["village:440104001002#1\n", 3]],
    ):
        item = {
            "serial": village.cert.serial, "node": str(village.node), "revoked_at": NOW,
            "reason": "lost", "valid_through": valid_through,
        }  # fmt: skip
        body = {
            "v": 1, "type": "revocations", "issuer": str(root.node), "version": 1,
            "issued_at": NOW, "revoked": [item],
        }  # fmt: skip
        with pytest.raises(MalformedError):
            decode_revocations(sign_object(body, root.signing), root.cert)


@pytest.mark.parametrize(
    "text",
    [
        "VILLAGE:440104001002#1", "Village:440104001002#1", "village:440104001002#01",
        "village:440104001002#\u00b2", "village:440104001002#\uff11", "village:440104001002#0",
        "village:440104001002# 1", "village:440104001002#+1", "village:44010400100\u0662#1",
    ],
)  # fmt: skip
def test_8_ids_accept_only_the_canonical_spelling(text: str) -> None:
    """Finding 8: role labels are exact lower case; NodeId/LogId.parse round-trip; epoch
    and base seq digits are ASCII without a leading zero; '#²' is MalformedError."""
    assert str(LogId.parse(LOG_TEXT)) == LOG_TEXT
    with pytest.raises(MalformedError):
        LogId.parse(text)
    with pytest.raises(MalformedError):
        check_base(f"{text}/5")
    with pytest.raises(MalformedError):
        Role.from_label("VILLAGE")
    with pytest.raises(MalformedError):
        NodeId.parse("VILLAGE:440104001002")
    for seq in ("05", "\u0665", "\uff15", "\u00b2"):
        with pytest.raises(MalformedError):
            check_base(f"{LOG_TEXT}/{seq}")
    assert f"{LOG_TEXT}/5" == check_base(f"{LOG_TEXT}/5")


def test_9_version_true_is_not_version_1(root: Node) -> None:
    """Finding 9: "v": true is refused in payloads and signed bodies (and by sign_object)."""
    with pytest.raises(MalformedError):
        decode_payload(b'{"ops":[{"body":{},"op":"note","topic":"x"}],"v":true}')
    with pytest.raises(MalformedError):
        decode_signed(_raw_signed(b'{"type":"advisory","v":true}', root))
    with pytest.raises(ValueError):
        sign_object({"v": True, "type": "advisory"}, root.signing)


@pytest.mark.parametrize(
    "data",
    [
        [[LOG_TEXT, 1, "AB" * 32]],
        [[LOG_TEXT, 1, "ab" * 31 + "  "]],
        [[LOG_TEXT, 1, "ab" * 32 + "\n"]],
        [[LOG_TEXT, 1, "ab" * 32], [LOG_TEXT, 2, "cd" * 32]],
        [["village:440104001002#01", 1, "ab" * 32]],
        [[LOG_TEXT, MAX_SEQ + 1, "ab" * 32]],
        [[LOG_TEXT, True, "ab" * 32]],
    ],
)
def test_10_frontier_from_json_is_strict(data: object) -> None:
    """Finding 10: heads fullmatch [0-9a-f]{64}, logs distinct and canonical."""
    assert 1 == len(Frontier.from_json([[LOG_TEXT, 1, "ab" * 32]]))
    with pytest.raises(MalformedError):
        Frontier.from_json(data)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("by", "county:440104\n"),
        ("by", "county:\u0664\u0664\u0660\u0661\u0660\u0664"),
        ("log", LOG_TEXT + "\n"),
        ("head", "ab" * 32 + "\n"),
    ],
)
def test_11_schema_patterns_are_full_ascii_matches(name: str, value: str) -> None:
    """Finding 11: schema regexes are \\Z-anchored and use [0-9], not \\d."""
    body = {
        "v": 1, "type": "ack", "by": "county:440104", "log": LOG_TEXT, "seq": 1,
        "head": "ab" * 32, "at": NOW,
    }  # fmt: skip
    load_body(AckBody(), body, "ack")
    with pytest.raises(MalformedError):
        load_body(AckBody(), {**body, name: value}, "ack")


def test_12_sign_batch_refuses_entries_of_another_suite(village: Node, village_log: LogId) -> None:
    """Finding 12: every entry of a batch must use the signing key's suite."""
    classic = chain_entries(village_log, [person_payload(1)], suite=Suite.CLASSIC)
    with pytest.raises(ValueError):
        sign_batch(classic, village.signing, village.cert.serial)


def test_15_erased_frame_length_and_seq_bounds(
    village_log: LogId, sealed_batch: SealedBatch
) -> None:
    """Finding 15: erased frames' payload_len is bounded by MAX_PAYLOAD too, and
    decode_header refuses seqs above 2**53-1."""
    header = BatchHeader(Suite.HYBRID, village_log, 1, 1, bytes(32), bytes(32), 1, 1, 1)
    with pytest.raises(TooLargeError):
        rebuild_entries(header, raw_frames([1], codes=[1], erased=[(MAX_PAYLOAD + 1, bytes(32))]))
    big = dataclasses.replace(sealed_batch.header, first_seq=MAX_SEQ, last_seq=MAX_SEQ + 1)
    with pytest.raises(MalformedError):
        decode_header(big.to_bytes())
    edge = dataclasses.replace(sealed_batch.header, first_seq=MAX_SEQ - 1, last_seq=MAX_SEQ)
    assert edge == decode_header(edge.to_bytes())


def test_16_envelope_lifetime_and_hop_key_id_signed(
    village: Node, township: Node, sealed_batch: SealedBatch
) -> None:
    """Finding 16: decode_envelope refuses expires_ms <= sent_ms and a lifetime over
    MAX_LIFETIME_MS (30 days); the hop signature also covers hop_key_id."""
    raw = sealed_batch.raw
    for expires in (NOW, NOW - 1, NOW + MAX_LIFETIME_MS + 1):
        with pytest.raises(MalformedError):
            decode_envelope(raw[:57] + expires.to_bytes(8, "big") + raw[65:])
    with pytest.raises(ValueError):
        address(sealed_batch.sealed, village.signing, village.node, township.node,
                NOW, NOW + MAX_LIFETIME_MS + 1)  # fmt: skip
    longest = address(sealed_batch.sealed, village.signing, village.node, township.node,
                      NOW, NOW + MAX_LIFETIME_MS)  # fmt: skip
    decode_envelope(longest).verify_hop(village.cert.verify_key, NOW)
    env = decode_envelope(raw)
    sig_len = len(env.hop_sig)
    key = village.cert.verify_key
    key.verify(env.hop_sig, HOP_CONTEXT + raw[: len(raw) - 2 - sig_len])
    with pytest.raises(SignatureError):
        key.verify(env.hop_sig, HOP_CONTEXT + raw[: len(raw) - 2 - sig_len - 8])


def test_17_duplicate_recipients_are_refused(root: Node, sealed_batch: SealedBatch) -> None:
    """Finding 17: naming one recipient key twice is a ValueError when sealing."""
    key = root.kem.public_key
    with pytest.raises(ValueError):
        seal_batch(sealed_batch.entries, sealed_batch.header, sealed_batch.batch_sig, [key, key])
    with pytest.raises(ValueError):
        seal_field("x", [key, key], "village:440104001002/complaint/Q1/reporter")


def test_18_inflate_bound_is_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 18: frames inflating to exactly MAX_FRAMES are fine; one byte more is
    TooLargeError."""
    monkeypatch.setattr(envelope, "MAX_FRAMES", 1000)
    assert b"x" * 1000 == envelope._inflate(zlib.compress(b"x" * 1000))
    assert b"x" * 999 == envelope._inflate(zlib.compress(b"x" * 999))
    with pytest.raises(TooLargeError):
        envelope._inflate(zlib.compress(b"x" * 1001))
    with pytest.raises(MalformedError):
        envelope._inflate(zlib.compress(b"x" * 1000)[:-2])


def test_20_sealed_fields_are_strict() -> None:
    """Finding 20: canonical base64 only, key ids sorted and distinct, and another
    version digit after 'sealed:' is UnsupportedError."""
    where = "village:440104001002/complaint/Q1/reporter"
    a = make_node("440104", suite=Suite.CLASSIC)
    b = make_node("440105", suite=Suite.CLASSIC)
    keys = {a.kem.public_key.key_id: a.kem}
    text = seal_field("李四", [a.kem.public_key, b.kem.public_key], where)
    assert "李四" == open_field(text, keys, where)
    raw = base64.b64decode(text[len("sealed:1:") :])
    one = 8 + Suite.CLASSIC.wrap_size
    swapped = raw[:2] + raw[2 + one : 2 + 2 * one] + raw[2 : 2 + one] + raw[2 + 2 * one :]
    with pytest.raises(MalformedError, match="sorted"):
        open_field("sealed:1:" + base64.b64encode(swapped).decode(), keys, where)
    doubled = raw[:2] + raw[2 : 2 + one] * 2 + raw[2 + 2 * one :]
    with pytest.raises(MalformedError, match="sorted"):
        open_field("sealed:1:" + base64.b64encode(doubled).decode(), keys, where)
    with pytest.raises(MalformedError, match="canonical"):
        open_field("sealed:1:AR==", keys, where)
    with pytest.raises(UnsupportedError):
        open_field("sealed:2:" + text[len("sealed:1:") :], keys, where)
    with pytest.raises(MalformedError):
        open_field("sealed:x:" + text[len("sealed:1:") :], keys, where)


def test_21_welcome_is_verified_before_unwrapping(root: Node) -> None:
    """Finding 21: open_welcome(raw, hello_raw, kem, server_key) verifies first; expires
    must be an int (not a bool) and the session id 24 lower-case hex characters."""
    village, town = make_node("440104001002", root), make_node("440104001", root)
    hello_raw = make_hello(village.signing, village.node, town.node, NOW)
    hello = decode_hello(hello_raw, town.node, NOW)
    welcome_raw, server_side = make_welcome(town.signing, hello, village.cert.kem_key, NOW)
    assert server_side == open_welcome(welcome_raw, hello_raw, village.kem, town.cert.verify_key)
    # Wrong server key and a KEM key that cannot unwrap: the signature fails first.
    with pytest.raises(SignatureError):
        open_welcome(welcome_raw, hello_raw, town.kem, village.cert.verify_key)
    body = dict(decode_signed(welcome_raw).body)
    for name, value in [("expires", True), ("session", "AB" * 12), ("session", "ab" * 11)]:
        forged = sign_object({**body, name: value}, town.signing)
        with pytest.raises(MalformedError):
            open_welcome(forged, hello_raw, village.kem, town.cert.verify_key)


def test_22_certificate_window_must_not_be_empty(root: Node, village: Node) -> None:
    """Finding 22: decode_certificate refuses not_after <= not_before."""
    body = dict(decode_signed(village.cert.raw).body)
    for not_after in (body["not_before"], body["not_before"] - 1):
        with pytest.raises(MalformedError):
            decode_certificate(sign_object({**body, "not_after": not_after}, root.signing))


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@given(json_values(MAX_DEPTH + 2))
@settings(max_examples=300, deadline=None)
def test_23_encode_and_decode_agree_on_depth(value: object) -> None:
    """Finding 23: encode and decode count container depth identically: whatever encode
    accepts decode accepts, and what encode refuses decode refuses too."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        data = canonical.encode(value)  # type: ignore[arg-type]
    except ValueError:
        with pytest.raises(TooLargeError):
            canonical.decode(text.encode())
        return
    assert text.encode() == data
    assert value == canonical.decode(data)


def test_23_empty_innermost_container_counts() -> None:
    """Finding 23: MAX_DEPTH nested empty lists are fine, one more is refused both ways."""
    assert _nested(MAX_DEPTH) == canonical.decode(canonical.encode(_nested(MAX_DEPTH)))
    with pytest.raises(ValueError):
        canonical.encode(_nested(MAX_DEPTH + 1))
    with pytest.raises(TooLargeError):
        canonical.decode(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


def test_24_op_type_and_encoder_validation() -> None:
    """Finding 24: a missing or non-string "op" is MalformedError (only a well-formed
    unknown op type is UnsupportedError); encode_payload never emits what decode refuses."""
    for op in ({"kind": "person"}, {"op": 5}, {"op": None}, {"op": ""}, {"op": "Delete!"}):
        with pytest.raises(MalformedError):
            decode_payload(canonical.encode({"v": 1, "ops": [op]}))
    with pytest.raises(UnsupportedError):
        decode_payload(canonical.encode({"v": 1, "ops": [{"op": "delete"}]}))
    for bad in [
        Upsert("Person", "p1", {"name": ("x", 0)}),
        Upsert("person", "p 1", {"name": ("x", 0)}),
        Upsert("person", "p1", {}),
        Upsert("person", "p1", {"name": ("x", -1)}),
        Retire("person", "p1", "retention", "village:440104001002#01/5"),
        EpochStart(1, 2, "reboot"),
    ]:
        with pytest.raises(ValueError):
            encode_payload([bad])
    with pytest.raises(TypeError):
        encode_payload(["not an op"])  # type: ignore[list-item]


def test_27_29_error_docs_and_quarantine_code(sealed_batch: SealedBatch) -> None:
    """Findings 27-29: UnsupportedError documents versions, suites and op types;
    ForkError points to protocol.frontier.ForkProof; QuarantineError defaults to the
    neutral "quarantined" and the raisers name clock_drift / unknown_ruleset."""
    assert "op type" in (UnsupportedError.__doc__ or "")
    assert "protocol.frontier.ForkProof" in (ForkError.__doc__ or "")
    assert ErrorCode.QUARANTINED == QuarantineError("x").code == "quarantined"
    future = dataclasses.replace(sealed_batch.header, hlc_max=(NOW + 2 * DAY_MS) << 16)
    with pytest.raises(QuarantineError) as exc:
        check_clock(future, NOW)
    assert ErrorCode.CLOCK_DRIFT == exc.value.code
    with pytest.raises(QuarantineError) as exc:
        check_rulesets(sealed_batch.entries, {2})
    assert ErrorCode.UNKNOWN_RULESET == exc.value.code
    with pytest.raises(QuarantineError) as exc:
        HybridClock(lambda: NOW).observe((NOW + 2 * DAY_MS) << 16)
    assert ErrorCode.CLOCK_DRIFT == exc.value.code


def test_30_other_versions_are_unsupported(
    root: Node, village: Node, sealed_batch: SealedBatch, entries: list[Entry]
) -> None:
    """Finding 30: a known magic with another version digit and an integer "v" other
    than 1 raise UnsupportedError (code "unsupported"); other magics stay malformed."""
    forked = chain_entries(entries[0].log, [person_payload(i) for i in range(50, 55)])
    second, second_sig = sign_batch(forked, village.signing, village.cert.serial)
    proof = ForkProof(sealed_batch.header, sealed_batch.batch_sig, second, second_sig).to_bytes()
    header = sealed_batch.header.to_bytes()
    cases = [
        (decode_signed, root.cert.raw),
        (decode_header, header),
        (decode_envelope, sealed_batch.raw),
        (decode_fork_proof, proof),
    ]
    for decode, raw in cases:
        decode(raw)
        for digit in set(b"0123") - {raw[3]}:
            with pytest.raises(UnsupportedError) as exc:
                decode(raw[:3] + bytes([digit]) + raw[4:])
            assert "unsupported" == exc.value.code
        with pytest.raises(MalformedError):
            decode(raw[:3] + b"X" + raw[4:])
    with pytest.raises(UnsupportedError):
        decode_signed(_raw_signed(b'{"type":"advisory","v":2}', root))
    with pytest.raises(UnsupportedError):
        decode_payload(b'{"ops":[],"v":2}')
    with pytest.raises(MalformedError):
        decode_payload(b'{"ops":[],"v":"1"}')


def test_31_crypto_has_no_unused_mac() -> None:
    """Finding 31: the unused crypto.mac() is gone; session.py keeps the HMAC."""
    assert not hasattr(crypto, "mac")


def test_every_finding_raises_only_protocol_errors() -> None:
    """The parsers touched above still raise only ProtocolError on junk."""
    for junk in ["", "#", ":", "village:#1", "village:440104001002#", "\u00b2", "a" * 100]:
        with pytest.raises(ProtocolError):
            LogId.parse(junk)
        with pytest.raises(ProtocolError):
            NodeId.parse(junk)
