# SPDX-License-Identifier: Apache-2.0
"""Sync sessions: signed handshake, wrapped key, MACs over requests and responses."""

from __future__ import annotations

import pytest

from protocol.errors import ExpiredError, MalformedError, SignatureError
from protocol.session import check_mac, decode_hello, mac, make_hello, make_welcome, open_welcome
from protocol.signed import decode_signed, sign_object
from protocol.testing import NOW
from protocol.testing import TestNode as Node


@pytest.fixture(scope="module")
def pair(village: Node, township: Node) -> tuple[Node, Node]:
    """The client (a village) and the server (its township)."""
    return village, township


def test_handshake_round_trip(pair: tuple[Node, Node]) -> None:
    """The server learns who is calling; only the caller can unwrap the session key."""
    village, town = pair
    hello_raw = make_hello(village.signing, village.node, town.node, NOW)
    hello = decode_hello(hello_raw, town.node, NOW + 1000)
    hello.signed.verify(village.cert.verify_key)
    welcome_raw, server_side = make_welcome(town.signing, hello, village.cert.kem_key, NOW)
    client_side = open_welcome(welcome_raw, hello_raw, village.kem, town.cert.verify_key)
    assert client_side == server_side


def test_stale_hello_refused(pair: tuple[Node, Node]) -> None:
    """A recorded hello replayed later than the skew bound is refused."""
    village, town = pair
    raw = make_hello(village.signing, village.node, town.node, NOW)
    with pytest.raises(ExpiredError):
        decode_hello(raw, town.node, NOW + 10 * 60 * 1000)


def test_hello_for_someone_else(pair: tuple[Node, Node]) -> None:
    """A hello addressed to another node is malformed (SPEC.md §8.5 hello step 2)."""
    village, town = pair
    raw = make_hello(village.signing, village.node, village.node, NOW)
    with pytest.raises(MalformedError):
        decode_hello(raw, town.node, NOW)


def test_welcome_must_answer_our_hello(pair: tuple[Node, Node]) -> None:
    """A welcome naming another hello fails like a bad signature (welcome step 4)."""
    village, town = pair
    first = make_hello(village.signing, village.node, town.node, NOW)
    second = make_hello(village.signing, village.node, town.node, NOW)
    welcome, _ = make_welcome(
        town.signing, decode_hello(first, town.node, NOW), village.cert.kem_key, NOW
    )
    with pytest.raises(SignatureError):
        open_welcome(welcome, second, village.kem, town.cert.verify_key)


def test_welcome_from_an_impostor(pair: tuple[Node, Node]) -> None:
    """The welcome is verified against the enrolled parent before its key is used."""
    village, town = pair
    hello = make_hello(village.signing, village.node, town.node, NOW)
    welcome, _ = make_welcome(
        village.signing, decode_hello(hello, town.node, NOW), village.cert.kem_key, NOW
    )
    with pytest.raises(SignatureError):
        open_welcome(welcome, hello, village.kem, town.cert.verify_key)


def test_mac_binds_every_part() -> None:
    """Changing direction, method, path, counter or body breaks the MAC."""
    key = bytes(32)
    good = mac(key, "req", "POST", "/sync/v1/envelopes", 7, b"body")
    check_mac(key, good, "req", "POST", "/sync/v1/envelopes", 7, b"body")
    for args in [
        ("res", "POST", "/sync/v1/envelopes", 7, b"body"),
        ("req", "GET", "/sync/v1/envelopes", 7, b"body"),
        ("req", "POST", "/sync/v1/state", 7, b"body"),
        ("req", "POST", "/sync/v1/envelopes", 8, b"body"),
        ("req", "POST", "/sync/v1/envelopes", 7, b"bodY"),
    ]:
        with pytest.raises(SignatureError):
            check_mac(key, good, *args)


def test_welcome_is_verified_before_unwrapping(pair: tuple[Node, Node]) -> None:
    """open_welcome(raw, hello_raw, kem, server_key) verifies first; expires
    must be an int (not a bool) and the session id 24 lower-case hex characters."""
    village, town = pair
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
