# SPDX-License-Identifier: Apache-2.0
"""The traffic vectors hold: sessions.json (SPEC.md §8.5), fields.json (§10.6),
epochs.json (§3.5, §5.3) and relay.json (§6.3, §6.5, §6.7).

Every case is run through the reference code. Deterministic parts (CLASSIC signatures,
hashes, MACs, frames, ciphertexts under a pinned key) are compared with what the code
produces today; HPKE wraps and ML-DSA signatures are random by design and are checked by
opening and verifying.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from protocol import canonical
from protocol.batches import decode_header, rebuild_entries
from protocol.certs import Certificate
from protocol.crypto import Suite, seal, sha256
from protocol.envelope import check_recipients, decode_envelope, open_envelope, sealed_part
from protocol.errors import ProtocolError, SignatureError
from protocol.fields import CONTEXT as FIELD_CONTEXT
from protocol.fields import open_field
from protocol.frontier import Frontier, Head, check_continues
from protocol.ids import LogId, NodeId, Role
from protocol.ops import EpochStart, decode_payload
from protocol.session import check_mac, decode_hello, mac, open_welcome
from protocol.testing import TestNode as Node
from protocol.testing import make_node
from protocol.vectors import traffic
from tests.protocol.helpers import keyring, vectors

SESSIONS = vectors("sessions.json")
FIELDS = vectors("fields.json")
EPOCHS = vectors("epochs.json")
RELAY = vectors("relay.json")


def _code(run: Callable[[], object]) -> str:
    """ "ok", or the code of the ProtocolError ``run()`` raises."""
    try:
        run()
    except ProtocolError as exc:
        return str(exc.code)
    return "ok"


def _node(text: str, suite: Suite) -> Node:
    """The seeded test node named ``text`` (SPEC.md §13), certified by its county root."""
    node = NodeId.parse(text)
    root = make_node(node.county_code, suite=suite)
    return root if node.code == node.county_code else make_node(node.code, root, suite)


def _cert(text: str, suite: Suite) -> Certificate:
    return _node(text, suite).cert


# -- sessions ------------------------------------------------------------------------


@pytest.mark.parametrize("case", SESSIONS["handshakes"], ids=lambda c: f"suite{c['suite']}")
def test_handshake(case: dict[str, Any]) -> None:
    """§8.5: the server checks the hello; the client opens the welcome to the session key
    the server chose (seeded here), for the session id and expiry it signed."""
    suite = Suite(case["suite"])
    client, server = _node(case["client"], suite), _node(case["server"], suite)
    hello_raw = bytes.fromhex(case["hello"])
    hello = decode_hello(hello_raw, server.node, case["at"])
    hello.signed.verify(client.cert.verify_key)
    assert case["hello_body"] == hello.signed.body_bytes.decode()
    assert case["hello_hash"] == sha256(hello_raw).hex()
    welcome = open_welcome(bytes.fromhex(case["welcome"]), hello_raw, client.kem,
                           server.cert.verify_key)  # fmt: skip
    assert (case["session"], case["session_key"], case["expires"]) == (
        welcome.session_id, welcome.key.hex(), welcome.expires
    )  # fmt: skip


@pytest.mark.parametrize("case", SESSIONS["hello_checks"], ids=lambda c: c["name"])
def test_hello_checks(case: dict[str, Any]) -> None:
    """§8.5: the server's checks of a hello, in order; the first failure decides."""
    client = _node("village:440104001002", Suite.CLASSIC)
    server = NodeId.parse("township:440104001")

    def check() -> None:
        hello = decode_hello(bytes.fromhex(case["hello"]), server, case["now"])
        hello.signed.verify(client.cert.verify_key)

    assert case["expect"] == _code(check)


@pytest.mark.parametrize("case", SESSIONS["welcome_checks"], ids=lambda c: c["name"])
def test_welcome_checks(case: dict[str, Any]) -> None:
    """§8.5: the client's checks of a welcome, in order; nothing is unwrapped before the
    signature verifies."""
    client = _node("village:440104001002", Suite.CLASSIC)
    server = _cert("township:440104001", Suite.CLASSIC)
    welcome, hello = bytes.fromhex(case["welcome"]), bytes.fromhex(case["hello"])
    assert case["expect"] == _code(
        lambda: open_welcome(welcome, hello, client.kem, server.verify_key)
    )


