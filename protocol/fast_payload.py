# SPDX-License-Identifier: Apache-2.0
"""A fast path in front of :func:`protocol.ops.decode_payload` for the common payload.

The county checks every entry's payload strictly when an envelope arrives (SPEC.md §6.7
step 7) and decodes it again when it merges, a million of them on a rebuild; the strict
decoder spends most of its time walking every value in Python. Nearly every payload is
the same shape (upserts and retires of scalar fields), so :func:`fast_ops` accepts a
payload only when it can see that the strict decoder would accept it and return the same
ops: a C JSON parser, the canonical re-encoding compared byte for byte with what was
received, one NFC check over the whole text (a string inside is NFC whenever the whole
text is; the converse can fail only at an escape, and then the fast path declines), and
the op grammar of ``protocol.ops``. Anything else (a note, a sealed field, a float, a bad
byte) raises :class:`Decline`, and the strict decoder decides and raises the protocol's
own errors. So what is rejected, and why, is exactly what the SPEC says; property tests
(tests/protocol/test_fast_payload.py) hold the two paths equal under both parsers.

The parser is orjson when it is installed (a dependency: about four times faster than
the standard library's scanner and encoder together on these payloads) and the standard
library's C scanner otherwise (PyPy, or a platform without an orjson wheel). Both spell
the profile's types identically: sorted ASCII keys, no spaces, UTF-8 as is, the same
escapes; the property tests compare them on arbitrary strings.

Ops come back as plain tuples, cheaper than the dataclasses on a hot path:
``("u", kind, id, {field: [value, base]}, fields_text)`` (``fields_text`` is the canonical
JSON of the fields object, sliced from the payload when it holds one op) and
``("r", kind, id, reason, base)``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import Any

from protocol.canonical import MAX_SAFE_INT, canonical_text
from protocol.entries import MAX_PAYLOAD
from protocol.errors import ProtocolError
from protocol.ops import (
    _FIELD,
    _KIND,
    _RECORD_ID,
    MAX_FIELDS,
    MAX_OPS,
    check_base,
    decode_payload,
)

try:  # pragma: no branch - which one depends on the platform
    import orjson
except ImportError:  # pragma: no cover - exercised by forcing the stdlib parser in tests
    orjson = None  # type: ignore[assignment]  # None means: use the stdlib parser

OpTuple = tuple[Any, ...]
Parser = Callable[[bytes], tuple[Any, str]]


class Decline(Exception):
    """The fast path cannot vouch for this payload; the strict decoder decides."""


def _no_float(text: str) -> Any:
    raise Decline


# The C scanner behind a JSONDecoder, called directly: ``JSONDecoder.decode`` adds two
# regex whitespace skips and a Python frame per payload, a fifth of the parse. A
# canonical payload has no whitespace to skip, and one that has some fails the
# canonical comparison either way.
_scan = json.scanner.c_make_scanner(  # type: ignore[attr-defined]  # C part, not in stubs
    json.JSONDecoder(parse_float=_no_float, parse_constant=_no_float)
)


def parse_stdlib(payload: bytes) -> tuple[Any, str]:
    """Parse with the standard library; decline unless the text is its canonical spelling."""
    text = payload.decode("utf-8")
    obj, end = _scan(text, 0)  # StopIteration when nothing parses at 0: callers decline
    if end != len(text) or canonical_text(obj) != text:
        raise Decline
    return obj, text


def parse_orjson(payload: bytes) -> tuple[Any, str]:
    """Parse with orjson; decline unless the bytes are its canonical spelling."""
    obj = orjson.loads(payload)
    if orjson.dumps(obj, option=orjson.OPT_SORT_KEYS) != payload:
        raise Decline
    return obj, payload.decode("utf-8")


parse: Parser = parse_orjson if orjson is not None else parse_stdlib
"""The parser :func:`fast_ops` uses; tests set it to each in turn."""

_UPSERT_KEYS = frozenset({"op", "kind", "id", "fields"})
_RETIRE_KEYS = frozenset({"op", "kind", "id", "reason", "base"})
_PREFIX = '{"ops":[{"fields":'
_good_kinds: set[str] = set()
_good_fields: set[str] = set()
DECLINED = (Decline, ValueError, RecursionError, KeyError, TypeError, StopIteration)
"""What the fast path may raise on bytes it cannot vouch for (orjson's and json's
decode errors are ValueErrors); every one of them means "ask the strict decoder"."""


def check_payload(data: bytes) -> None:
    """Raise exactly what :func:`protocol.ops.decode_payload` raises for ``data``, if
    anything, at the fast path's speed for the common shape.

    Raises:
        TooLargeError, MalformedError, UnsupportedError: as ``decode_payload``.
    """
    try:
        fast_ops(data)
    except DECLINED:
        decode_payload(data)


def fast_ops(payload: bytes) -> list[OpTuple]:
    """The ops of ``payload`` as tuples, when the fast path can vouch for them.

    Raises:
        Decline: or another of ``DECLINED``: the strict decoder must decide.
    """
    if len(payload) > MAX_PAYLOAD:
        raise Decline
    obj, text = parse(payload)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        raise Decline
    if type(obj) is not dict or len(obj) != 2 or obj.get("v") != 1 or type(obj["v"]) is not int:
        raise Decline
    ops = obj["ops"]
    if type(ops) is not list or not 1 <= len(ops) <= MAX_OPS:
        raise Decline
    if len(ops) == 1:
        op = ops[0]
        if type(op) is dict and op.get("op") == "upsert" and op.keys() == _UPSERT_KEYS:
            # Nearly every payload: one upsert, whose fields object is a slice of the
            # canonical text (keys sort as fields < id < kind < op): no re-encoding.
            kind, rid = _kind(op["kind"]), _rid(op["id"])
            fields = _fields(op["fields"])
            suffix = f',"id":"{rid}","kind":"{kind}","op":"upsert"}}],"v":1}}'
            if text.startswith(_PREFIX) and text.endswith(suffix):
                return [("u", kind, rid, fields, text[len(_PREFIX) : -len(suffix)])]
            return [("u", kind, rid, fields, canonical_text(fields))]
    out = [_fast_op(op) for op in ops]
    return [(*op[:4], canonical_text(op[3])) if op[0] == "u" else op for op in out]


def _fast_op(op: Any) -> OpTuple:
    if type(op) is not dict:
        raise Decline
    name = op.get("op")
    if name == "upsert" and op.keys() == _UPSERT_KEYS:
        return ("u", _kind(op["kind"]), _rid(op["id"]), _fields(op["fields"]))
    if name == "retire" and op.keys() == _RETIRE_KEYS:
        reason = op["reason"]
        if type(reason) is not str or not 1 <= len(reason) <= 64:
            raise Decline
        return ("r", _kind(op["kind"]), _rid(op["id"]), reason, _base(op["base"]))
    raise Decline


def _kind(value: Any) -> str:
    if value in _good_kinds:
        return value  # type: ignore[no-any-return]  # a member of _good_kinds is a str
    if type(value) is not str or not _KIND.match(value):
        raise Decline
    if len(_good_kinds) < 4096:
        _good_kinds.add(value)
    return value


def _rid(value: Any) -> str:
    if type(value) is not str or not _RECORD_ID.match(value):
        raise Decline
    return value


def _fields(value: Any) -> dict[str, Any]:
    """Check the fields in place and hand back the parsed dict (pairs stay 2-lists)."""
    if type(value) is not dict or not 1 <= len(value) <= MAX_FIELDS:
        raise Decline
    good = _good_fields
    for name, pair in value.items():
        if name not in good:
            if not _FIELD.match(name):
                raise Decline
            if len(good) < 4096:
                good.add(name)
        if type(pair) is not list or len(pair) != 2:
            raise Decline
        v, b = pair
        t = type(v)
        if t is str or v is None:
            pass
        elif t is int:
            if not -MAX_SAFE_INT <= v <= MAX_SAFE_INT:
                raise Decline
        elif t is not bool:
            raise Decline
        if type(b) is not int or not 0 <= b <= MAX_SAFE_INT:
            _base(b)
    return value


def _base(value: Any) -> Any:
    if type(value) is int and 0 <= value <= MAX_SAFE_INT:
        return value
    if type(value) is str:
        try:
            return check_base(value)
        except ProtocolError:
            raise Decline from None
    raise Decline
