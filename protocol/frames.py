# SPDX-License-Identifier: Apache-2.0
"""Frames, format 2: a batch's entries laid out in columns, as they travel in the seal.

Entry headers are never sent (the reader rebuilds them, SPEC.md §5.3), and the payload
hash in each header is over the exact canonical payload bytes. So the wire form of the
payloads may be any reversible transform: the reader rebuilds every payload byte for
byte, hashes it, and the rebuilt chain must end in the origin-signed head hash, so a
transform that rebuilt anything else would be caught exactly like a substituted payload.
This one puts like next to like before compression:

* the per-entry fields (clock delta, ruleset, flags, a *code* saying how the payload
  travels) are columns of byte planes (all first bytes, then all second bytes, …), so a
  constant column deflates to almost nothing;
* a payload that is a list of upserts is split into its *shape* (op kinds and field
  names, sent once per batch) and its *tokens* (value and base texts, record ids);
  tokens are sent by column: all values of one field of one kind together, all bases of
  it together, all record ids of one kind together;
* anything else travels verbatim, and an erased payload as its length and hash. A sender
  sends verbatim every payload the transform does not rebuild exactly, so correctness
  never depends on what the payloads look like.

Layout (``n`` entries, big-endian; SPEC.md §5.3 is normative)::

    hlc_delta planes [8n] | ruleset planes [2n] | flags [n] | code planes [2n]
    | n_shapes u16 | shape × n_shapes | raw_len planes [4 × n_raw]
    | (payload_len u32 | payload_hash [32]) × n_erased | raw payloads | tokens

    shape = n_ops u16 | (kind_len u8 | kind | n_fields u8 | (name_len u8 | name) × n_fields) × n_ops

Code 0 is a verbatim payload, 1 an erased one, ``2 + s`` a payload of shape ``s``. The
tokens are joined by a line feed, which canonical JSON never contains unescaped.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from protocol.binary import Reader
from protocol.canonical import canonical_text
from protocol.entries import MAX_PAYLOAD, Entry
from protocol.errors import MalformedError, TooLargeError

CODE_RAW = 0
CODE_ERASED = 1
CODE_SHAPE = 2
MAX_SHAPES = 0xFFFF - CODE_SHAPE
MAX_FRAMES = 32 * 1024 * 1024
"""Bound on the inflated frames, and separately on the payload bytes they rebuild."""
MAX_TOKENS = 1 << 18
"""Bound on the tokens of one batch, so on what splitting and placing them allocates (a
few hundred bytes each at worst). A batch of the reference node (at most 1 MiB of
payloads) stays below it; a sender that would pass it sends the remaining payloads
verbatim."""
MAX_SHAPE_OPS = 512
MAX_SHAPE_FIELDS = 128
SEPARATOR = b"\n"
BLOCK_BYTES = 1024
"""The sender ends a deflate block after a column once this much is pending, so each
column gets Huffman codes of its own (about 8 % smaller at no cost to the reader)."""

_KIND = re.compile(rb"[a-z][a-z0-9_]{0,31}\Z")
_NAME = re.compile(rb"[a-z][a-z0-9_]{0,47}\Z")
_PREFIX = b'{"ops":[{"fields":{'
_ID = b'},"id":"'
_KIND_SEP = b'","kind":"'
_TAIL = b'","op":"upsert"}],"v":1}'
_FIELD = re.compile(
    rb'"([a-z][a-z0-9_]*)":\[("[^"\\]*(?:\\.[^"\\]*)*"|[^"\[\]{},]*),([^"\[\]{},]*|"[^"\\]*")\]'
    rb'(?=,"|$)',
    re.S,
)
"""name, value, base of one field whose value is a string or a scalar. No part can
match in more than one way, so a hostile payload costs linear time, not quadratic."""
_ERASED = struct.Struct(">I32s")
_U16 = struct.Struct(">H")
_encode_str: Callable[[str], str] = json.encoder.encode_basestring

Shape = tuple[tuple[bytes, tuple[bytes, ...]], ...]
"""(kind, field names) of each upsert of a payload, in order."""


def template(shape: Shape) -> bytes:
    """The canonical payload of ``shape`` with a ``%b`` slot for each token.

    Slots in order, per op: value and base of each field in shape order (ascending in a
    canonical payload, which sorts keys), then the record id. Kinds and names match
    ``[a-z][a-z0-9_]*`` (both sides check), so the template holds no ``%`` but its slots.
    """
    ops = []
    for kind, names in shape:
        fields = b",".join(b'"' + name + b'":[%b,%b]' for name in names)
        ops.append(b'{"fields":{' + fields + _ID + b"%b" + _KIND_SEP + kind + b'","op":"upsert"}')
    return b'{"ops":[' + b",".join(ops) + b'],"v":1}'


def slot_columns(shape: Shape) -> list[tuple[bytes, bytes, int]]:
    """The column of each slot of ``shape``: (kind, name, 0) for a value, (kind, name, 1)
    for a base, (kind, b"", 2) for a record id."""
    out = []
    for kind, names in shape:
        for name in names:
            out += [(kind, name, 0), (kind, name, 1)]
        out.append((kind, b"", 2))
    return out


def _valid(shape: Shape) -> bool:
    if not 1 <= len(shape) <= MAX_SHAPE_OPS:
        return False
    for kind, names in shape:
        if not _KIND.match(kind) or not 1 <= len(names) <= MAX_SHAPE_FIELDS:
            return False
        if not all(_NAME.match(name) for name in names):
            return False
    return True


def split_fast(payload: bytes) -> tuple[Shape, tuple[bytes, ...]] | None:
    """Shape and tokens of a one-upsert payload of flat values, by a regular expression.

    A guess, several times faster than the JSON parser: nested values are missed and
    other oddities may cut wrongly. The caller rebuilds the payload from the result and
    compares, so a wrong guess costs time, never correctness.
    """
    if not payload.endswith(_TAIL):
        return None
    at = payload.rfind(_ID)
    rid, sep, kind = payload[at + len(_ID) : -len(_TAIL)].partition(_KIND_SEP)
    if at < len(_PREFIX) or not sep:
        return None
    fields = _FIELD.findall(payload, len(_PREFIX), at)
    if not fields:
        return None
    names, values, bases = zip(*fields, strict=True)
    tokens = [rid] * (2 * len(fields) + 1)
    tokens[0:-1:2] = values
    tokens[1:-1:2] = bases
    return ((kind, names),), tuple(tokens)


def split_parsed(payload: bytes) -> tuple[Shape, tuple[bytes, ...]] | None:
    """Shape and tokens of any all-upsert payload, through the JSON parser (slower)."""
    try:
        obj = json.loads(payload)
        shape = []
        tokens: list[bytes] = []
        for op in obj["ops"]:
            if type(op) is not dict or len(op) != 4 or op.get("op") != "upsert":
                return None
            kind, rid, fields = op["kind"], op["id"], op["fields"]
            if type(kind) is not str or type(rid) is not str or type(fields) is not dict:
                return None
            for pair in fields.values():
                if type(pair) is not list or len(pair) != 2:
                    return None
                tokens += (_token(pair[0]), _token(pair[1]))
            tokens.append(rid.encode())
            shape.append((kind.encode(), tuple(name.encode() for name in fields)))
    except (ValueError, RecursionError, KeyError, TypeError):
        return None
    return tuple(shape), tuple(tokens)


def _token(value: Any) -> bytes:
    """The canonical JSON text of ``value`` (checked by the caller's rebuild)."""
    kind = type(value)
    if kind is str:
        return _encode_str(value).encode()
    if kind is int:
        return str(value).encode()
    return canonical_text(value).encode()


class _Shapes:
    """The sender's shape table: which payloads go by shape, and their token rows.

    A shape gets its index when the first payload goes by it, so every shape in the
    table is used (the reader requires it).
    """

    def __init__(self) -> None:
        self.index: dict[Shape, int] = {}
        self.templates: dict[Shape, bytes | None] = {}
        """Template of each shape seen; None for one that may not go by shape."""
        self.rows: list[list[tuple[bytes, ...]]] = []
        self.budget = MAX_TOKENS

    def code(self, payload: bytes) -> int:
        """The payload's code, its tokens recorded if it goes by shape."""
        if not payload.startswith(_PREFIX) or SEPARATOR in payload:
            return CODE_RAW
        for split in (split_fast, split_parsed):
            result = split(payload)
            if result is None:
                continue
            shape, tokens = result
            if shape in self.templates:
                tmpl = self.templates[shape]
            else:
                tmpl = self.templates[shape] = template(shape) if _valid(shape) else None
            if tmpl is None or len(tokens) > self.budget or tmpl % tokens != payload:
                continue
            index = self.index.get(shape)
            if index is None:
                if len(self.index) >= MAX_SHAPES:
                    return CODE_RAW
                index = self.index[shape] = len(self.rows)
                self.rows.append([])
            self.rows[index].append(tokens)
            self.budget -= len(tokens)
            return CODE_SHAPE + index
        return CODE_RAW

    def columns(self) -> list[bytes]:
        """Every column's tokens, joined, in the order SPEC.md §5.3 gives."""
        blocks: dict[tuple[bytes, bytes, int], list[bytes]] = {}
        for shape, rows in zip(self.index, self.rows, strict=True):
            for key, column in zip(slot_columns(shape), zip(*rows, strict=True), strict=True):
                blocks.setdefault(key, []).append(SEPARATOR.join(column))
        return [SEPARATOR.join(parts) for parts in blocks.values()]


def _planes(values: Sequence[int], fmt: str, width: int) -> bytes:
    packed = struct.pack(f">{len(values)}{fmt}", *values)
    return b"".join(packed[k::width] for k in range(width))


def _unplanes(data: bytes, count: int, fmt: str, width: int) -> tuple[int, ...]:
    joined = bytearray(count * width)
    for k in range(width):
        joined[k::width] = data[k * count : (k + 1) * count]
    return struct.unpack(f">{count}{fmt}", joined)


def frame_pieces(entries: Sequence[Entry]) -> list[bytes]:
    """The frames of ``entries`` (format 2) as consecutive pieces, columns last.

    ``b"".join`` of the pieces is the frames; :func:`deflate` uses the boundaries.

    Raises:
        ValueError: clocks that do not strictly increase from above 0.
    """
    deltas: list[int] = []
    codes: list[int] = []
    shapes = _Shapes()
    raw: list[bytes] = []
    erased = bytearray()
    prev = 0
    for e in entries:
        if e.hlc <= prev:
            raise ValueError("entry clocks must strictly increase along a log")
        deltas.append(e.hlc - prev)
        prev = e.hlc
        payload = e.payload
        if payload is None:
            codes.append(CODE_ERASED)
            erased += _ERASED.pack(e.payload_len, e.payload_hash)
            continue
        code = shapes.code(payload)
        codes.append(code)
        if code == CODE_RAW:
            raw.append(payload)
    head = [
        _planes(deltas, "Q", 8),
        _planes([e.ruleset for e in entries], "H", 2),
        bytes(e.flags for e in entries),
        _planes(codes, "H", 2),
        _U16.pack(len(shapes.index)),
        b"".join(_shape_bytes(shape) for shape in shapes.index),
        _planes([len(p) for p in raw], "I", 4),
        bytes(erased),
        *raw,
    ]
    columns = shapes.columns()
    return head + [c + SEPARATOR for c in columns[:-1]] + columns[-1:]


def encode_frames(entries: Sequence[Entry]) -> bytes:
    """The frames of ``entries`` (format 2), uncompressed."""
    return b"".join(frame_pieces(entries))


def deflate(pieces: Sequence[bytes], level: int) -> bytes:
    """One zlib stream of the pieces, a deflate block ending after a piece when at least
    BLOCK_BYTES are pending. The reader sees an ordinary stream; only size changes."""
    z = zlib.compressobj(level)
    out = []
    pending = 0
    for piece in pieces:
        out.append(z.compress(piece))
        pending += len(piece)
        if pending >= BLOCK_BYTES:
            out.append(z.flush(zlib.Z_BLOCK))
            pending = 0
    out.append(z.flush())
    return b"".join(out)


def _shape_bytes(shape: Shape) -> bytes:
    out = bytearray(_U16.pack(len(shape)))
    for kind, names in shape:
        out += bytes([len(kind)]) + kind + bytes([len(names)])
        for name in names:
            out += bytes([len(name)]) + name
    return bytes(out)


@dataclass(frozen=True, slots=True)
class Frames:
    """Decoded frames: the columns :func:`protocol.batches.rebuild_entries` chains."""

    deltas: tuple[int, ...]
    rulesets: tuple[int, ...]
    flags: bytes
    payloads: list[bytes | None]
    """Each entry's payload bytes, None for an erased one."""
    erased: list[tuple[int, bytes]]
    """(payload_len, payload_hash) of each erased entry, in entry order."""


def decode_frames(data: bytes, count: int) -> Frames:
    """Parse format-2 frames of ``count`` entries and rebuild every payload's bytes.

    Applies the structural checks of SPEC.md §5.3 in order, each size before anything
    is allocated for it. Checks nothing about flags, clocks or the chain: the caller
    does, on what this returns.

    Raises:
        MalformedError: short or trailing input, a code naming no shape, a bad or unused
            shape, a token count that does not match the shapes.
        TooLargeError: a payload over 64 KiB, over MAX_TOKENS tokens, or rebuilt payloads
            over MAX_FRAMES bytes in all.
    """
    if len(data) > MAX_FRAMES:
        raise TooLargeError(f"frames of {len(data)} bytes exceed {MAX_FRAMES}")
    fixed = 13 * count
    if len(data) < fixed + 2:
        raise MalformedError(f"frames hold fewer than the {count} entries the header names")
    deltas = _unplanes(data[: 8 * count], count, "Q", 8)
    rulesets = _unplanes(data[8 * count : 10 * count], count, "H", 2)
    flags = data[10 * count : 11 * count]
    codes = _unplanes(data[11 * count : fixed], count, "H", 2)
    r = Reader(data[fixed:], "frames")
    n_shapes = r.u16()
    if max(codes, default=0) >= CODE_SHAPE + n_shapes:
        raise MalformedError(f"frames: code {max(codes)} names no shape")
    uses = Counter(codes)
    shapes, templates, total, literal = _read_shapes(
        r, [uses[CODE_SHAPE + s] for s in range(n_shapes)]
    )
    n_raw, n_erased = uses[CODE_RAW], uses[CODE_ERASED]
    raw_lens = _unplanes(r.take(4 * n_raw), n_raw, "I", 4) if n_raw else ()
    if raw_lens and max(raw_lens) > MAX_PAYLOAD:
        raise TooLargeError(f"frames: payload of {max(raw_lens)} bytes exceeds {MAX_PAYLOAD}")
    erased = [_ERASED.unpack(r.take(_ERASED.size)) for _ in range(n_erased)]
    if any(length > MAX_PAYLOAD for length, _ in erased):
        raise TooLargeError(f"frames: an erased payload length exceeds {MAX_PAYLOAD}")
    raw_bytes = r.take(sum(raw_lens))
    section = r.take(r.remaining)
    if len(raw_bytes) + literal + len(section) - max(total - 1, 0) > MAX_FRAMES:
        raise TooLargeError(f"frames rebuild to more than {MAX_FRAMES} payload bytes")
    if total == 0:
        if section:
            raise MalformedError("frames: tokens but no payload of a shape")
        tokens: list[bytes] = []
    elif section.count(SEPARATOR) != total - 1:
        raise MalformedError(f"frames: the token count does not match the shapes ({total})")
    else:
        tokens = section.split(SEPARATOR)
    nexts: list[Callable[[], bytes | None]] = [_cut(raw_bytes, raw_lens).__next__, _none]
    starts = _column_starts(shapes, uses)
    for s, tmpl in enumerate(templates):
        m = uses[CODE_SHAPE + s]
        filled = [tmpl % row for row in zip(*(tokens[a : a + m] for a in starts[s]), strict=True)]
        if max(map(len, filled)) > MAX_PAYLOAD:
            raise TooLargeError(f"frames: a payload rebuilds to over {MAX_PAYLOAD} bytes")
        nexts.append(iter(filled).__next__)
    payloads = [nexts[c]() for c in codes]
    return Frames(deltas, rulesets, flags, payloads, erased)


def _none() -> None:
    return None


def _cut(data: bytes, lengths: Sequence[int]) -> Iterator[bytes]:
    pos = 0
    for length in lengths:
        yield data[pos : pos + length]
        pos += length


def _column_starts(shapes: list[Shape], uses: Counter[int]) -> list[list[int]]:
    """Where each (shape, slot) block of tokens starts: columns in order of first
    appearance, and within a column the blocks in (shape, slot) order."""
    columns: dict[tuple[bytes, bytes, int], list[tuple[int, int]]] = {}
    for s, shape in enumerate(shapes):
        for j, key in enumerate(slot_columns(shape)):
            columns.setdefault(key, []).append((s, j))
    starts = [[0] * len(slot_columns(shape)) for shape in shapes]
    pos = 0
    for blocks in columns.values():
        for s, j in blocks:
            starts[s][j] = pos
            pos += uses[CODE_SHAPE + s]
    return starts


def _read_shapes(r: Reader, uses: list[int]) -> tuple[list[Shape], list[bytes], int, int]:
    """The shape table: shapes, templates, and the tokens and literal bytes they imply.

    Every shape must be used, and the totals and each shape's size are checked op by op
    before a template is built, so the work here is bounded by MAX_TOKENS and MAX_FRAMES.
    """
    shapes: list[Shape] = []
    templates: list[bytes] = []
    tokens = literal = 0
    for used in uses:
        if not used:
            raise MalformedError("frames: a shape that no entry uses")
        n_ops = r.u16()
        if not 1 <= n_ops <= MAX_SHAPE_OPS:
            raise MalformedError(f"frames: a shape of {n_ops} ops, expected 1..{MAX_SHAPE_OPS}")
        shape = []
        size = 15 + n_ops  # the template's bytes outside its slots, op by op
        literal += used * size
        for _ in range(n_ops):
            kind = r.take(r.u8())
            n_fields = r.u8()
            if not _KIND.match(kind) or not 1 <= n_fields <= MAX_SHAPE_FIELDS:
                raise MalformedError("frames: a shape op has a bad kind or field count")
            names = tuple(r.take(r.u8()) for _ in range(n_fields))
            if not all(_NAME.match(name) for name in names):
                raise MalformedError("frames: a shape has a bad field name")
            tokens += used * (2 * n_fields + 1)
            if tokens > MAX_TOKENS:
                raise TooLargeError(f"frames: more than {MAX_TOKENS} tokens")
            op_size = op_literal(kind, names)
            size += op_size
            literal += used * op_size
            if size > MAX_PAYLOAD:
                raise TooLargeError(f"frames: a shape rebuilds to over {MAX_PAYLOAD} bytes")
            if literal > MAX_FRAMES:
                raise TooLargeError(f"frames rebuild to more than {MAX_FRAMES} payload bytes")
            shape.append((kind, names))
        shapes.append(tuple(shape))
        templates.append(template(tuple(shape)))
    return shapes, templates, tokens, literal


def op_literal(kind: bytes, names: tuple[bytes, ...]) -> int:
    """Bytes an upsert op adds to a template besides its slots (see :func:`template`)."""
    return 44 + len(kind) + sum(len(name) + 7 for name in names)
