# SPDX-License-Identifier: Apache-2.0
"""Vectors of what travels: sessions (SPEC.md §8.5), sealed fields (§10.6), a log
continued across epochs (§3.5) and an envelope relayed from its origin to the county,
each read by the node it is addressed to (§6.3, §6.5, §6.7).

Deterministic parts come from labelled seeds (session keys, nonces, content keys);
HPKE ``enc`` values and ML-DSA signatures are random by design, and the tests check
those by opening and verifying.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from typing import Any

from protocol import canonical
from protocol.batches import sign_batch
from protocol.crypto import Suite, sha256
from protocol.entries import FLAG_EPOCH_START, Entry
from protocol.envelope import _addressed, _seal_with, address, decode_envelope, readdress
from protocol.fields import seal_field
from protocol.frames import encode_frames
from protocol.ids import LogId
from protocol.ops import EpochStart, Upsert, encode_payload
from protocol.session import decode_hello, mac, make_hello, make_welcome
from protocol.signed import b64, decode_signed, sign_object
from protocol.testing import (
    NOW,
    ORIGIN_EXPIRES,
    ORIGIN_SENT,
    TestNode,
    chain_entries,
    make_node,
    person_payload,
    seed,
)

HOUR_MS = 3_600_000


def _seeded(*labels: str) -> Callable[[int], bytes]:
    """A ``random`` that hands out ``seed(label, n)`` for each label in turn."""
    pending = iter(labels)
    return lambda size: seed(next(pending), size)


# -- sessions (§8.5) -------------------------------------------------------------------


def session_vectors() -> dict[str, Any]:
    """A village opens a session with its township; MACs of a request and its response."""
    out: dict[str, Any] = {"handshakes": [], "hello_checks": [], "welcome_checks": []}
    for suite in Suite:
        root = make_node("440104", suite=suite)
        client = make_node("440104001002", root, suite)
        server = make_node("440104001", root, suite)
        hello_raw = make_hello(client.signing, client.node, server.node, NOW,
                               random=_seeded("hello nonce"))  # fmt: skip
        hello = decode_hello(hello_raw, server.node, NOW)
        welcome_raw, welcome = make_welcome(
            server.signing, hello, client.cert.kem_key, NOW,
            random=_seeded("session key", "session id"),
        )  # fmt: skip
        out["handshakes"].append({
            "suite": int(suite),
            "client": str(client.node),
            "server": str(server.node),
            "at": NOW,
            "hello": hello_raw.hex(),
            "hello_body": hello.signed.body_bytes.decode(),
            "hello_hash": sha256(hello_raw).hex(),
            "welcome": welcome_raw.hex(),
            "session": welcome.session_id,
            "session_key": welcome.key.hex(),
            "expires": welcome.expires,
            "deterministic": suite is Suite.CLASSIC,
        })  # fmt: skip
    classic = Suite.CLASSIC
    root = make_node("440104", suite=classic)
    client = make_node("440104001002", root, classic)
    server = make_node("440104001", root, classic)
    hello_raw = make_hello(client.signing, client.node, server.node, NOW,
                           random=_seeded("hello nonce"))  # fmt: skip
    hello_body = dict(decode_signed(hello_raw).body)

    def hello_case(name: str, raw: bytes, expect: str, now: int = NOW) -> dict[str, Any]:
        return {"name": name, "hello": raw.hex(), "now": now, "expect": expect}

    def forged_hello(**changes: Any) -> bytes:
        body = {k: v for k, v in {**hello_body, **changes}.items() if v is not None}
        return sign_object(body, client.signing)

    out["hello_checks"] = [
        hello_case("valid", hello_raw, "ok"),
        hello_case("five minutes late, inclusive", hello_raw, "ok", NOW + 300_000),
        hello_case("five minutes early, inclusive", hello_raw, "ok", NOW - 300_000),
        hello_case("step 1: an extra key", forged_hello(extra=1), "malformed"),
        hello_case("step 1: no nonce", forged_hello(nonce=None), "malformed"),
        hello_case("step 1: at is a boolean", forged_hello(at=True), "malformed"),
        hello_case("step 2: addressed to another node",
                   forged_hello(to=str(root.node)), "malformed"),
        hello_case("step 3: one millisecond too late", hello_raw, "expired", NOW + 300_001),
        hello_case("step 4: nonce of 15 bytes", forged_hello(nonce=b64(bytes(15))),
                   "malformed"),
        hello_case("step 4: from is not a node id",
                   forged_hello(**{"from": "VILLAGE:440104001002"}), "malformed"),
        hello_case("step 5: signed by another key",
                   sign_object(hello_body, server.signing), "bad_signature"),
    ]  # fmt: skip
    good_raw, _ = make_welcome(
        server.signing, decode_hello(hello_raw, server.node, NOW), client.cert.kem_key, NOW,
        random=_seeded("session key", "session id"),
    )  # fmt: skip
    welcome_body = dict(decode_signed(good_raw).body)

    def welcome_case(name: str, raw: bytes, expect: str) -> dict[str, Any]:
        return {"name": name, "welcome": raw.hex(), "hello": hello_raw.hex(), "expect": expect}

    def forged_welcome(**changes: Any) -> bytes:
        return sign_object({**welcome_body, **changes}, server.signing)

    other_hello = make_hello(client.signing, client.node, server.node, NOW,
                             random=_seeded("another hello nonce"))  # fmt: skip
    to_other, _ = make_welcome(
        server.signing, decode_hello(other_hello, server.node, NOW), client.cert.kem_key, NOW
    )
    wrapped_for_server, _ = make_welcome(
        server.signing, decode_hello(hello_raw, server.node, NOW), server.cert.kem_key, NOW
    )
    out["welcome_checks"] = [
        welcome_case("valid", good_raw, "ok"),
        welcome_case("step 2: signed by the client's key",
                     sign_object(welcome_body, client.signing), "bad_signature"),
        welcome_case("step 3: an extra key", forged_welcome(extra=1), "malformed"),
        welcome_case("step 4: answers another hello", to_other, "bad_signature"),
        welcome_case("step 5: session id in upper case",
                     forged_welcome(session=welcome_body["session"].upper()), "malformed"),
        welcome_case("step 5: session id of 22 characters",
                     forged_welcome(session=welcome_body["session"][:22]), "malformed"),
        welcome_case("step 6: expires is a boolean", forged_welcome(expires=True), "malformed"),
        welcome_case("step 7: wrapped for another key", wrapped_for_server, "decrypt_failed"),
    ]  # fmt: skip
    key = seed("session key", 32)
    ack = b"RKS1 (the signed ack bytes)"
    envelope = b"RKV2 (the envelope bytes)"
    calls = [
        ("req", "POST", "/sync/v1/envelopes", 1, envelope),
        ("res", "POST", "/sync/v1/envelopes", 1, ack),
        ("req", "GET", "/sync/v1/state?d=" + "ab" * 32 + "&r=3", 2, b""),
        ("res", "GET", "/sync/v1/state?d=" + "ab" * 32 + "&r=3", 2, b""),
        ("req", "post", "/sync/v1/envelopes", 18446744073709551615, envelope),
    ]
    out["macs"] = {
        "session_key": key.hex(),
        "cases": [
            {"direction": d, "method": m, "path": p, "counter": c, "body": b.hex(),
             "mac": mac(key, d, m, p, c, b)}
            for d, m, p, c, b in calls
        ],
    }  # fmt: skip
    return out


# -- sealed fields (§10.6) -------------------------------------------------------------


def field_vectors() -> dict[str, Any]:
    """A complainant's name sealed for the county and the township, bound to its place."""
    where = "village:440104001002/complaint/Q1/reporter"
    cases: list[dict[str, Any]] = []
    for suite in Suite:
        root = make_node("440104", suite=suite)
        town = make_node("440104001", root, suite)
        village = make_node("440104001002", root, suite)
        value: canonical.JSON = {"id_number": "44010419900101002X", "name": "李四"}
        label = f"sealed field content key {suite.name}"
        key = seed(label, 32)
        text = seal_field(value, [root.kem.public_key, town.kem.public_key], where,
                          random=_seeded(label))  # fmt: skip
        raw = base64.b64decode(text[len("sealed:1:") :])
        one = 8 + suite.wrap_size
        ciphertext = raw[2 + 2 * one :]

        def case(name: str, sealed: str, reader: TestNode, expect: str, at: str = where,
                 suite: Suite = suite) -> None:  # fmt: skip
            cases.append({"suite": int(suite), "name": name, "text": sealed,
                          "reader": str(reader.node), "where": at, "expect": expect})  # fmt: skip

        def reencoded(data: bytes) -> str:
            return "sealed:1:" + base64.b64encode(data).decode()

        case("valid, read by the county", text, root, "ok")
        case("valid, read by the township", text, town, "ok")
        cases[-2].update(value=value, plaintext=canonical.encode(value).decode(),
                         content_key=key.hex(), ciphertext=ciphertext.hex())  # fmt: skip
        case("moved to another record", text, root, "decrypt_failed",
             at=where.replace("Q1", "Q2"))  # fmt: skip
        case("not sealed for the village", text, village, "no_recipient")
        if suite is Suite.HYBRID:
            continue  # the structural faults below do not depend on the suite
        case("version 2 prefix", "sealed:2:" + text[len("sealed:1:") :], root, "unsupported")
        case("no prefix", text[len("sealed:1:") :], root, "malformed")
        case("base64 with a line break", text[:20] + "\n" + text[20:], root, "malformed")
        case("unknown suite byte", reencoded(b"\x03" + raw[1:]), root, "unsupported")
        case("zero recipients", reencoded(raw[:1] + b"\x00" + raw[2:]), root, "malformed")
        case("five recipients", reencoded(raw[:1] + b"\x05" + raw[2:]), root, "malformed")
        case("key ids not ascending",
             reencoded(raw[:2] + raw[2 + one : 2 + 2 * one] + raw[2 : 2 + one] + ciphertext),
             root, "malformed")  # fmt: skip
        flipped = bytearray(raw)
        flipped[-1] ^= 1
        case("ciphertext flipped", reencoded(bytes(flipped)), root, "decrypt_failed")
        case("longer than 32,768 characters", "sealed:1:" + "A" * 32_760, root, "too_large")
    # Non-canonical base64: the last character before the padding with a spare bit set.
    classic = next(c for c in cases if c["suite"] == Suite.CLASSIC and c["expect"] == "ok")
    text = classic["text"]
    body = text[len("sealed:1:") :].rstrip("=")
    pad = len(text) - len("sealed:1:") - len(body)
    if pad:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        spare = alphabet[alphabet.index(body[-1]) ^ 1]
        cases.append({**classic, "name": "base64 with a spare bit set",
                      "text": "sealed:1:" + body[:-1] + spare + "=" * pad,
                      "expect": "malformed"})  # fmt: skip
        for k in ("value", "plaintext", "content_key", "ciphertext"):
            cases[-1].pop(k, None)
    return {"where": where, "cases": cases}


