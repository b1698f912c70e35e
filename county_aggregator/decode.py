# SPDX-License-Identifier: Apache-2.0
"""Payload decoding for the merge: protocol's strict decoder, with a fast path in front.

A county merges about a million entries on a rebuild, and ``protocol.decode_payload``
spends most of its time walking every value in Python. Nearly every payload is the same
shape (upserts and retires of scalar fields), so :func:`decode_ops` first tries a fast
path that accepts a payload only when it can see that the strict decoder would accept it
and return the same ops: the C JSON parser, the same canonical re-encoding comparison,
one NFC check over the whole text (a string inside is NFC whenever the whole text is;
the converse can fail only at an escape, and then the fast path declines), and the op
grammar of ``protocol.ops``. Anything else (a note, a sealed field, a float, a bad byte)
goes to ``protocol.decode_payload``, which decides and raises the protocol's own errors.
So what is rejected, and why, is exactly what protocol says; a property test holds the
two paths equal.

Ops come back as plain tuples, cheaper than the dataclasses on this hot path:
``("u", kind, id, {field: [value, base]}, fields_text)`` (a pair is a 2-list from the
fast path, a tuple from the strict one; ``fields_text`` is the canonical JSON of the
fields object, sliced from the payload when it holds one op), ``("r", kind, id, reason,
base)``, ``("n", topic, body)`` and ``("e",)``.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from protocol import EpochStart, Note, ProtocolError, Retire, Upsert, decode_payload
from protocol.canonical import MAX_SAFE_INT
from protocol.entries import MAX_PAYLOAD
from protocol.ops import _FIELD, _KIND, _RECORD_ID, MAX_FIELDS, MAX_OPS, check_base

OpTuple = tuple[Any, ...]


class _Decline(Exception):
    """The fast path cannot vouch for this payload; the strict decoder decides."""


def _no_float(text: str) -> Any:
    raise _Decline


def _no_default(obj: Any) -> Any:
    raise _Decline


_decoder = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_float)
# The C scanner behind ``_decoder``, called directly: ``JSONDecoder.decode`` adds two
# regex whitespace skips and a Python frame per payload, a fifth of the parse. A
# canonical payload has no whitespace to skip, and one that has some fails the
# canonical comparison either way.
_scan = json.scanner.c_make_scanner(_decoder)
_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)
# The C encoder behind ``_encoder``, built once: ``JSONEncoder.encode`` builds it on every
# call, a third of the cost of re-encoding a small payload. Same settings, same bytes.
_c_encode = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _no_default, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]
    else None
)


def canonical_text(obj: Any) -> str:
    """The canonical JSON text of ``obj`` (sorted keys, no spaces, UTF-8 as is)."""
    if _c_encode is not None:
        return "".join(_c_encode(obj, 0))
    return _encoder.encode(obj)


_UPSERT_KEYS = frozenset({"op", "kind", "id", "fields"})
_RETIRE_KEYS = frozenset({"op", "kind", "id", "reason", "base"})
_PREFIX = '{"ops":[{"fields":'
_good_kinds: set[str] = set()
_good_fields: set[str] = set()


def decode_ops(payload: bytes) -> list[OpTuple]:
    """The ops of ``payload`` as tuples.

    Raises:
        ProtocolError: whatever ``protocol.decode_payload`` raises for these bytes.
    """
    try:
        return _fast(payload)
    except _Decline:
        pass
    except (ValueError, RecursionError, KeyError, TypeError, StopIteration):
        pass
    return [_as_tuple(op) for op in decode_payload(payload)]


def _as_tuple(op: Any) -> OpTuple:
    if isinstance(op, Upsert):
        text = canonical_text({k: list(pair) for k, pair in op.fields.items()})
        return ("u", op.kind, op.id, op.fields, text)
    if isinstance(op, Retire):
        return ("r", op.kind, op.id, op.reason, op.base)
    if isinstance(op, Note):
        return ("n", op.topic, op.body)
    assert isinstance(op, EpochStart)
    return ("e",)


def _fast(payload: bytes) -> list[OpTuple]:
    if len(payload) > MAX_PAYLOAD:
        raise _Decline
    text = payload.decode("utf-8")
    obj, end = _scan(text, 0)  # StopIteration when nothing parses at 0: decode_ops declines
    if end != len(text) or canonical_text(obj) != text:
        raise _Decline
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        raise _Decline
    if type(obj) is not dict or len(obj) != 2 or obj.get("v") != 1 or type(obj["v"]) is not int:
        raise _Decline
    ops = obj["ops"]
    if type(ops) is not list or not 1 <= len(ops) <= MAX_OPS:
        raise _Decline
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
        raise _Decline
    name = op.get("op")
    if name == "upsert" and op.keys() == _UPSERT_KEYS:
        return ("u", _kind(op["kind"]), _rid(op["id"]), _fields(op["fields"]))
    if name == "retire" and op.keys() == _RETIRE_KEYS:
        reason = op["reason"]
        if type(reason) is not str or not 1 <= len(reason) <= 64:
            raise _Decline
        return ("r", _kind(op["kind"]), _rid(op["id"]), reason, _base(op["base"]))
    raise _Decline


def _kind(value: Any) -> str:
    if value in _good_kinds:
        return value  # type: ignore[no-any-return]
    if type(value) is not str or not _KIND.match(value):
        raise _Decline
    if len(_good_kinds) < 4096:
        _good_kinds.add(value)
    return value


def _rid(value: Any) -> str:
    if type(value) is not str or not _RECORD_ID.match(value):
        raise _Decline
    return value


def _fields(value: Any) -> dict[str, Any]:
    """Check the fields in place and hand back the parsed dict (pairs stay 2-lists)."""
    if type(value) is not dict or not 1 <= len(value) <= MAX_FIELDS:
        raise _Decline
    good = _good_fields
    for name, pair in value.items():
        if name not in good:
            if not _FIELD.match(name):
                raise _Decline
            if len(good) < 4096:
                good.add(name)
        if type(pair) is not list or len(pair) != 2:
            raise _Decline
        v, b = pair
        t = type(v)
        if t is str or v is None:
            pass
        elif t is int:
            if not -MAX_SAFE_INT <= v <= MAX_SAFE_INT:
                raise _Decline
        elif t is not bool:
            raise _Decline
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
            raise _Decline from None
    raise _Decline