def test_session_bytes_are_pinned() -> None:
    """§13: the CLASSIC hellos and every MAC are deterministic; the generator still
    writes exactly these (welcomes hold an HPKE wrap and are opened instead)."""
    fresh = traffic.session_vectors()
    classic = [h for h in SESSIONS["handshakes"] if h["deterministic"]]
    new = [h for h in fresh["handshakes"] if h["deterministic"]]
    assert [{**h, "welcome": None} for h in classic] == [{**h, "welcome": None} for h in new]
    assert SESSIONS["hello_checks"] == fresh["hello_checks"]
    assert SESSIONS["macs"] == fresh["macs"]


@pytest.mark.parametrize("case", SESSIONS["macs"]["cases"], ids=lambda c: c["path"][:24])
def test_mac(case: dict[str, Any]) -> None:
    """§8.5 MAC: HMAC-SHA256 over the context, direction, upper-case method, path as
    sent, decimal counter and SHA-256 of the body, truncated to 16 bytes, base64."""
    key = bytes.fromhex(SESSIONS["macs"]["session_key"])
    args = (case["direction"], case["method"], case["path"], case["counter"],
            bytes.fromhex(case["body"]))  # fmt: skip
    assert case["mac"] == mac(key, *args)
    check_mac(key, case["mac"], *args)
    flipped = case["mac"][:-3] + ("A" if case["mac"][-3] != "A" else "B") + case["mac"][-2:]
    with pytest.raises(SignatureError):
        check_mac(key, flipped, *args)


# -- sealed fields ---------------------------------------------------------------------


@pytest.mark.parametrize("case", FIELDS["cases"], ids=lambda c: f"{c['suite']} {c['name']}")
def test_sealed_field(case: dict[str, Any]) -> None:
    """§10.6: the reader opens the value bound to its place, or gets the listed code."""
    reader = _node(case["reader"], Suite(case["suite"]))
    keys = keyring(reader)
    assert case["expect"] == _code(lambda: open_field(case["text"], keys, case["where"]))
    if case["expect"] == "ok":
        assert case.get("value", FIELDS["cases"][0]["value"]) == open_field(
            case["text"], keys, case["where"]
        )


@pytest.mark.parametrize(
    "case", [c for c in FIELDS["cases"] if "ciphertext" in c], ids=lambda c: str(c["suite"])
)
def test_sealed_field_ciphertext_is_pinned(case: dict[str, Any]) -> None:
    """§10.6: ciphertext = Seal(K, canonical(value), "renkou-net/1 sealed field\\0" ||
    where); with the pinned content key it is deterministic, and it is the tail of the
    sealed text after the wraps."""
    plaintext = canonical.encode(case["value"])
    assert case["plaintext"].encode() == plaintext
    key = bytes.fromhex(case["content_key"])
    ciphertext = seal(key, plaintext, FIELD_CONTEXT + case["where"].encode())
    assert case["ciphertext"] == ciphertext.hex()
    raw = base64.b64decode(case["text"][len("sealed:1:") :])
    assert raw.endswith(ciphertext)
    assert 2 + raw[1] * (8 + Suite(case["suite"]).wrap_size) + len(ciphertext) == len(raw)


# -- epochs ----------------------------------------------------------------------------


def _rebuild(item: dict[str, Any]) -> list[Any]:
    signer = _node(EPOCHS["signer"], Suite.CLASSIC)
    header = decode_header(bytes.fromhex(item["batch_header"]))
    header.verify(signer.cert.verify_key, bytes.fromhex(item["batch_signature"]))
    return rebuild_entries(header, bytes.fromhex(item["frames"]))


