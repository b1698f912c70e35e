# SPDX-License-Identifier: Apache-2.0
"""Frames of format 2 (SPEC.md §5.3): every payload comes back byte for byte, whatever
it holds, and the decoder fails only with ProtocolError, quickly, within its bounds."""

from __future__ import annotations

import dataclasses
import functools
import tracemalloc
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import envelope, frames
from protocol.batches import BatchHeader, rebuild_entries, rebuild_payloads, sign_batch
from protocol.crypto import Suite
from protocol.entries import MAX_PAYLOAD, ZERO_HASH, Entry, make_entry
from protocol.envelope import address, decode_envelope, open_envelope, open_payloads, seal_batch
from protocol.errors import MalformedError, ProtocolError, TooLargeError
from protocol.frames import CODE_ERASED, CODE_RAW, CODE_SHAPE, decode_frames, encode_frames
from protocol.ids import LogId, NodeId
from protocol.ops import EpochStart, Note, Op, Retire, Upsert, encode_payload
from protocol.testing import NOW, ORIGIN_EXPIRES, ORIGIN_SENT, make_node
from protocol.testing import TestNode as Node
from tests.protocol.helpers import DAY_MS, header_of, keyring, planes, raw_frames, shape
from tests.protocol.strategies import json_values, mutations

LOG = LogId(NodeId.for_code("440104001002"), 1)
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

kinds = st.sampled_from(["person", "follow_up", "supply_handout", "k", "a" * 32])
record_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,12}", fullmatch=True)
field_names = st.sampled_from(["name", "phone", "sex", "a", "b_2", "z" * 48, "quantity"])
bases = st.integers(0, 2**53 - 1) | st.sampled_from(
    ["village:440104001003#1/2", "township:440104001#2/9007199254740991"]
)
values = json_values(max_depth=3) | st.sampled_from(
    ['],"', "a\nb", "\\", '"', "%b", "%s", "sealed:1:AAAA", "号", "\u2028", "\x00", "%"]
)
upserts = st.builds(
    Upsert, kinds, record_ids, st.dictionaries(field_names, st.tuples(values, bases), min_size=1)
)
ops: st.SearchStrategy[Op] = (
    upserts
    | st.builds(Retire, kinds, record_ids, st.sampled_from(["retention", "x"]), bases)
    | st.builds(EpochStart, st.integers(0, 9), st.integers(0, 99), st.just("restore"))
    | st.builds(Note, kinds, st.dictionaries(st.sampled_from(["a", "b"]), values, max_size=2))
)
canonical_payloads = st.lists(upserts, min_size=1, max_size=3).map(encode_payload) | st.lists(
    ops, min_size=1, max_size=3
).map(encode_payload)
SEED = encode_payload([Upsert("person", "p1", {"name": ["张三", 0], "sex": ["F", 7]})])
payloads = (
    canonical_payloads
    | st.binary(max_size=80)
    | mutations(SEED)
    | st.sampled_from([SEED + b" ", SEED.replace(b"F", b"F\n"), b'{"ops":[{"fields":{'])
)
erased_or_payload = st.none() | payloads


def entries_of(items: Sequence[bytes | None], deltas: Sequence[int] | None = None) -> list[Entry]:
    """Chained entries holding ``items`` (None: erased), clocks ``deltas`` apart."""
    out: list[Entry] = []
    prev, hlc = ZERO_HASH, 0
    for i, item in enumerate(items):
        hlc += deltas[i] if deltas else 1 + i % 3
        payload = b"x" * i if item is None else item
        entry = make_entry(Suite.CLASSIC, LOG, i + 1, prev, hlc, 1 + i % 2, payload)
        out.append(entry.erased() if item is None else entry)
        prev = entry.hash
    return out


def columns(entries: Sequence[Entry]) -> tuple[list[int], list[bytes | None]]:
    """What rebuild_payloads and open_payloads give for ``entries``."""
    return [e.hlc for e in entries], [e.payload for e in entries]


def codes_of(data: bytes, count: int) -> tuple[int, ...]:
    return frames._unplanes(data[11 * count : 13 * count], count, "H", 2)


