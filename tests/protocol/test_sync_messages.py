# SPDX-License-Identifier: Apache-2.0
"""The sync API's messages, built and parsed in protocol/ only (SPEC.md §8.6, §15).

Good/bad pairs: each bad input is a good one with one thing changed, and is refused with
a ProtocolError carrying a code (never ValueError, KeyError or TypeError).
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from protocol import (
    ErrorCode,
    Frontier,
    Head,
    LogId,
    MalformedError,
    NodeId,
    OutboxItem,
    OutcomeItem,
    OutcomeNotice,
    ProtocolError,
    RejectionNotice,
    SessionAnswer,
    SessionRequest,
    SignatureError,
    StateAnswer,
    TooLargeError,
    address,
    advisory_items,
    check_advisory,
    decode_envelope,
    decode_header_view,
    decode_outbox_page,
    decode_outcome,
    decode_rejection,
    decode_session_answer,
    decode_session_request,
    decode_state,
    encode_outbox_page,
    encode_session_answer,
    encode_session_request,
    encode_state,
    item_mark,
    parse_decimal,
    rejection_code,
    seal_advisory,
    seal_batch,
    sign_batch,
    sign_object,
    sign_outcome,
    sign_rejection,
    state_digest,
)
from protocol.envelope_view import HEADER_VIEW_OFFSET, HEADER_VIEW_SIZE
from protocol.ops import Note
from protocol.session import MAX_HANDSHAKE
from protocol.testing import (
    NOW,
    ORIGIN_EXPIRES,
    ORIGIN_SENT,
    chain_entries,
    make_node,
    person_payload,
)

LOG = LogId(NodeId.for_code("440104001002"), 1)


@pytest.fixture(scope="module")
def nodes():  # type: ignore[no-untyped-def]
    root = make_node("440104")
    return root, make_node("440104001", root), make_node("440104001002", root)


def _outcome() -> OutcomeNotice:
    items = (
        OutcomeItem(3, "rejected", "unknown_kind"),
        OutcomeItem(4, "conflict", "concurrent", "P1", "name", "c" * 24),
    )
    return OutcomeNotice("440104", LOG, 3, 9, 5, items, 0, NOW)


# -- outcome notices -------------------------------------------------------------------


def test_outcome_notice_round_trip(nodes) -> None:  # type: ignore[no-untyped-def]
    """§8.6: the county signs; the node verifies with the county's key, then parses."""
    root, _, _ = nodes
    raw = sign_outcome(_outcome(), root.signing)
    assert decode_outcome(raw, root.cert.verify_key, root.node) == _outcome()


def test_outcome_notice_keeps_its_bytes(nodes) -> None:  # type: ignore[no-untyped-def]
    """The body is what the county always sent: empty names left out, ``by`` the code."""
    body = _outcome().to_json()
    assert body["by"] == "440104"
    assert body["listed"][0] == {"seq": 3, "outcome": "rejected", "code": "unknown_kind"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"by": "440105"}, ErrorCode.MALFORMED),  # another county
        ({"by": "county:440104"}, ErrorCode.MALFORMED),  # an ack's spelling
        ({"first_seq": 10}, ErrorCode.MALFORMED),  # reversed range
        ({"applied": 8}, ErrorCode.MALFORMED),  # more applied than the range holds
        ({"listed": [{"seq": 2, "outcome": "rejected", "code": "x"}]}, ErrorCode.MALFORMED),
        ({"listed": [{"seq": 3, "outcome": "lost", "code": "x"}]}, ErrorCode.MALFORMED),
        ({"listed": [{"seq": 3, "outcome": "rejected", "code": "x", "record": ""}]}, None),
        ({"listed": [{"seq": 3, "outcome": "rejected", "code": "x" * 129}]}, None),
        ({"listed": [{"seq": 3, "outcome": "rejected", "code": "x", "value": 1}]}, None),
        ({"listed": [{"seq": 3, "outcome": "rejected", "code": "x"}] * 1001}, None),
        ({"more": -1}, None),
        ({"at": True}, None),
        ({"extra": 1}, None),
    ],
)
def test_outcome_notice_bad_bodies(nodes, change: dict[str, Any], code: Any) -> None:  # type: ignore[no-untyped-def]
    root, _, _ = nodes
    body = {**_outcome().to_json(), **change}
    raw = sign_object(body, root.signing)
    with pytest.raises(MalformedError) as info:
        decode_outcome(raw, root.cert.verify_key, root.node)
    assert info.value.code == (code or ErrorCode.MALFORMED)