def test_epoch_continues_the_previous_head() -> None:
    """§3.5: seq 1 of epoch 2 has EPOCH_START, its prev_hash is the head of epoch 1, and
    its payload's first op names that head (prev_epoch, prev_seq)."""
    first, second = EPOCHS["epochs"]
    entries = [_rebuild(first), _rebuild(second)]
    for epoch, rebuilt in zip(EPOCHS["epochs"], entries, strict=True):
        assert [e["hash"] for e in epoch["entries"]] == [e.hash.hex() for e in rebuilt]
        assert [e["header"] for e in epoch["entries"]] == [e.header().hex() for e in rebuilt]
    head = entries[0][-1]
    start = entries[1][0]
    assert (1, 0) == (start.seq, entries[0][0].flags)
    assert 1 == start.flags
    assert head.hash == start.prev_hash
    assert [EpochStart(head.log.epoch, head.seq, "restore")] == decode_payload(start.payload or b"")
    held = Frontier({head.log: Head(head.seq, head.hash)})
    header = decode_header(bytes.fromhex(second["batch_header"]))
    assert LogId.parse(second["log"]) == header.log
    assert "next" == check_continues(held, header)


@pytest.mark.parametrize("case", EPOCHS["invalid"], ids=lambda c: c["name"])
def test_epoch_link_faults(case: dict[str, Any]) -> None:
    """§5.3 steps 11, 16, 17: the epoch-start flag and prev_hash of seq 1."""
    assert case["expect"] == _code(lambda: _rebuild(case))


def test_epoch_bytes_are_pinned() -> None:
    """§13: epochs.json is wholly deterministic (CLASSIC); the generator still writes it."""
    assert {k: v for k, v in EPOCHS.items() if k != "provenance"} == traffic.epoch_vectors()


# -- an envelope relayed to the county -------------------------------------------------


def _receive(case: dict[str, Any]) -> list[Any]:
    """§6.7 steps 1-6 at the reader, who is the envelope's ``to``. A relay checks the
    recipients after the origin (step 3); the township, a recipient as its villages'
    reviewer, then opens the batch like the county."""
    suite = Suite(case["suite"])
    reader, hop = _node(case["reader"], suite), _cert(case["hop"], suite)
    origin = _cert(case["origin"], suite)
    env = decode_envelope(bytes.fromhex(case["envelope"]))
    assert reader.node == env.recipient  # every case is read by its `to`
    env.verify_hop(hop.verify_key, case["now"])
    env.verify_batch(origin.verify_key)
    if reader.node.role is not Role.COUNTY:
        check_recipients(env, [bytes.fromhex(k) for k in case["required_key_ids"]])
    return open_envelope(env, keyring(reader))


@pytest.mark.parametrize("case", RELAY["cases"], ids=lambda c: c["name"])
def test_relayed_envelope(case: dict[str, Any]) -> None:
    """§6.3 recipients, §6.5 relaying, §6.7 at the township and at the county."""
    assert case["expect"] == _code(lambda: _receive(case))
    if case["expect"] == "ok":
        assert case["entry_hashes"] == [e.hash.hex() for e in _receive(case)]
        env = decode_envelope(bytes.fromhex(case["envelope"]))
        assert case["recipient_key_ids"] == [k.hex() for k in env.recipient_key_ids]


@pytest.mark.parametrize("suite", list(Suite), ids=lambda s: s.name)
def test_relay_keeps_the_sealed_part(suite: Suite) -> None:
    """§6.5: the township's copy carries the village's sealed part byte for byte and the
    same message id; the recipient set is the township, the county and the escrow key."""
    first, second = [c for c in RELAY["cases"] if c["suite"] == suite and c["expect"] == "ok"]
    a = decode_envelope(bytes.fromhex(first["envelope"]))
    b = decode_envelope(bytes.fromhex(second["envelope"]))
    assert sealed_part(a) == sealed_part(b)
    assert a.message_id == b.message_id == sha256(a.header_bytes[:128])[:16]
    assert (a.sender, a.recipient, b.sender, b.recipient) == (
        NodeId.parse(first["origin"]), NodeId.parse(first["reader"]),
        NodeId.parse(second["hop"]), NodeId.parse(second["reader"]),
    )  # fmt: skip
    wanted = [_node(t, suite).kem.public_key.key_id.hex() for t in (
        "township:440104001", "county:440104", first["origin"])]  # fmt: skip
    assert sorted(wanted) == first["recipient_key_ids"]