@given(
    items=st.lists(erased_or_payload, min_size=1, max_size=12),
    deltas=st.lists(st.integers(1, 2**40), min_size=12, max_size=12),
)
@PROPERTY
def test_any_payloads_round_trip(items: list[bytes | None], deltas: list[int]) -> None:
    """Every payload, canonical or not, comes back byte for byte, and so every entry."""
    entries = entries_of(items, deltas)
    data = encode_frames(entries)
    decoded = decode_frames(data, len(entries))
    assert decoded.payloads == [e.payload for e in entries]
    assert decoded.erased == [(e.payload_len, e.payload_hash) for e in entries if e.payload is None]
    assert list(decoded.rulesets) == [e.ruleset for e in entries]
    assert rebuild_entries(header_of(entries), data) == entries
    assert rebuild_payloads(header_of(entries), data) == columns(entries)
    assert data == encode_frames(entries), "the encoding is deterministic"


@given(items=st.lists(canonical_payloads, min_size=1, max_size=8))
@PROPERTY
def test_upserts_go_by_shape(items: list[bytes]) -> None:
    """Canonical payloads of upserts only never fall back to verbatim."""
    entries = entries_of(items)
    codes = codes_of(encode_frames(entries), len(entries))
    for item, code in zip(items, codes, strict=True):
        all_upserts = b'"op":"retire"' not in item and b'"op":"epoch"' not in item
        if all_upserts and b'"op":"note"' not in item:
            assert code >= CODE_SHAPE, item


def test_what_goes_how() -> None:
    """Upserts go by shape, other ops and other bytes verbatim, erased as length+hash;
    a shape is in the table once, however many payloads use it."""
    person = encode_payload([Upsert("person", "p1", {"name": ["王", 0]})])
    person2 = encode_payload([Upsert("person", "p2", {"name": ["李", 3]})])
    note = encode_payload([Note("advisory", {"a": 1})])
    entries = entries_of([person, note, None, person2, person + b" "])
    data = encode_frames(entries)
    assert (CODE_SHAPE, CODE_RAW, CODE_ERASED, CODE_SHAPE, CODE_RAW) == codes_of(data, 5)
    assert 1 == data.count(b"\x06person\x01\x04name")
    assert data.endswith(b'"\xe7\x8e\x8b"\n"\xe6\x9d\x8e"\n0\n3\np1\np2')


