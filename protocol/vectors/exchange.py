# SPDX-License-Identifier: Apache-2.0
"""Vectors of the floating-population exchange (SPEC.md §8.11): county 440104 notifies
county 440105 of a birth and 440105 answers; one-fault messages with their codes.
``python -m protocol.vectors.generate exchange.json`` writes the file.

CLASSIC, so signatures are deterministic; the HPKE wrap is random by design, so the
header and the body's plaintext are pinned and each message is checked by verifying
and opening it. As everywhere in the vectors (§13) a county's node key is its root's
own key; 440105 trusts 440104 through its cross-certificate of 440104's root.
"""

from __future__ import annotations

from typing import Any

from protocol import canonical
from protocol.certs import issue_certificate
from protocol.crypto import Suite
from protocol.exchange import (
    ANSWER,
    NOTIFICATION,
    Answer,
    ExchangeHeader,
    Notification,
    new_notification_id,
    seal_exchange,
    seal_raw,
)
from protocol.testing import NOT_AFTER, NOT_BEFORE, NOW, make_node, seed

NOTICE = Notification(
    "birth", "张秀英", "440105199503030026", "越秀区北京街道某社区 3 号 502", "440104001002",
    "海珠区某镇某村 12 号", "440105001001", "2026-03-02", "第 2 孩，男",
)  # fmt: skip
ANSWERED = Answer("not_found", "2026-03-04", "2026-03-09", "户籍卡、户籍派出所登记均无此人", "")


def exchange_vectors() -> dict[str, Any]:
    suite = Suite.CLASSIC
    a, b, stranger = (make_node(code, suite=suite) for code in ("440104", "440105", "440106"))
    cross = issue_certificate(
        b.signing, b.node, serial=9, node=a.node, verify_key=a.signing.verify_key,
        kem_key=a.kem.public_key, not_before=NOT_BEFORE, not_after=NOT_AFTER,
    )  # fmt: skip
    nid = new_notification_id(seed("exchange notification", 32))
    to_b = ExchangeHeader(NOTIFICATION, nid, a.node, b.node, b.kem.public_key.key_id, NOW)
    to_a = ExchangeHeader(ANSWER, nid, b.node, a.node, a.kem.public_key.key_id, NOW + 1)
    key = seed("exchange content key", 32)
    good = seal_exchange(to_b, NOTICE, a.signing, a.cert.raw, b.kem.public_key, key)
    flipped = bytearray(good)
    flipped[-80] ^= 1  # inside the ciphertext
    stranger_header = ExchangeHeader(
        NOTIFICATION, nid, stranger.node, b.node, b.kem.public_key.key_id, NOW
    )
    other_key = ExchangeHeader(NOTIFICATION, nid, a.node, b.node, a.kem.public_key.key_id, NOW)
    bare = dict(ANSWERED.body(), cross_check="")
    notifications = [
        ("from 440104, sealed for 440105", good, "ok"),
        ("a ciphertext byte flipped", bytes(flipped), "bad_signature"),
        ("signed by a county 440105 never cross-certified",
         seal_exchange(stranger_header, NOTICE, stranger.signing, stranger.cert.raw,
                       b.kem.public_key), "bad_certificate"),
        ("in 440104's name, signed by another key",
         seal_exchange(to_b, NOTICE, stranger.signing, a.cert.raw, b.kem.public_key),
         "bad_signature"),
        ("sealed for another key", seal_exchange(other_key, NOTICE, a.signing, a.cert.raw,
                                                 a.kem.public_key), "no_recipient"),
        ("an ID number of 17 characters",
         seal_raw(canonical.encode(to_b.body()),
                  canonical.encode(dict(NOTICE.body(), id_number="44010519950303002")),
                  a.signing, a.cert.raw, b.kem.public_key), "malformed"),
        ("version 2 of the magic", b"RKX2" + good[4:], "unsupported"),
        ("trailing byte", good + b"\x00", "malformed"),
        ("over 131,072 bytes", good + bytes(131_072), "too_large"),
    ]  # fmt: skip
    answer = seal_exchange(to_a, ANSWERED, b.signing, b.cert.raw, a.kem.public_key, key)
    answers = [
        ("not found, after a cross-check", answer, "ok"),
        ("not found, with no cross-check",
         seal_raw(canonical.encode(to_a.body()), canonical.encode(bare), b.signing,
                  b.cert.raw, a.kem.public_key), "malformed"),
    ]  # fmt: skip
    return {
        "a_root": a.cert.raw.hex(),
        "b_root": b.cert.raw.hex(),
        "b_cross_certificate_of_a": cross.hex(),
        "a_kem_seed": a.kem.seed.hex(),
        "b_kem_seed": b.kem.seed.hex(),
        "now": NOW,
        "notification_header": canonical.encode(to_b.body()).hex(),
        "notification_body": canonical.encode(NOTICE.body()).hex(),
        "answer_header": canonical.encode(to_a.body()).hex(),
        "answer_body": canonical.encode(ANSWERED.body()).hex(),
        "notifications": [{"name": n, "message": m.hex(), "expect": e}
                          for n, m, e in notifications],
        "answers": [{"name": n, "message": m.hex(), "expect": e} for n, m, e in answers],
    }  # fmt: skip
