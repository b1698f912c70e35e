# SPDX-License-Identifier: Apache-2.0
"""The exchange message (SPEC.md §8.11) against damage: every truncation and every byte
flipped is refused with a ProtocolError (never another exception, never accepted), and
the sender's mistakes are ValueErrors."""

from __future__ import annotations

import pytest

from protocol.crypto import Suite
from protocol.errors import ProtocolError
from protocol.exchange import (
    ANSWER,
    NOTIFICATION,
    ExchangeHeader,
    decode_exchange,
    open_exchange,
    seal_exchange,
)
from protocol.testing import NOW, make_node
from protocol.vectors.exchange import ANSWERED, NOTICE

A, B = (make_node(code, suite=Suite.CLASSIC) for code in ("440104", "440105"))
HEADER = ExchangeHeader(NOTIFICATION, "ab" * 16, A.node, B.node, B.kem.public_key.key_id, NOW)
GOOD = seal_exchange(HEADER, NOTICE, A.signing, A.cert.raw, B.kem.public_key)


def read(raw: bytes) -> object:
    msg = decode_exchange(raw)
    msg.verify(A.cert)
    return open_exchange(msg, B.kem)


def test_the_good_message_reads() -> None:
    assert read(GOOD) == NOTICE


def test_every_truncation_is_refused() -> None:
    """§1.2: every length is checked against what remains."""
    for n in range(len(GOOD)):
        with pytest.raises(ProtocolError):
            read(GOOD[:n])


def test_every_flipped_byte_is_refused() -> None:
    """§8.11: the signature covers every byte before it; the signature's own bytes fail
    its check."""
    for i in range(len(GOOD)):
        damaged = bytearray(GOOD)
        damaged[i] ^= 0x40
        with pytest.raises(ProtocolError):
            read(bytes(damaged))


@pytest.mark.parametrize(
    "header",
    [
        ExchangeHeader(ANSWER, "ab" * 16, A.node, B.node, B.kem.public_key.key_id, NOW),
        ExchangeHeader(NOTIFICATION, "ab" * 16, A.node, B.node, A.kem.public_key.key_id, NOW),
        ExchangeHeader(NOTIFICATION, "AB" * 16, A.node, B.node, B.kem.public_key.key_id, NOW),
        ExchangeHeader(NOTIFICATION, "ab" * 16, A.node, A.node, B.kem.public_key.key_id, NOW),
    ],
    ids=["answer header, notification body", "another key", "upper-case id", "same county"],
)
def test_a_sender_cannot_make_a_message_a_reader_would_refuse(header: ExchangeHeader) -> None:
    with pytest.raises(ValueError):
        seal_exchange(header, NOTICE, A.signing, A.cert.raw, B.kem.public_key)


def test_not_found_without_a_cross_check_cannot_be_sent() -> None:
    """篇10 第25条."""
    header = ExchangeHeader(ANSWER, "ab" * 16, B.node, A.node, A.kem.public_key.key_id, NOW)
    bare = type(ANSWERED)(ANSWERED.outcome, ANSWERED.received, ANSWERED.answered, " ", "")
    with pytest.raises(ValueError):
        seal_exchange(header, bare, B.signing, B.cert.raw, A.kem.public_key)