def test_token_budget_sends_the_rest_verbatim(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sender that would pass MAX_TOKENS sends the remaining payloads verbatim."""
    monkeypatch.setattr(frames, "MAX_TOKENS", 7)
    items = [encode_payload([Upsert("person", f"p{i}", {"a": [i, 0]})]) for i in range(4)]
    entries = entries_of(items)
    data = encode_frames(entries)
    assert (2, 2, 0, 0) == codes_of(data, 4)
    assert [e.payload for e in entries] == decode_frames(data, 4).payloads


@functools.cache
def classic_nodes() -> tuple[Node, Node]:
    """A CLASSIC village (the origin) and township (the reader): cheap keys for many runs."""
    root = make_node("440104", suite=Suite.CLASSIC)
    return make_node("440104001002", root, Suite.CLASSIC), make_node(
        "440104001", root, Suite.CLASSIC
    )


@given(items=st.lists(erased_or_payload, min_size=1, max_size=6))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_envelope_round_trip(items: list[bytes | None]) -> None:
    """Sealed and opened, arbitrary payloads come back as the same chained entries."""
    origin, reader = classic_nodes()
    entries = entries_of(items)
    header, sig = sign_batch(
        entries, origin.signing, origin.cert.serial, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES
    )
    sealed = seal_batch(entries, header, sig, [reader.kem.public_key])
    raw = address(sealed, origin.signing, origin.node, reader.node, NOW, NOW + DAY_MS)
    env = decode_envelope(raw)
    env.verify_hop(origin.signing.verify_key, NOW)
    env.verify_batch(origin.signing.verify_key)
    assert entries == open_envelope(env, keyring(reader))
    assert columns(entries) == open_payloads(env, keyring(reader))


@pytest.mark.parametrize("level", range(1, 10))
def test_deflate_is_plain_zlib(level: int) -> None:
    """Block boundaries are the sender's business: any inflater reads the stream."""
    items = [encode_payload([Upsert("person", f"p{i}", {"a": [i, 0]})]) for i in range(300)]
    pieces = frames.frame_pieces(entries_of(items))
    assert b"".join(pieces) == zlib.decompress(frames.deflate(pieces, level))


# The decoder under attack.


def _mixed() -> tuple[list[Entry], bytes]:
    items: list[bytes | None] = [
        encode_payload([Upsert("person", "p1", {"name": ["张三", 0], "sex": ["F", 0]})]),
        encode_payload([EpochStart(1, 4, "restore")]),
        None,
        encode_payload(
            [Upsert("person", "p1", {"a": [[1], 2]}), Upsert("k", "s1", {"b": [None, 0]})]
        ),
        encode_payload([Upsert("person", "p2", {"name": ["李四", 0], "sex": ["F", 0]})]),
    ]
    entries = entries_of(items)
    return entries, encode_frames(entries)


SMALL = 1 << 20
"""What decoding a small input may hold at once: 1 MiB. A bound on memory, not on time,
so that it holds on a loaded machine too; a bomb allocates by what the input claims."""


@contextmanager
def _peak(bound: int = SMALL) -> Iterator[None]:
    """Fail if Python held more than ``bound`` bytes at once inside the block (traced
    from here, or by an enclosing block: starting tracemalloc is the costly part)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        yield
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()
    assert peak < bound, f"the decoder held {peak} bytes at once (bound {bound})"


def _attempt(header: BatchHeader, data: bytes) -> None:
    try:
        rebuild_entries(header, data)
    except ProtocolError:
        pass


def test_every_byte_flip_and_cut() -> None:
    """Each byte flipped three ways, and each truncation: ProtocolError or the same
    entries, never another exception."""
    entries, data = _mixed()
    header = header_of(entries)
    assert entries == rebuild_entries(header, data)
    for at in range(len(data)):
        for mask in (0x01, 0x80, 0xFF):
            out = bytearray(data)
            out[at] ^= mask
            _attempt(header, bytes(out))
        _attempt(header, data[:at])
    for count in range(1, 8):
        for at in range(len(data)):
            _attempt(dataclasses.replace(header, last_seq=count), data[:at])


@given(raw=st.binary(max_size=400), count=st.integers(1, 12))
@PROPERTY
def test_random_bytes(raw: bytes, count: int) -> None:
    entries, _ = _mixed()
    with _peak():
        _attempt(dataclasses.replace(header_of(entries), last_seq=count), raw)


@given(data=st.data())
@PROPERTY
def test_mutated_frames_never_pass(data: st.DataObject) -> None:
    """Mutated frames either fail or rebuild exactly the signed entries (and so the
    payloads alone, rebuild_payloads: the same checks)."""
    entries, frames_ = _mixed()
    raw = data.draw(mutations(frames_), label="raw")
    try:
        assert entries == rebuild_entries(header_of(entries), raw)
    except ProtocolError:
        pass
    try:
        assert columns(entries) == rebuild_payloads(header_of(entries), raw)
    except ProtocolError:
        pass


# Bounds: every size is checked before it is allocated.


def test_inflate_bomb() -> None:
    """32 MiB of zeros deflate to 32 KiB; one byte more is refused, not allocated on."""
    bomb = zlib.compress(bytes(frames.MAX_FRAMES + 1), 9)
    assert len(bomb) < 40_000
    with pytest.raises(TooLargeError):
        envelope._inflate(bomb)


def _shaped(count: int, ops: list[tuple[bytes, list[bytes]]], tokens: bytes = b"") -> bytes:
    return raw_frames([1] * count, codes=[CODE_SHAPE] * count, shapes=[shape(*ops)], tokens=tokens)


def test_token_bomb_is_refused_before_the_split() -> None:
    """A shape of 61 ops of 128 fields (just under 64 KiB of template) used by 17 entries
    names over 2**18 tokens: refused while reading the shape table, before any template
    or token exists."""
    op = (b"k", [b"a"] * 128)
    assert 15 + 61 + 61 * frames.op_literal(op[0], tuple(op[1])) <= MAX_PAYLOAD
    assert 17 * 61 * 257 > frames.MAX_TOKENS
    with _peak(), pytest.raises(TooLargeError, match="tokens"):
        decode_frames(_shaped(17, [op] * 61), 17)


def test_shape_over_64_kib_is_refused_while_read() -> None:
    """A shape whose template alone exceeds 64 KiB can rebuild no valid payload."""
    op = (b"k", [b"a"] * 128)
    with _peak(), pytest.raises(TooLargeError, match="shape"):
        decode_frames(_shaped(1, [op] * 512), 1)


def test_rebuilt_bytes_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """The payloads a batch rebuilds are bounded like the inflated frames: by the template
    bytes while the shapes are read, then with verbatim payloads and tokens."""
    monkeypatch.setattr(frames, "MAX_FRAMES", 10_000)
    op = (b"k" * 32, [b"n" * 48])  # 147 template bytes outside the 3 slots
    with pytest.raises(TooLargeError, match="rebuild"):
        decode_frames(_shaped(100, [op], b"\n".join([b"0"] * 300)), 100)
    with pytest.raises(TooLargeError, match="rebuild"):
        decode_frames(_shaped(10, [op], b"\n".join([b"0" * 300] * 30)), 10)
    assert 10 == len(decode_frames(_shaped(10, [op], b"\n".join([b"0"] * 30)), 10).payloads)


def test_line_feeds_are_counted_not_split() -> None:
    """Megabytes of line feeds that do not match the shapes are refused by counting."""
    with pytest.raises(MalformedError):
        decode_frames(_shaped(1, [(b"k", [b"a"])], b"\n" * 5_000_000), 1)


def test_rebuilt_payload_bound() -> None:
    """A shaped payload over 64 KiB is too large; exactly 64 KiB is fine."""
    tmpl = frames.template(((b"k", (b"a",)),))
    pad = MAX_PAYLOAD - (len(tmpl) - 6) - len(b'""0p')
    ok = _shaped(1, [(b"k", [b"a"])], b'"' + b"x" * pad + b'"\n0\np')
    assert MAX_PAYLOAD == len(decode_frames(ok, 1).payloads[0] or b"")
    with pytest.raises(TooLargeError):
        decode_frames(_shaped(1, [(b"k", [b"a"])], b'"' + b"x" * (pad + 1) + b'"\n0\np'), 1)


def test_shape_table_bounds() -> None:
    """Ops per shape 1..512, fields per op 1..128, kinds and names by their syntax."""
    for ops in ([], [(b"k", [b"a"])] * 513, [(b"k", [b"a"] * 129)], [(b"k" * 33, [b"a"])],
                [(b"k", [b"a" * 49])], [(b"9k", [b"a"])], [(b"k", [b"A"])]):  # fmt: skip
        with pytest.raises(MalformedError):
            decode_frames(_shaped(1, ops, b"x"), 1)


def test_codes_and_counts() -> None:
    """Codes beyond the shape table, and shapes no entry uses, are malformed."""
    with pytest.raises(MalformedError):
        decode_frames(raw_frames([1], codes=[0xFFFF], raw=[b"x"]), 1)
    with pytest.raises(MalformedError):
        decode_frames(raw_frames([1], shapes=[shape((b"k", [b"a"]))], raw=[b"x"]), 1)
    assert [b"x", None] == decode_frames(
        raw_frames([1, 1], codes=[0, 1], raw=[b"x"], erased=[(9, bytes(32))]), 2
    ).payloads


def test_byte_planes() -> None:
    """Columns are byte planes: all first bytes, then all second bytes, …"""
    entries = entries_of([b"a", b"b"], [0x0102, 0x0304])
    data = encode_frames(entries)
    assert data[:16] == planes([0x0102, 0x0304], 8)
    assert data[:16] == bytes(12) + b"\x01\x03\x02\x04"


def test_clock_overflow_is_malformed(village_log: LogId) -> None:
    """rebuild_entries raises MalformedError (not struct.error) when hlc >= 2**64."""
    frames = raw_frames([2**63, 2**63], codes=[1, 1], erased=[(0, bytes(32))] * 2)
    header = BatchHeader(Suite.HYBRID, village_log, 1, 2, bytes(32), bytes(32), 1, 2, 1, 1, 2)
    with pytest.raises(MalformedError):
        rebuild_entries(header, frames)


def test_erased_frame_length_is_bounded(village_log: LogId) -> None:
    """Erased frames' payload_len is bounded by MAX_PAYLOAD too (SPEC.md §5.3 step 5)."""
    header = BatchHeader(Suite.HYBRID, village_log, 1, 1, bytes(32), bytes(32), 1, 1, 1, 1, 2)
    with pytest.raises(TooLargeError):
        rebuild_entries(header, raw_frames([1], codes=[1], erased=[(MAX_PAYLOAD + 1, bytes(32))]))
