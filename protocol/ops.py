# SPDX-License-Identifier: Apache-2.0
"""Entry payloads: the ops of exactly one local transaction, in canonical JSON.

::

    {"v": 1, "ops": [
      {"op": "upsert", "kind": "person", "id": "p1", "fields": {"name": ["张三", 0]}},
      {"op": "retire", "kind": "person", "id": "p1", "reason": "retention", "base": 7},
      {"op": "epoch", "prev_epoch": 1, "prev_seq": 120, "reason": "restore"},
      {"op": "note", "topic": "advisory", "body": {...}}
    ]}

Each upserted field travels with the *base* version the writer saw, which is how the
county detects concurrent edits without guessing from clocks. A version is the entry
that wrote the field: ``0`` for "none" (a new field), a positive seq for an entry of
the same log, or ``"<log id>/<seq>"`` for an entry of another log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from protocol import canonical
from protocol.entries import MAX_PAYLOAD
from protocol.errors import MalformedError, ProtocolError, TooLargeError, UnsupportedError
from protocol.ids import MAX_EPOCH, LogId, is_decimal
from protocol.signed import check_version

MAX_OPS = 512
MAX_FIELDS = 128
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")
_RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,47}\Z")
EPOCH_REASONS = frozenset({"install", "restore", "fork"})

Base = int | str


@dataclass(frozen=True, slots=True)
class Upsert:
    kind: str
    id: str
    fields: dict[str, tuple[Any, Base]]


@dataclass(frozen=True, slots=True)
class Retire:
    kind: str
    id: str
    reason: str
    base: Base


@dataclass(frozen=True, slots=True)
class EpochStart:
    prev_epoch: int
    prev_seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class Note:
    """A structured message in a log (advisories, outcomes, schedules), by topic."""

    topic: str
    body: dict[str, Any]


Op = Upsert | Retire | EpochStart | Note


def encode_payload(ops: list[Op]) -> bytes:
    """Canonical bytes of one transaction's ops.

    The bytes are decoded again before they are returned, so this never produces a
    payload that :func:`decode_payload` would refuse (a bad kind, record id, field name,
    base or epoch reason is the sender's programming error).

    Raises:
        ValueError: no ops or too many, too large, or any op :func:`decode_payload`
            would reject.
        TypeError: an element of ``ops`` is not an op.
    """
    if not 1 <= len(ops) <= MAX_OPS:
        raise ValueError(f"a payload holds 1..{MAX_OPS} ops")
    data = canonical.encode({"v": 1, "ops": [_op_json(op) for op in ops]})
    if len(data) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(data)} bytes exceeds {MAX_PAYLOAD}; split the import")
    try:
        decode_payload(data)
    except ProtocolError as exc:
        raise ValueError(f"payload would not decode: {exc}") from None
    return data


def _op_json(op: Op) -> dict[str, Any]:
    if isinstance(op, Upsert):
        fields = {name: [value, base] for name, (value, base) in op.fields.items()}
        return {"op": "upsert", "kind": op.kind, "id": op.id, "fields": fields}
    if isinstance(op, Retire):
        return {"op": "retire", "kind": op.kind, "id": op.id, "reason": op.reason, "base": op.base}
    if isinstance(op, EpochStart):
        return {
            "op": "epoch",
            "prev_epoch": op.prev_epoch,
            "prev_seq": op.prev_seq,
            "reason": op.reason,
        }
    if isinstance(op, Note):
        return {"op": "note", "topic": op.topic, "body": op.body}
    raise TypeError(f"not an op: {type(op).__name__}")


def decode_payload(data: bytes) -> list[Op]:
    """Strictly decode a payload (canonical bytes, known op types, bounded sizes).

    Raises:
        TooLargeError, MalformedError: not a well-formed payload.
        UnsupportedError: an op type this version does not know (the entry is
            quarantined, never half-understood).
    """
    if len(data) > MAX_PAYLOAD:
        raise TooLargeError(f"payload of {len(data)} bytes exceeds {MAX_PAYLOAD}")
    obj = canonical.decode(data, max_bytes=MAX_PAYLOAD)
    if type(obj) is not dict:
        raise MalformedError("payload must be {'v': 1, 'ops': [...]}")
    check_version(obj.get("v"), "payload")
    if obj.keys() != {"v", "ops"}:
        raise MalformedError("payload must be {'v': 1, 'ops': [...]}")
    ops = obj["ops"]
    if type(ops) is not list or not 1 <= len(ops) <= MAX_OPS:
        raise MalformedError(f"payload ops must be a list of 1..{MAX_OPS}")
    return [_decode_op(op, i) for i, op in enumerate(ops)]


def _decode_op(op: Any, i: int) -> Op:
    if type(op) is not dict:
        raise MalformedError(f"op {i} is not an object")
    kind = op.get("op")
    if type(kind) is not str or not _KIND.match(kind):
        raise MalformedError(f"op {i}: 'op' must be an op type name [a-z][a-z0-9_]{{0,31}}")
    if kind == "upsert":
        _keys(op, {"op", "kind", "id", "fields"}, i)
        return Upsert(_kind(op["kind"], i), _rid(op["id"], i), _fields(op["fields"], i))
    if kind == "retire":
        _keys(op, {"op", "kind", "id", "reason", "base"}, i)
        reason = op["reason"]
        if type(reason) is not str or not 1 <= len(reason) <= 64:
            raise MalformedError(f"op {i}: retire reason must be 1..64 characters")
        return Retire(_kind(op["kind"], i), _rid(op["id"], i), reason, check_base(op["base"]))
    if kind == "epoch":
        _keys(op, {"op", "prev_epoch", "prev_seq", "reason"}, i)
        pe, ps, why = op["prev_epoch"], op["prev_seq"], op["reason"]
        if type(pe) is not int or type(ps) is not int or pe < 0 or ps < 0:
            raise MalformedError(f"op {i}: epoch numbers must be non-negative integers")
        if pe > MAX_EPOCH:
            # The previous epoch names a log (SPEC.md §3.4): no log has a higher epoch.
            raise MalformedError(f"op {i}: prev_epoch {pe} is above the epoch bound {MAX_EPOCH}")
        if why not in EPOCH_REASONS:
            raise MalformedError(f"op {i}: epoch reason must be one of {sorted(EPOCH_REASONS)}")
        return EpochStart(pe, ps, why)
    if kind == "note":
        _keys(op, {"op", "topic", "body"}, i)
        if type(op["body"]) is not dict:
            raise MalformedError(f"op {i}: note body must be an object")
        return Note(_kind(op["topic"], i), op["body"])
    raise UnsupportedError(f"op {i}: unknown op type {str(kind)[:32]!r}")


def _keys(op: dict[str, Any], expected: set[str], i: int) -> None:
    if op.keys() != expected:
        raise MalformedError(f"op {i}: fields must be exactly {sorted(expected)}")


def _kind(value: Any, i: int) -> str:
    if type(value) is not str or not _KIND.match(value):
        raise MalformedError(f"op {i}: kind {str(value)[:40]!r} is not [a-z][a-z0-9_]{{0,31}}")
    return value


def _rid(value: Any, i: int) -> str:
    if type(value) is not str or not _RECORD_ID.match(value):
        raise MalformedError(f"op {i}: record id {str(value)[:70]!r} is not valid")
    return value


def _fields(value: Any, i: int) -> dict[str, tuple[Any, Base]]:
    if type(value) is not dict or not 1 <= len(value) <= MAX_FIELDS:
        raise MalformedError(f"op {i}: fields must be an object of 1..{MAX_FIELDS} fields")
    out: dict[str, tuple[Any, Base]] = {}
    for name, pair in value.items():
        if not _FIELD.match(name):
            raise MalformedError(f"op {i}: field name {name[:50]!r} is not valid")
        if type(pair) is not list or len(pair) != 2:
            raise MalformedError(f"op {i}: field {name} must be [value, base]")
        out[name] = (pair[0], check_base(pair[1]))
    return out


def check_base(value: Any) -> Base:
    """A base version: 0, a seq of the same log, or ``"<log id>/<seq>"``.

    The string form has one spelling: a canonical LogId text (``str(LogId.parse(log))
    == log``) and 1..16 ASCII digits without a leading zero, naming a seq of at most
    2**53-1 like every seq (SPEC.md §10.3): 16 digits alone would let through seqs no
    batch header can carry.
    """
    if type(value) is int and 0 <= value <= canonical.MAX_SAFE_INT:
        return value
    if type(value) is str and "/" in value:
        log, _, seq = value.rpartition("/")
        if is_decimal(seq, 16) and int(seq) <= canonical.MAX_SAFE_INT:
            LogId.parse(log)
            return value
    raise MalformedError(f"base version {str(value)[:80]!r} is not 0, a seq or 'log/seq'")
