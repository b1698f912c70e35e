# SPDX-License-Identifier: Apache-2.0
"""Division codes, node ids and log ids (protocol/ids.py)."""

from __future__ import annotations

import pytest

from protocol.binary import Reader
from protocol.errors import MalformedError, ProtocolError
from protocol.ids import LogId, NodeId, Role, check_division_code, parent_code
from protocol.ops import check_base


@pytest.mark.parametrize(
    "code",
    [
        "440104",
        "440104001",
        "440104001002",
        "110101",
        "820101",
        "440104999",
        "440104001999",
        "441900",
        "441900003",
        "441900003001",
    ],
)
def test_good_division_codes(code: str) -> None:
    """Structurally valid: 6, 9 or 12 ASCII digits, no 000 township or village segment."""
    check_division_code(code)
    assert code == NodeId.for_code(code).code


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("", id="empty"),
        pytest.param("44010", id="5-digits"),
        pytest.param("4401040", id="7-digits"),
        pytest.param("44010400100", id="11-digits"),
        pytest.param("4401040010021", id="13-digits"),
        pytest.param("44010a", id="letter"),
        pytest.param(" 44010", id="space"),
        pytest.param("+44010", id="sign"),
        pytest.param("-44010", id="minus"),
        pytest.param("４４０１０４", id="full-width-digits"),
        pytest.param("44010٤", id="arabic-indic-digit"),
        pytest.param("44010²", id="superscript-digit"),
        pytest.param("000000", id="province-00"),
        pytest.param("100101", id="province-10"),
        pytest.param("830101", id="province-83"),
        pytest.param("440104000", id="township-000"),
        pytest.param("440104001000", id="village-000"),
    ],
)
def test_bad_division_codes(code: str) -> None:
    """Segments below the province must not be all zeros; codes are ASCII digits only."""
    with pytest.raises(MalformedError):
        check_division_code(code)
    with pytest.raises(MalformedError):
        NodeId.for_code(code)


@pytest.mark.parametrize(
    ("role", "code"),
    [
        (Role.COUNTY, "440104001"),
        (Role.COUNTY, "440104001002"),
        (Role.TOWNSHIP, "440104"),
        (Role.TOWNSHIP, "440104001002"),
        (Role.VILLAGE, "440104"),
        (Role.VILLAGE, "440104001"),
    ],
)
def test_role_length_mismatch(role: Role, code: str) -> None:
    """The code's length fixes the role (county 6 digits, township 9, village 12)."""
    with pytest.raises(MalformedError):
        NodeId(role, code)


@pytest.mark.parametrize(
    ("text", "role", "parent"),
    [
        ("county:440104", Role.COUNTY, None),
        ("township:440104001", Role.TOWNSHIP, "county:440104"),
        ("village:440104001002", Role.VILLAGE, "township:440104001"),
    ],
)
def test_node_id_parse_and_parent(text: str, role: Role, parent: str | None) -> None:
    """The prefixes nest: a village's parent township is the first nine digits of its code."""
    node = NodeId.parse(text)
    assert role == node.role
    assert text == str(node)
    assert parent == (None if node.parent is None else str(node.parent))
    assert "440104" == node.county_code
    assert (parent and parent.partition(":")[2]) == parent_code(node.code)


@pytest.mark.parametrize(
    "text",
    [
        "village440104001002",
        "village:440104",
        "hamlet:440104001002",
        ":440104",
        "county:",
        "",
        "village:440104001002:",
        "village: 440104001002",
        "village:４４０１０４００１００２",
    ],
)
def test_bad_node_id_text(text: str) -> None:
    """A node id looks like 'village:440104001002'."""
    with pytest.raises(MalformedError):
        NodeId.parse(text)


@pytest.mark.parametrize("code", ["440104", "440104001", "440104001002"])
def test_node_id_binary_round_trip(code: str) -> None:
    """NodeId wire form: role u8 | length u8 | code, zero-padded to 12 bytes."""
    node = NodeId.for_code(code)
    raw = node.to_bytes()
    assert NodeId.WIRE_SIZE == len(raw)
    reader = Reader(raw, "test")
    assert node == NodeId.read(reader)
    assert 0 == reader.remaining


