# SPDX-License-Identifier: Apache-2.0
"""The merge's fast payload decoder agrees with protocol.decode_payload on every input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from county_aggregator.decode import _as_tuple, decode_ops
from protocol import ProtocolError, decode_payload
from tests.protocol.strategies import mutations, payloads


def _plain(op: tuple[Any, ...]) -> tuple[Any, ...]:
    if op[0] == "u":
        return (*op[:3], {k: tuple(v) for k, v in op[3].items()}, op[4])
    return op


def outcome(decode: Any, data: bytes) -> Any:
    try:
        return ("ok", [_plain(op) for op in decode(data)])
    except ProtocolError as exc:
        return ("error", type(exc), str(exc))


def strict(data: bytes) -> list[tuple[Any, ...]]:
    return [_as_tuple(op) for op in decode_payload(data)]


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_valid_payloads_decode_the_same(data: bytes) -> None:
    assert outcome(strict, data) == outcome(decode_ops, data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_payloads_fail_the_same(data: st.DataObject) -> None:
    seed = data.draw(payloads)
    damaged = data.draw(mutations(seed))
    assert outcome(strict, damaged) == outcome(decode_ops, damaged)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"ops":[{"fields":{"a":[1.5,0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}',
        b'{"ops":[{"fields":{"a":["e\xcc\x81",0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}',
        b'{"ops":[{"fields":{"a":[{"b":1},0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}',
        b'{"ops":[{"fields":{"a":[1,"x/1"]},"id":"P1","kind":"person","op":"upsert"}],"v":1}',
        b'{"ops":[{"fields":{"a":[9007199254740992,0]},"id":"P1","kind":"person","op":"upsert"}],"v":1}',
        b'{"ops":[{"fields":{"a":[1,0]},"id":"P1","kind":"person","op":"upsert"}],"v":true}',
        b'{"ops":[{"fields":{"a":[1,0]},"id":"P1","kind":"person","op":"upsert"}],"v":2}',
        b'{"ops":[{"body":{"k":[1]},"op":"note","topic":"advisory"}],"v":1}',
        b'{"ops":[{"fields":{"a":[1,0]},"id":"P1","kind":"person","op":"upsert"}], "v":1}',
    ],
)
def test_edge_cases_go_to_the_strict_decoder(raw: bytes) -> None:
    assert outcome(strict, raw) == outcome(decode_ops, raw)