# -- a log continued in a new epoch (§3.5) ---------------------------------------------


def epoch_vectors() -> dict[str, Any]:
    """Epoch 1 of a village, then epoch 2 after a restore, whose first entry names the
    head of epoch 1; and the batches a receiver must refuse around that link."""
    suite = Suite.CLASSIC
    root = make_node("440104", suite=suite)
    village = make_node("440104001002", root, suite)
    log1, log2 = LogId(village.node, 1), LogId(village.node, 2)
    first = chain_entries(log1, [
        encode_payload([EpochStart(0, 0, "install")]), person_payload(1), person_payload(2),
    ], suite=suite)  # fmt: skip
    h1, s1 = sign_batch(
        first, village.signing, village.cert.serial, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES
    )
    head = first[-1]
    restore = encode_payload([EpochStart(1, head.seq, "restore")])
    update = encode_payload([Upsert("person", "p1", {"phone": ("13800000000", 2)})])
    second = chain_entries(log2, [restore, update], suite=suite, prev_hash=head.hash,
                           hlc0=head.hlc + 1)  # fmt: skip
    second[0] = _with_flags(second[0], FLAG_EPOCH_START)
    second[1] = dataclasses.replace(second[1], prev_hash=second[0].hash)
    h2, s2 = sign_batch(
        second, village.signing, village.cert.serial, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES
    )

    def batch(entries: list[Entry]) -> dict[str, Any]:
        header, sig = sign_batch(
            entries,
            village.signing,
            village.cert.serial,
            sent_ms=ORIGIN_SENT,
            expires_ms=ORIGIN_EXPIRES,
        )
        return {
            "batch_header": header.to_bytes().hex(),
            "batch_signature": sig.hex(),
            "frames": encode_frames(entries).hex(),
        }

    unflagged = chain_entries(log2, [restore, update], suite=suite, prev_hash=head.hash,
                              hlc0=head.hlc + 1)  # fmt: skip
    flag_on_two = bytearray(encode_frames(second))
    flag_on_two[10 * len(second) + 1] |= FLAG_EPOCH_START  # the flags column, entry 2
    zero_prev = chain_entries(log2, [restore], suite=suite, hlc0=head.hlc + 1)
    zero_prev[0] = _with_flags(zero_prev[0], FLAG_EPOCH_START)
    invalid = [
        {"name": "seq 1 without EPOCH_START after a head (step 17)", **batch(unflagged),
         "expect": "bad_chain"},
        {"name": "EPOCH_START on seq 2 (step 11)", "batch_header": h2.to_bytes().hex(),
         "batch_signature": s2.hex(), "frames": bytes(flag_on_two).hex(),
         "expect": "malformed"},
        {"name": "EPOCH_START cleared in the frames (step 16)",
         "batch_header": h2.to_bytes().hex(), "batch_signature": s2.hex(),
         "frames": encode_frames(unflagged).hex(), "expect": "bad_chain"},
        {"name": "EPOCH_START with a zero prev_hash is accepted (§14.1)", **batch(zero_prev),
         "expect": "ok"},
    ]  # fmt: skip
    return {
        "signer": str(village.node),
        "epochs": [
            {"log": str(log), "batch_header": h.to_bytes().hex(), "batch_signature": s.hex(),
             "frames": encode_frames(entries).hex(),
             "entries": [{"seq": e.seq, "flags": e.flags, "prev_hash": e.prev_hash.hex(),
                          "payload": None if e.payload is None else e.payload.decode(),
                          "header": e.header().hex(), "hash": e.hash.hex()} for e in entries]}
            for log, h, s, entries in ((log1, h1, s1, first), (log2, h2, s2, second))
        ],
        "invalid": invalid,
    }  # fmt: skip


