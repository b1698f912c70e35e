# SPDX-License-Identifier: Apache-2.0
"""The payload fast path decides exactly as the strict decoder, with either parser.

``check_payload`` is what the county runs on every entry at receipt (SPEC.md §6.7 step
7); if it accepted one payload the strict decoder refuses, a second implementation
would disagree with us about which envelopes are valid. So every case runs with orjson
and with the standard library's parser, the one a platform without orjson uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import ProtocolError, decode_payload, fast_payload
from protocol.canonical import encode
from tests.protocol.strategies import json_values, mutations, payloads

PARSERS = {"orjson": fast_payload.parse_orjson, "stdlib": fast_payload.parse_stdlib}


each_parser = pytest.mark.parametrize("parser", sorted(PARSERS))


@contextmanager
def using(parser: str) -> Iterator[None]:
    saved = fast_payload.parse
    fast_payload.parse = PARSERS[parser]
    try:
        yield
    finally:
        fast_payload.parse = saved


def outcome(check: Any, data: bytes) -> Any:
    try:
        check(data)
    except ProtocolError as exc:
        return ("error", type(exc), exc.code, str(exc))
    return ("ok",)


def fast_vouches(data: bytes) -> bool:
    try:
        fast_payload.fast_ops(data)
    except fast_payload.DECLINED:
        return False
    return True


@each_parser
@settings(max_examples=200, deadline=None)
@given(data=payloads)
def test_valid_payloads_pass_both_ways(parser: str, data: bytes) -> None:
    with using(parser):
        assert outcome(fast_payload.check_payload, data) == ("ok",)
        assert fast_vouches(data)


@each_parser
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_damaged_payloads_fail_the_same(parser: str, data: st.DataObject) -> None:
    damaged = data.draw(mutations(data.draw(payloads)))
    expected = outcome(decode_payload, damaged)
    with using(parser):
        assert outcome(fast_payload.check_payload, damaged) == expected
        if expected[0] == "error":
            assert not fast_vouches(damaged)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_both_parsers_spell_strings_as_the_canonical_encoder(text: str) -> None:
    """The byte comparison is only as good as the encoders' agreement: the same escapes,
    the same raw UTF-8, for every string the profile allows."""
    try:
        expected = encode({"a": [text, 0]})
    except ValueError:  # not NFC, or a lone surrogate: the profile has no spelling
        return
    assert orjson.dumps({"a": [text, 0]}, option=orjson.OPT_SORT_KEYS) == expected
    assert fast_payload.canonical_text({"a": [text, 0]}).encode() == expected


@settings(max_examples=200, deadline=None)
@given(json_values(max_depth=4))
def test_both_parsers_agree_with_the_canonical_encoder_on_any_value(value: object) -> None:
    expected = encode(value)  # type: ignore[arg-type]
    assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == expected
    assert fast_payload.canonical_text(value).encode() == expected


@pytest.mark.parametrize("code", range(0x80))
def test_every_ascii_character_is_escaped_alike(code: int) -> None:
    text = chr(code)
    assert orjson.dumps([text]) == encode([text])


_OP = b'{"ops":[{"fields":{"a":[%s,0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}'


@each_parser
@pytest.mark.parametrize(
    "raw",
    [
        _OP % b"1.5",
        _OP % b"1.0",
        _OP % b"1e5",
        _OP % b"-0",
        _OP % b"18446744073709551616",
        _OP % b"-9223372036854775809",
        _OP % b"9007199254740992",
        _OP % b'"e\xcc\x81"',
        _OP % b'"\\ud800"',
        _OP % b'"\\u00e9"',
        _OP % b'"\\/"',
        _OP % b'"\xed\xa0\x80"',
        _OP % b"NaN",
        _OP % b"Infinity",
        _OP % b'{"b":1}',
        b'\xef\xbb\xbf{"ops":[{"fields":{"a":[1,0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}',
        b'{"ops":[{"fields":{"a":[1,0],"a":[2,0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}',
        b'{"ops":[{"fields":{"a":[1,"x/1"]},"id":"P1","kind":"person","op":"upsert"}],"v":1}',
        b'{"ops":[{"fields":{"a":[1,0]},"id":"P1","kind":"person","op":"upsert"}],"v":true}',
        b'{"ops":[{"fields":{"a":[1,0]},"id":"P1","kind":"person","op":"upsert"}],"v":2}',
        b'{"ops":[{"fields":{"a":[1,0]},"id":"P1","kind":"person","op":"upsert"}], "v":1}',
        b'{"ops":[{"fields":{"a":[1,0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}\n',
        b'{"ops":[{"body":{"k":[1]},"op":"note","topic":"advisory"}],"v":1}',
        b'{"ops":[{"op":"teleport"}],"v":1}',
        b"[" * 5000 + b"]" * 5000,
        b"",
    ],
)
def test_edge_cases_are_decided_by_the_strict_rules(parser: str, raw: bytes) -> None:
    expected = outcome(decode_payload, raw)
    with using(parser):
        assert outcome(fast_payload.check_payload, raw) == expected
        if expected[0] == "error":
            assert not fast_vouches(raw)


def test_the_county_uses_orjson_here() -> None:
    """orjson is a dependency; the stdlib parser is the fallback, not the default."""
    assert fast_payload.orjson is not None
    assert fast_payload.parse is fast_payload.parse_orjson