def test_outcome_notice_signed_by_a_relay_is_refused(nodes) -> None:  # type: ignore[no-untyped-def]
    root, town, _ = nodes
    raw = sign_outcome(_outcome(), town.signing)
    with pytest.raises(SignatureError):
        decode_outcome(raw, root.cert.verify_key, root.node)


def test_sign_outcome_refuses_what_a_node_would_refuse(nodes) -> None:  # type: ignore[no-untyped-def]
    root, _, _ = nodes
    bad = OutcomeNotice("440104", LOG, 3, 9, 99, (), 0, NOW)
    with pytest.raises(ValueError):
        sign_outcome(bad, root.signing)


# -- rejection notices -----------------------------------------------------------------


def _rejection(town: Any) -> RejectionNotice:
    return RejectionNotice(
        NodeId.for_code("440104"), town.node, LOG, 1, 4, "fork", "batch forks our head", NOW
    )


def test_rejection_notice_round_trip(nodes) -> None:  # type: ignore[no-untyped-def]
    _, town, _ = nodes
    raw = sign_rejection(_rejection(town), town.signing)
    assert decode_rejection(raw, town.cert.verify_key, town.node) == _rejection(town)


def test_rejection_notice_relayed_by_another_node(nodes) -> None:  # type: ignore[no-untyped-def]
    """A notice naming another relay is not our parent's word, even if it signed it."""
    root, town, _ = nodes
    notice = RejectionNotice(root.node, root.node, LOG, 1, 4, "fork", "x", NOW)
    raw = sign_rejection(notice, town.signing)
    with pytest.raises(SignatureError):
        decode_rejection(raw, town.cert.verify_key, town.node)


@pytest.mark.parametrize(
    "change",
    [
        {"first_seq": 5},
        {"first_seq": 0},
        {"code": "Fork!"},
        {"code": ""},
        {"reason": "x" * 501},
        {"log": "village:440104001002"},
        {"extra": 1},
    ],
)
def test_rejection_notice_bad_bodies(nodes, change: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    _, town, _ = nodes
    raw = sign_object({**_rejection(town).to_json(), **change}, town.signing)
    with pytest.raises(MalformedError):
        decode_rejection(raw, town.cert.verify_key, town.node)


def test_rejection_code_from_a_parent_body() -> None:
    """Whatever the parent's JSON said, the notice carries a code its reader accepts."""
    assert rejection_code("bad_recipients") == "bad_recipients"
    for bad in (None, 7, "", "Fork", "x" * 65, "no space"):
        assert rejection_code(bad) == "refused"


# -- outbox pages ----------------------------------------------------------------------


def test_outbox_page_round_trip() -> None:
    items = [OutboxItem(3, b"RKS1abc"), OutboxItem(7, b"RKV3def"), OutboxItem(8, b"RKV2ghi")]
    page = encode_outbox_page(items)
    assert decode_outbox_page(page, 2) == tuple(items)
    assert decode_outbox_page(b"", 9) == ()
    assert [i.is_envelope for i in items] == [False, True, False]


@pytest.mark.parametrize(
    ("page", "after", "error"),
    [
        (struct.pack(">QI", 3, 5) + b"abc", 0, MalformedError),  # cut short
        (struct.pack(">QI", 3, 0), 0, MalformedError),  # empty item
        (struct.pack(">QI", 3, 1) + b"a", 3, MalformedError),  # not after the cursor
        (struct.pack(">QI", 3, 1) + b"a" + struct.pack(">QI", 3, 1) + b"b", 0, MalformedError),
        (struct.pack(">QI", 2**53, 1) + b"a", 0, MalformedError),
        (struct.pack(">QI", 3, 9 * 2**20), 0, TooLargeError),
        (b"".join(struct.pack(">QI", n, 1) + b"a" for n in range(1, 66)), 0, TooLargeError),
        (b"\x00\x00\x00", 0, MalformedError),
    ],
)
def test_outbox_page_bad(page: bytes, after: int, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        decode_outbox_page(page, after)


# -- state answers ---------------------------------------------------------------------


def _heads() -> Frontier:
    return Frontier({LOG: Head(4, bytes(range(32)))})


def test_state_answer_is_canonical_and_round_trips() -> None:
    answer = StateAnswer(_heads(), 7, item_mark(b"x"), 3)
    body = encode_state(answer)
    assert body.startswith(b'{"crl":3,"heads":[["village:440104001002#1",4,"')
    back = decode_state(body)
    assert (back.heads.to_json(), back.outbox, back.mark, back.crl) == (
        answer.heads.to_json(),
        7,
        answer.mark,
        3,
    )
    assert decode_state(b'{"heads":[],"outbox":0}').mark is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"heads":[],"outbox":-1}',
        b'{"heads":[],"outbox":true}',
        b'{"heads":[]}',
        b'{"heads":[],"mark":"XYZ","outbox":0}',
        b'{"crl":0,"heads":[],"outbox":0}',
        b'{"heads":[],"more":1,"outbox":0}',
        b'{"heads": [], "outbox": 0}',  # not canonical
        b'{"heads":[["x",1,"00"]],"outbox":0}',
        b"[]",
    ],
)
def test_state_answer_bad(body: bytes) -> None:
    with pytest.raises(MalformedError):
        decode_state(body)