def _with_flags(entry: Entry, flags: int) -> Entry:
    return dataclasses.replace(entry, flags=flags)


# -- one envelope from the village to the county, read by each `to` (§6.3-§6.7) --------


def relay_vectors() -> dict[str, Any]:
    """The village seals for its township, the county and its own escrow key (§6.3) and
    sends to the township; the township, which reads it, forwards it to the county,
    which reads it too. Each reader is the envelope's ``to``."""
    cases: list[dict[str, Any]] = []
    for suite in Suite:
        county = make_node("440104", suite=suite)  # in the vectors the root's keys
        town = make_node("440104001", county, suite)
        village = make_node("440104001002", county, suite)
        log = LogId(village.node, 1)
        entries = chain_entries(log, [person_payload(i) for i in range(1, 4)], suite=suite)
        header, sig = sign_batch(
            entries,
            village.signing,
            village.cert.serial,
            sent_ms=ORIGIN_SENT,
            expires_ms=ORIGIN_EXPIRES,
        )
        key = seed(f"relay content key {suite.name}", 32)
        recipients = [town.kem.public_key, county.kem.public_key, village.kem.public_key]
        sealed = _seal_with(entries, header, recipients, key, sig)
        first_hop = address(sealed, village.signing, village.node, town.node, NOW,
                            NOW + HOUR_MS)  # fmt: skip
        second_hop = readdress(decode_envelope(first_hop), town.signing, town.node, county.node,
                               NOW + 1000, NOW + HOUR_MS)  # fmt: skip
        base = {"suite": int(suite), "origin": str(village.node), "now": NOW + 2000,
                "entry_hashes": [e.hash.hex() for e in entries],
                "recipient_key_ids": sorted(r.key_id.hex() for r in recipients),
                "required_key_ids": [county.kem.public_key.key_id.hex()]}  # fmt: skip

        def case(
            name: str, raw: bytes, hop: TestNode, reader: TestNode, expect: str,
            base: dict[str, Any] = base,
        ) -> None:  # fmt: skip
            cases.append({**base, "name": name, "envelope": raw.hex(), "hop": str(hop.node),
                          "reader": str(reader.node), "expect": expect})  # fmt: skip

        case(f"{suite.name}: village to township, read by the township", first_hop, village,
             town, "ok")  # fmt: skip
        case(f"{suite.name}: township to county, read by the county", second_hop, town, county,
             "ok")  # fmt: skip
        stripped = _seal_with(entries, header, [town.kem.public_key, village.kem.public_key],
                              seed(f"relay content key 2 {suite.name}", 32), sig)  # fmt: skip
        without_county = address(stripped, village.signing, village.node, town.node, NOW,
                                 NOW + HOUR_MS)  # fmt: skip
        case(f"{suite.name}: not sealed for the county, at the township", without_county,
             village, town, "bad_recipients")  # fmt: skip
        forwarded = readdress(decode_envelope(without_county), town.signing, town.node,
                              county.node, NOW + 1000, NOW + HOUR_MS)  # fmt: skip
        case(f"{suite.name}: not sealed for the county, at the county", forwarded, town, county,
             "no_recipient")  # fmt: skip
        stale = readdress(decode_envelope(first_hop), town.signing, town.node, county.node,
                          NOW + 1000, NOW + 1001)  # fmt: skip
        case(f"{suite.name}: forwarded, expired on arrival", stale, town, county, "expired")
        case(f"{suite.name}: forwarded, hop signed by the origin's key",
             address(sealed, village.signing, town.node, county.node, NOW, NOW + HOUR_MS),
             town, county, "bad_signature")  # fmt: skip
        brief, brief_sig = sign_batch(entries, village.signing, village.cert.serial,
                                      sent_ms=NOW, expires_ms=NOW + HOUR_MS)  # fmt: skip
        brief_key = seed(f"relay content key 3 {suite.name}", 32)
        brief_sealed = _seal_with(entries, brief, recipients, brief_key, brief_sig)
        case(f"{suite.name}: forwarded with a later expiry than the origin's", _addressed(
            brief_sealed, town.signing, town.node, county.node, NOW + 1000, NOW + 2 * HOUR_MS),
            town, county, "expiry_extended")  # fmt: skip
    return {"cases": cases}