def _wire(role: int, length: int, body: bytes) -> bytes:
    return bytes([role, length]) + body


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_wire(0, 6, b"440104000000"), id="role-0"),
        pytest.param(_wire(4, 6, b"440104000000"), id="role-4"),
        pytest.param(_wire(1, 9, b"440104001000"), id="county-with-9-digits"),
        pytest.param(_wire(3, 9, b"440104001000"), id="village-with-9-digits"),
        pytest.param(_wire(1, 6, b"440104000001"), id="padding-not-zero"),
        pytest.param(_wire(1, 6, b"440104      "), id="padding-spaces"),
        pytest.param(_wire(1, 6, b"4401\xff4000000"[:12]), id="non-ascii"),
        pytest.param(_wire(1, 6, b"44010a000000"), id="letter"),
        pytest.param(_wire(2, 9, b"440104000000"), id="zero-township"),
        pytest.param(_wire(1, 13, b"440104000000"), id="length-13"),
        pytest.param(_wire(1, 6, b"44010400000"), id="short"),
    ],
)
def test_bad_node_id_bytes(raw: bytes) -> None:
    """Node id: code length or padding is not canonical -> MalformedError."""
    with pytest.raises(MalformedError):
        NodeId.read(Reader(raw, "test"))


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("village:440104001002#1", 1),
        ("township:440104001#7", 7),
        ("county:440104#4294967295", 2**32 - 1),
    ],
)
def test_log_id_parse_and_binary_round_trip(text: str, epoch: int) -> None:
    """A log is a node and an epoch in 1..2**32-1 (``village:440104001002#1``)."""
    log = LogId.parse(text)
    assert epoch == log.epoch
    assert text == str(log)
    raw = log.to_bytes()
    assert LogId.WIRE_SIZE == len(raw)
    assert log == LogId.read(Reader(raw, "test"))


@pytest.mark.parametrize(
    "text",
    [
        "village:440104001002",
        "village:440104001002#",
        "village:440104001002#0",
        "village:440104001002#-1",
        "village:440104001002#+1",
        "village:440104001002# 1",
        "village:440104001002#4294967296",
        "village:440104001002#12345678901",
        "village:440104001002#1.0",
        "village:440104#1",
        "#1",
        "village:440104001000#1",
    ],
)
def test_bad_log_id_text(text: str) -> None:
    """Log id 'village:440104001002#1': epoch must be in 1..2**32-1."""
    with pytest.raises(MalformedError):
        LogId.parse(text)


def test_log_id_epoch_bounds() -> None:
    """epoch must be in 1..2**32-1."""
    node = NodeId.for_code("440104001002")
    for epoch in (0, 2**32, -1):
        with pytest.raises(MalformedError):
            LogId(node, epoch)


def test_superscript_epoch_is_malformed() -> None:
    """Every decoder raises only ProtocolError subclasses."""
    with pytest.raises(MalformedError):
        LogId.parse("village:440104001002#\u00b2")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("village:440104001002#\u0661", id="arabic-indic-epoch"),
        pytest.param("village:440104001002#\uff11", id="full-width-epoch"),
        pytest.param("village:440104001002#01", id="leading-zero-epoch"),
        pytest.param("VILLAGE:440104001002#1", id="upper-case-role"),
    ],
)
def test_log_id_parse_accepts_only_the_canonical_spelling(text: str) -> None:
    """There is exactly one valid spelling of every object: str(parse(text)) == text."""
    try:
        log = LogId.parse(text)
    except MalformedError:
        return
    assert text == str(log)


LOG_TEXT = "village:440104001002#1"


@pytest.mark.parametrize(
    "text",
    [
        "VILLAGE:440104001002#1", "Village:440104001002#1", "village:440104001002#01",
        "village:440104001002#\u00b2", "village:440104001002#\uff11", "village:440104001002#0",
        "village:440104001002# 1", "village:440104001002#+1", "village:44010400100\u0662#1",
    ],
)  # fmt: skip
def test_ids_accept_only_the_canonical_spelling(text: str) -> None:
    """Role labels are exact lower case; NodeId/LogId.parse round-trip; epoch
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


def test_id_parsers_raise_only_protocol_errors() -> None:
    """The id parsers raise only ProtocolError on junk."""
    for junk in ["", "#", ":", "village:#1", "village:440104001002#", "\u00b2", "a" * 100]:
        with pytest.raises(ProtocolError):
            LogId.parse(junk)
        with pytest.raises(ProtocolError):
            NodeId.parse(junk)