def test_state_digest_names_every_part() -> None:
    base = state_digest(_heads(), 3, "a" * 32)
    assert len(base) == 32
    assert base != state_digest(Frontier(), 3, "a" * 32)
    assert base != state_digest(_heads(), 4, "a" * 32)
    assert base != state_digest(_heads(), 3, "b" * 32)


@pytest.mark.parametrize("text", ["", "-1", "1.0", "²", "0x1", "1" * 16, " 1"])
def test_decimal_parameters(text: str) -> None:
    with pytest.raises(MalformedError):
        parse_decimal(text, "c")
    assert parse_decimal("0", "c") == 0 and parse_decimal("9" * 15, "c") == 10**15 - 1


# -- session framing -------------------------------------------------------------------


def test_session_framing_round_trips() -> None:
    for message in (SessionRequest(b"hello"), SessionRequest(b"hello", b"cert")):
        assert decode_session_request(encode_session_request(message)) == message
    for answer in (SessionAnswer(b"welcome"), SessionAnswer(b"welcome", b"cert")):
        assert decode_session_answer(encode_session_answer(answer)) == answer


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", MalformedError),
        (b"\x00\x00\x00\x05hell", MalformedError),
        (b"\x00\x00\x00\x00", MalformedError),
        (b"\x00\x00\x00\x01h\x00\x00\x00\x00", MalformedError),
        (b"\x00\x00\x00\x01h" * 3, MalformedError),
        (b"\x00\x00\x00\x01h\x00", MalformedError),
        (b"\x00" * (MAX_HANDSHAKE + 1), TooLargeError),
    ],
)
def test_session_framing_bad(body: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        decode_session_request(body)
    with pytest.raises(error):
        decode_session_answer(body)


# -- the header view and advisories ----------------------------------------------------


def test_header_view_reads_header_and_signature(nodes) -> None:  # type: ignore[no-untyped-def]
    root, town, village = nodes
    entries = chain_entries(LOG, [person_payload(i) for i in range(3)])
    header, sig = sign_batch(
        entries,
        village.signing,
        village.cert.serial,
        sent_ms=ORIGIN_SENT,
        expires_ms=ORIGIN_EXPIRES,
    )
    sealed = seal_batch(entries, header, sig, [town.kem.public_key, root.kem.public_key])
    raw = address(sealed, village.signing, village.node, town.node, NOW, NOW + 1000)
    view = raw[HEADER_VIEW_OFFSET : HEADER_VIEW_OFFSET + HEADER_VIEW_SIZE]
    assert decode_header_view(view) == (header, sig)
    with pytest.raises(MalformedError):
        decode_header_view(view[:100])


def test_advisory_sealed_checked_and_read(nodes) -> None:  # type: ignore[no-untyped-def]
    root, town, village = nodes
    county_log = LogId(root.node, 1)
    note = Note(
        "advisory",
        {
            "conflict": "c1",
            "kind": "person",
            "key": "k",
            "field": "name",
            "value": "张三",
            "for_node": str(village.node),
            "record": "P1",
        },
    )
    from protocol import decode_payload, encode_payload, open_envelope

    entry = chain_entries(county_log, [encode_payload([note])])[0]
    raw = seal_advisory(
        entry, root.signing, root.cert.serial, root.node, village.node, village.kem.public_key, NOW
    )
    env = decode_envelope(raw)
    check_advisory(env, root.node, root.cert.verify_key)
    with pytest.raises(SignatureError):
        check_advisory(env, town.node, town.cert.verify_key)
    (opened,) = open_envelope(env, {village.kem.public_key.key_id: village.kem})
    items = advisory_items(decode_payload(opened.payload or b""), village.node)
    assert [(i.index, i.record, i.field, i.value) for i in items] == [(0, "P1", "name", "张三")]
    assert advisory_items([note], town.node) == ()
    bad = Note("advisory", {**note.body, "field": ""})
    with pytest.raises(MalformedError):
        advisory_items([bad], village.node)
