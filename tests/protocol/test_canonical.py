# SPDX-License-Identifier: Apache-2.0
"""Canonical JSON (protocol/canonical.py): one spelling per object, strict decoding."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import canonical
from protocol.canonical import MAX_DEPTH, MAX_SAFE_INT
from protocol.errors import ErrorCode, MalformedError, ProtocolError, TooLargeError
from tests.protocol.strategies import json_values, mutations


@given(json_values())
@settings(max_examples=300, deadline=None)
def test_round_trip(value: object) -> None:
    """The received bytes must be byte-for-byte the canonical encoding of what they decode to."""
    data = canonical.encode(value)
    assert value == canonical.decode(data)
    assert data == canonical.encode(canonical.decode(data))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [True, None]}, b'{"a":[true,null],"b":1}'),
        ("张三", '"张三"'.encode()),
        ('tab\tquote"', b'"tab\\tquote\\""'),
        ("\x1f", b'"\\u001f"'),
        (-MAX_SAFE_INT, b"-9007199254740991"),
        ({"k": {}}, b'{"k":{}}'),
    ],
)
def test_exact_bytes(value: object, expected: bytes) -> None:
    """Object keys sorted, no spaces, UTF-8, integers only (RFC 8785 narrowed)."""
    assert expected == canonical.encode(value)
    assert value == canonical.decode(expected)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"a": 1}', id="space-after-colon"),
        pytest.param(b'{"a":1, "b":2}', id="space-after-comma"),
        pytest.param(b' {"a":1}', id="leading-space"),
        pytest.param(b'{"a":1}\n', id="trailing-newline"),
        pytest.param(b"[1,\t2]", id="tab"),
        pytest.param(b'{"b":1,"a":2}', id="key-order"),
        pytest.param(b'{"a":1,"a":1}', id="duplicate-key-same"),
        pytest.param(b'{"a":1,"a":2}', id="duplicate-key-different"),
        pytest.param(b'"\\u0041"', id="escaped-ascii"),
        pytest.param(b'"\\u5f20"', id="escaped-cjk"),
        pytest.param(b'"\\/"', id="escaped-solidus"),
        pytest.param(b'"\\u001F"', id="upper-case-hex-escape"),
        pytest.param(b'"\\ud800"', id="lone-surrogate-escape"),
        pytest.param(b"-0", id="negative-zero"),
        pytest.param('"e\u0301"'.encode(), id="non-nfc-decomposed"),
        pytest.param('{"k":"\u212b"}'.encode(), id="non-nfc-angstrom-sign"),
    ],
)
def test_non_canonical_rejected(data: bytes) -> None:
    """There is exactly one valid spelling of every object (code non_canonical)."""
    with pytest.raises(MalformedError) as info:
        canonical.decode(data)
    assert ErrorCode.NON_CANONICAL == info.value.code


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param(b"1.0", MalformedError, id="float"),
        pytest.param(b"1e3", MalformedError, id="exponent"),
        pytest.param(b"[0.5]", MalformedError, id="nested-float"),
        pytest.param(b"NaN", MalformedError, id="nan"),
        pytest.param(b"Infinity", MalformedError, id="infinity"),
        pytest.param(b"-Infinity", MalformedError, id="minus-infinity"),
        pytest.param(b"9007199254740992", MalformedError, id="2**53"),
        pytest.param(b"-9007199254740992", MalformedError, id="-2**53"),
        pytest.param(b"9" * 5000, MalformedError, id="5000-digit-int"),
        pytest.param(b'{"A":1}', MalformedError, id="upper-case-key"),
        pytest.param(b'{"":1}', MalformedError, id="empty-key"),
        pytest.param(b'{"a-b":1}', MalformedError, id="dash-in-key"),
        pytest.param('{"é":1}'.encode(), MalformedError, id="non-ascii-key"),
        pytest.param(b"", MalformedError, id="empty"),
        pytest.param(b"[1,]", MalformedError, id="trailing-comma"),
        pytest.param(b"\xff", MalformedError, id="not-utf8"),
        pytest.param(b'"\xed\xa0\x80"', MalformedError, id="utf8-encoded-surrogate"),
        pytest.param(b'"a\x00b"', MalformedError, id="raw-control-char"),
        pytest.param(b"\xef\xbb\xbf1", MalformedError, id="bom"),
        pytest.param(b"[" * 100_000, TooLargeError, id="100k-open-brackets"),
        pytest.param(b"[" * 17 + b"]" * 17, TooLargeError, id="17-deep"),
        pytest.param(b'{"a":' * 17 + b"1" + b"}" * 17, TooLargeError, id="17-deep-objects"),
    ],
)
def test_disallowed_values_rejected(data: bytes, error: type[ProtocolError]) -> None:
    """Numbers are integers of magnitude below 2**53, keys are [a-z0-9_]+, nesting is bounded."""
    with pytest.raises(error):
        canonical.decode(data)


def test_depth_limit_is_exactly_max_depth() -> None:
    """TooLargeError: nested deeper than MAX_DEPTH; MAX_DEPTH itself is fine."""
    at_limit = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert canonical.decode(at_limit) is not None


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    """_check_depth counts brackets outside strings only."""
    data = canonical.encode(["[" * 40 + '\\"{' * 40])
    assert canonical.decode(data) == ["[" * 40 + '\\"{' * 40]


def test_max_bytes_bound() -> None:
    """TooLargeError: longer than max_bytes, checked before parsing."""
    data = canonical.encode("x" * 100)
    assert canonical.decode(data, max_bytes=len(data)) == "x" * 100
    with pytest.raises(TooLargeError):
        canonical.decode(data, max_bytes=len(data) - 1)


def _nested(depth: int, *, leaf: object = None) -> list[object]:
    """``depth`` nested lists, the innermost holding ``leaf`` (or empty if None)."""
    value: list[object] = [] if leaf is None else [leaf]
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(1.5, id="float"),
        pytest.param(2**53, id="2**53"),
        pytest.param({"Key": 1}, id="upper-case-key"),
        pytest.param({1: 1}, id="int-key"),
        pytest.param("e\u0301", id="non-nfc"),
        pytest.param((1, 2), id="tuple"),
        pytest.param(b"x", id="bytes"),
        pytest.param(_nested(MAX_DEPTH + 1, leaf=1), id="17-deep-with-leaf"),
    ],
)
def test_encode_refuses_what_the_profile_forbids(value: object) -> None:
    """encode raises ValueError on a value the profile forbids (a sender's programmer error)."""
    with pytest.raises(ValueError):
        canonical.encode(value)  # type: ignore[arg-type]


def test_encode_output_always_decodes() -> None:
    """encode and decode agree on the nesting bound: whatever encode emits, decode accepts."""
    value = _nested(MAX_DEPTH + 1)
    try:
        data = canonical.encode(value)
    except ValueError:
        return
    assert value == canonical.decode(data)


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_random_bytes_raise_only_protocol_errors(data: bytes) -> None:
    """Every decoder raises only ProtocolError subclasses (errors.py)."""
    try:
        canonical.decode(data)
    except ProtocolError:
        pass


_SEED = canonical.encode({"a": [1, -2, "三", None, True], "b": {"c": "x\ny"}, "d": []})


@given(mutations(_SEED))
@settings(max_examples=300, deadline=None)
def test_mutated_canonical_bytes_raise_only_protocol_errors(data: bytes) -> None:
    """Every decoder raises only ProtocolError subclasses; what decodes is canonical."""
    try:
        value = canonical.decode(data)
    except ProtocolError:
        return
    assert data == canonical.encode(value)


def _jcs(value: object) -> str:
    """RFC 8785 serialisation, written from the RFC and independent of protocol/canonical:
    members sorted by the UTF-16 code units of their keys, ECMAScript numbers, and
    ECMAScript's JSON.stringify string escapes."""
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if type(value) is int:
        return str(value)  # ECMAScript prints these (|n| < 2**53) without an exponent
    if type(value) is str:
        short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                 "\r": "\\r", "\t": "\\t"}  # fmt: skip
        return (
            '"'
            + "".join(short.get(c, f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in value)
            + '"'
        )
    if type(value) is list:
        return "[" + ",".join(_jcs(v) for v in value) + "]"
    assert type(value) is dict
    order = sorted(value, key=lambda k: k.encode("utf-16-be"))
    return "{" + ",".join(_jcs(k) + ":" + _jcs(value[k]) for k in order) + "}"


@given(json_values() | st.text(alphabet='/\x7f\u2028\u2029\x00\x08\x1f"\\\u00e9张'))
@settings(max_examples=300, deadline=None)
def test_profile_bytes_are_jcs_bytes(value: object) -> None:
    """SPEC.md §2.6: a strict subset of JCS; every value of the profile has the bytes JCS
    gives it, so the two encodings agree wherever the profile accepts a value."""
    assert _jcs(value).encode() == canonical.encode(value)  # type: ignore[arg-type]


@given(json_values(MAX_DEPTH + 2))
@settings(max_examples=300, deadline=None)
def test_encode_and_decode_agree_on_depth(value: object) -> None:
    """encode and decode count container depth identically: whatever encode
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


def test_empty_innermost_container_counts() -> None:
    """MAX_DEPTH nested empty lists are fine, one more is refused both ways."""
    assert _nested(MAX_DEPTH) == canonical.decode(canonical.encode(_nested(MAX_DEPTH)))
    with pytest.raises(ValueError):
        canonical.encode(_nested(MAX_DEPTH + 1))
    with pytest.raises(TooLargeError):
        canonical.decode(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
