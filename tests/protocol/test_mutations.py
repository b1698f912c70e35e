# SPDX-License-Identifier: Apache-2.0
"""Tampering: every change to a valid envelope is refused, and no decoder raises anything
but a ProtocolError, whatever bytes it is fed.

Where a flip is caught depends on where it lands. The sending hop signs every byte before
``hop_key_id``, so in the full receive pipeline (decode_envelope -> verify_hop ->
verify_batch -> open_envelope) a flip that still parses fails the hop signature, even
inside a wrap or the ciphertext. DecryptionError is what the recipient sees when the
sealed part was changed *before* an honest hop signed it (a corrupting relay): those
cases are re-addressed below so that the hop signature is valid again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import batches, canonical
from protocol.batches import IDENTITY_SIZE, decode_header, rebuild_entries, sign_batch
from protocol.certs import decode_certificate, decode_revocations, issue_revocations
from protocol.crypto import KEY_ID_SIZE
from protocol.entries import Entry
from protocol.envelope import _addressed, _seal_with, address, decode_envelope
from protocol.errors import (
    ChainError,
    DecryptionError,
    ExpiryExtendedError,
    MalformedError,
    ProtocolError,
    SignatureError,
    TooLargeError,
    UnknownRecipientError,
    UnsupportedError,
)
from protocol.frames import encode_frames
from protocol.frontier import Ack, ForkProof, decode_ack, decode_fork_proof, sign_ack
from protocol.ids import LogId
from protocol.ops import decode_payload
from protocol.signed import decode_signed
from protocol.testing import NOW, ORIGIN_EXPIRES, ORIGIN_SENT, chain_entries, person_payload
from protocol.testing import TestNode as Node
from tests.protocol.helpers import DAY_MS, Receive, SealedBatch, keyring, raw_frames, shape
from tests.protocol.strategies import mutations

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Errors = tuple[type[ProtocolError], ...]
SEALED_START = 4 + 1 + 16 + 14 + 14 + 8 + 8  # magic .. expires_ms


@dataclass(frozen=True)
class Region:
    name: str
    start: int
    end: int
    # What the full pipeline raises for a flip here, and what the wrap's owner (or the
    # township, for shared fields) raises when the sealed part was flipped and then
    # re-addressed by an honest hop (None outside the sealed part).
    signed: Errors
    readdressed: Errors | None = None
    owner: bytes | None = None


def envelope_regions(raw: bytes) -> list[Region]:
    """The envelope layout of envelope.py, as byte ranges of ``raw``."""
    env = decode_envelope(raw)
    sig = env.header.suite.signature_size
    wrap = env.header.suite.wrap_size
    out = [
        Region("magic", 0, 4, (MalformedError, UnsupportedError)),
        Region("hop_suite", 4, 5, (UnsupportedError, MalformedError)),
        Region("message_id", 5, 21, (MalformedError,)),
        Region("sender", 21, 35, (MalformedError, SignatureError)),
        Region("recipient", 35, 49, (MalformedError, SignatureError)),
        # sent_ms < expires_ms <= sent_ms + 30 days is checked by the decoder.
        Region("sent_ms", 49, 57, (SignatureError, MalformedError)),
        Region("expires_ms", 57, 65, (SignatureError, MalformedError)),
    ]
    pos = SEALED_START
    layout: list[tuple[str, int, Errors, Errors, bytes | None]] = [
        ("batch_header", IDENTITY_SIZE, (MalformedError, UnsupportedError),
         (MalformedError, UnsupportedError, SignatureError), None),
        # The origin's times: not in the message id, so a flip decodes unless it breaks
        # the lifetime bound; signed by both the hop and the origin.
        ("origin_times", 16, (MalformedError, SignatureError),
         (MalformedError, SignatureError, ExpiryExtendedError), None),
        ("batch_sig_len", 2, (MalformedError,), (MalformedError,), None),
        ("batch_sig", sig, (SignatureError,), (SignatureError,), None),
        ("n_wraps", 1, (MalformedError,), (MalformedError,), None),
    ]  # fmt: skip
    for i, (key_id, _) in enumerate(env.wraps):
        layout += [
            (f"wrap{i}_key_id", KEY_ID_SIZE, (MalformedError, SignatureError),
             (MalformedError, UnknownRecipientError), key_id),
            (f"wrap{i}", wrap, (SignatureError,), (DecryptionError,), key_id),
        ]  # fmt: skip
    layout += [
        ("ciphertext_len", 4, (MalformedError,), (MalformedError,), None),
        ("ciphertext", len(env.ciphertext), (SignatureError,), (DecryptionError,), None),
    ]
    for name, size, signed, readdressed, owner in layout:
        out.append(Region(name, pos, pos + size, signed, readdressed, owner))
        pos += size
    out += [
        Region("hop_key_id", pos, pos + KEY_ID_SIZE, (SignatureError,)),
        Region("hop_sig_len", pos + KEY_ID_SIZE, pos + KEY_ID_SIZE + 2, (MalformedError,)),
        Region("hop_sig", pos + KEY_ID_SIZE + 2, len(raw), (SignatureError,)),
    ]
    assert len(raw) - len(env.hop_sig) == out[-1].start
    return out


@pytest.fixture(scope="module")
def regions(sealed_batch: SealedBatch) -> list[Region]:
    return envelope_regions(sealed_batch.raw)


def region_at(regions: Sequence[Region], offset: int) -> Region:
    return next(r for r in regions if r.start <= offset < r.end)


def flipped(raw: bytes, offset: int, mask: int) -> bytes:
    out = bytearray(raw)
    out[offset] ^= mask
    return bytes(out)


def test_region_map_covers_the_envelope(regions: list[Region], sealed_batch: SealedBatch) -> None:
    """Envelope layout: "RKV1" | hop_suite u8 | message_id [16] | ... | hop_sig."""
    assert 0 == regions[0].start
    assert len(sealed_batch.raw) == regions[-1].end
    assert all(a.end == b.start for a, b in zip(regions, regions[1:], strict=False))


def _check_flip(
    receive: Receive, regions: Sequence[Region], raw: bytes, offset: int, mask: int
) -> None:
    region = region_at(regions, offset)
    with pytest.raises(ProtocolError) as info:
        receive(flipped(raw, offset, mask))
    assert isinstance(info.value, region.signed), (region.name, offset, mask, info.value)


@pytest.mark.parametrize("mask", [0x01, 0x80])
@pytest.mark.parametrize("edge", ["first", "last"])
def test_flip_at_every_field_edge(
    receive: Receive, regions: list[Region], sealed_batch: SealedBatch, edge: str, mask: int
) -> None:
    """The sending hop signs every byte before hop_sig_len; every field is checked."""
    for region in regions:
        offset = region.start if edge == "first" else region.end - 1
        _check_flip(receive, regions, sealed_batch.raw, offset, mask)


@given(data=st.data())
@FUZZ
def test_any_single_byte_flip_is_rejected(
    receive: Receive, regions: list[Region], sealed_batch: SealedBatch, data: st.DataObject
) -> None:
    """Any single-byte change anywhere in a valid envelope is refused, by the right stage."""
    raw = sealed_batch.raw
    offset = data.draw(st.integers(0, len(raw) - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="mask")
    _check_flip(receive, regions, raw, offset, mask)


def test_every_byte_flip_is_rejected(
    receive: Receive, regions: list[Region], sealed_batch: SealedBatch
) -> None:
    """Any single-byte change anywhere in a valid envelope is refused (every offset)."""
    for offset in range(len(sealed_batch.raw)):
        _check_flip(receive, regions, sealed_batch.raw, offset, 0xFF)


@pytest.mark.slow
@pytest.mark.parametrize("bit", range(8))
def test_every_single_bit_flip_is_rejected(
    receive: Receive, regions: list[Region], sealed_batch: SealedBatch, bit: int
) -> None:
    """Any single-bit change anywhere in a valid envelope is refused (exhaustive, slow)."""
    for offset in range(len(sealed_batch.raw)):
        _check_flip(receive, regions, sealed_batch.raw, offset, 1 << bit)


def _readdress_flip(
    sealed_batch: SealedBatch, village: Node, township: Node, offset: int, mask: int
) -> bytes:
    sealed = flipped(sealed_batch.sealed, offset - SEALED_START, mask)
    # unchecked: the flipped origin expiry may be earlier than this hop's
    return _addressed(sealed, village.signing, village.node, township.node, NOW, NOW + DAY_MS)


@given(data=st.data())
@FUZZ
def test_flip_in_sealed_part_before_an_honest_hop(
    receive: Receive,
    regions: list[Region],
    sealed_batch: SealedBatch,
    village: Node,
    township: Node,
    root: Node,
    data: st.DataObject,
) -> None:
    """AAD = SEAL_CONTEXT || batch_header; info = WRAP_CONTEXT || SHA-256(header) || key_id."""
    sealed_regions = [r for r in regions if r.readdressed is not None]
    region = data.draw(st.sampled_from(sealed_regions), label="region")
    offset = data.draw(st.integers(region.start, region.end - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="mask")
    owner = township if region.owner in (None, township.kem.public_key.key_id) else root
    assert region.readdressed is not None
    with pytest.raises(region.readdressed):  # a header that does not decode: not sent
        raw = _readdress_flip(sealed_batch, village, township, offset, mask)
        receive(raw, keys=keyring(owner))


def test_spliced_ciphertext_from_another_batch(
    sealed_batch: SealedBatch,
    receive: Receive,
    village: Node,
    township: Node,
    village_log: LogId,
    entries: list[Entry],
) -> None:
    """The key is HPKE-wrapped with info = WRAP_CONTEXT || SHA-256(batch_header) || key_id."""
    later = chain_entries(village_log, [person_payload(9)], first_seq=6, prev_hash=entries[-1].hash)
    header, sig = sign_batch(
        later, village.signing, village.cert.serial, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES
    )
    other = _seal_with(later, header, [township.kem.public_key], bytes(range(32)), sig)
    head_len = batches.SIZE + 2 + len(sealed_batch.batch_sig)
    spliced = sealed_batch.sealed[:head_len] + other[head_len:]
    raw = address(spliced, village.signing, village.node, township.node, NOW, NOW + DAY_MS)
    with pytest.raises(DecryptionError):
        receive(raw)


def test_every_truncation_is_malformed(sealed_batch: SealedBatch) -> None:
    """Every length read from the wire is checked against what remains."""
    raw = sealed_batch.raw
    for length in range(len(raw)):
        with pytest.raises(MalformedError):
            decode_envelope(raw[:length])


@given(st.binary(min_size=1, max_size=64))
@settings(max_examples=50, deadline=None)
def test_appended_bytes_are_malformed(sealed_batch: SealedBatch, tail: bytes) -> None:
    """Nothing may follow the hop signature (trailing bytes)."""
    with pytest.raises(MalformedError):
        decode_envelope(sealed_batch.raw + tail)


# Entry-level manipulation: the origin's real signed header, other frames sealed under it.
#
# Frames carry clock deltas, not seqs or hashes, so a reordered, dropped or spliced entry
# shows up on the wire as a payload at a position where the signed chain has another:
# ``restamp`` builds exactly that (each position keeps the signed clock, takes another
# entry's payload), and only the hash chain can catch it.


@pytest.fixture(scope="module")
def next_entries(village_log: LogId, entries: list[Entry]) -> list[Entry]:
    return chain_entries(
        village_log, [person_payload(i) for i in range(6, 11)],
        first_seq=6, prev_hash=entries[-1].hash, hlc0=entries[-1].hlc + 1,
    )  # fmt: skip


@pytest.fixture(scope="module")
def forked_entries(village_log: LogId) -> list[Entry]:
    return chain_entries(village_log, [person_payload(i) for i in range(101, 106)])


def restamp(signed: Sequence[Entry], sources: Sequence[Entry]) -> list[Entry]:
    """Position i keeps signed[i]'s clock and carries sources[i]'s payload and flags."""
    return [
        Entry(t.suite, t.log, t.seq, t.prev_hash, t.hlc, s.ruleset, s.payload_hash,
              s.payload_len, s.payload, s.flags)
        for t, s in zip(signed, sources, strict=True)
    ]  # fmt: skip


def _reseal(
    sealed_batch: SealedBatch, village: Node, township: Node, frames: Sequence[Entry]
) -> bytes:
    """Seal ``frames`` under the origin's genuine signed header (a malicious origin or
    a bug on the sending side; nobody else holds the content key)."""
    sealed = _seal_with(
        frames, sealed_batch.header, [township.kem.public_key], bytes(32), sealed_batch.batch_sig
    )
    return address(sealed, village.signing, village.node, township.node, NOW, NOW + DAY_MS)


def _with(entry: Entry, **changes: object) -> Entry:
    return dataclasses.replace(entry, **changes)  # type: ignore[arg-type]


P99 = person_payload(99)

TAMPERING = {
    "drop-third": lambda e, n, f: restamp(e, [e[0], e[1], e[3], e[4], n[0]]),
    "reorder": lambda e, n, f: restamp(e, [e[0], e[2], e[1], e[3], e[4]]),
    "shift-window": lambda e, n, f: restamp(e, [*e[1:], n[0]]),
    "duplicate-entry": lambda e, n, f: restamp(e, [e[0], e[1], e[1], e[3], e[4]]),
    "splice-two-batches": lambda e, n, f: restamp(e, [*e[:3], *f[3:]]),
    "splice-other-history": lambda e, n, f: restamp(e, f),
    "replace-payload": lambda e, n, f: [
        e[0], e[1], _with(e[2], payload=P99, payload_len=len(P99)), e[3], e[4]
    ],
    "erased-with-wrong-hash": lambda e, n, f: [
        e[0], e[1], _with(e[2], payload=None, payload_hash=f[2].payload_hash), e[3], e[4]
    ],
    "ruleset-changed": lambda e, n, f: [e[0], _with(e[1], ruleset=2), *e[2:]],
    "last-clock-later": lambda e, n, f: [*e[:4], _with(e[4], hlc=e[4].hlc + 1)],
    "first-clock-earlier": lambda e, n, f: [_with(e[0], hlc=e[0].hlc - 1), *e[1:]],
}  # fmt: skip


@pytest.mark.parametrize("case", list(TAMPERING))
def test_frames_not_matching_the_signed_header(
    sealed_batch: SealedBatch,
    next_entries: list[Entry],
    forked_entries: list[Entry],
    village: Node,
    township: Node,
    receive: Receive,
    case: str,
) -> None:
    """3. clocks equal the signed bounds; 4. the chain from prev_hash ends at head_hash."""
    frames = TAMPERING[case](sealed_batch.entries, next_entries, forked_entries)
    assert 5 == len(frames) and frames != sealed_batch.entries
    with pytest.raises(ChainError):
        receive(_reseal(sealed_batch, village, township, frames))


def test_untampered_reseal_opens(
    sealed_batch: SealedBatch, village: Node, township: Node, receive: Receive
) -> None:
    """The good half of the pairs above: the signed frames, resealed, rebuild."""
    raw = _reseal(
        sealed_batch, village, township, restamp(sealed_batch.entries, sealed_batch.entries)
    )
    assert sealed_batch.entries == receive(raw)


@pytest.mark.parametrize(
    "frames",
    [
        pytest.param(lambda e, n: e[:4], id="dropped-entry"),
        pytest.param(lambda e, n: [*e, n[0]], id="extra-entry"),
        pytest.param(lambda e, n: [e[0], e[1], _with(e[2], flags=1), e[3], e[4]],
                     id="epoch-flag-not-on-seq-1"),
        pytest.param(lambda e, n: [_with(e[0], flags=2), *e[1:]], id="unknown-flag"),
    ],
)  # fmt: skip
def test_frames_structurally_wrong(
    sealed_batch: SealedBatch,
    next_entries: list[Entry],
    village: Node,
    township: Node,
    receive: Receive,
    frames: Callable[[list[Entry], list[Entry]], list[Entry]],
) -> None:
    """Frames of another count than the header's; flags known, epoch-start only on seq 1."""
    raw = _reseal(sealed_batch, village, township, frames(sealed_batch.entries, next_entries))
    with pytest.raises(MalformedError):
        receive(raw)


_PERSON = shape((b"person", [b"name"]))


@pytest.mark.parametrize(
    ("frames", "error"),
    [
        pytest.param(b"", MalformedError, id="empty"),
        pytest.param(raw_frames([1], raw=[b"x"]), MalformedError, id="one-of-two"),
        pytest.param(raw_frames([1, 0], raw=[b"x", b"y"]), ChainError, id="zero-delta"),
        pytest.param(raw_frames([1, 1], raw=[b"x", b"y"])[:-1], MalformedError,
                     id="body-cut-short"),
        pytest.param(raw_frames([1, 1], raw=[b"x", b"y"]) + b"z", MalformedError,
                     id="trailing-byte"),
        pytest.param(raw_frames([1, 1], codes=[0, 2], raw=[b"x"]), MalformedError,
                     id="code-names-no-shape"),
        pytest.param(raw_frames([1, 1], codes=[0, 1], raw=[b"x"], erased=[(32, bytes(31))]),
                     MalformedError, id="erased-hash-cut-short"),
        pytest.param(raw_frames([1, 1], raw=[b"x"], raw_lens=[1, 65 * 1024]), TooLargeError,
                     id="payload-bound"),
        pytest.param(raw_frames([1, 1], codes=[0, 1], raw=[b"x"],
                                erased=[(65 * 1024, bytes(32))]), TooLargeError,
                     id="erased-payload-bound"),
        pytest.param(raw_frames([1, 1], shapes=[_PERSON], raw=[b"x", b"y"]), MalformedError,
                     id="unused-shape"),
        pytest.param(raw_frames([1, 1], codes=[2, 2], shapes=[shape((b"Person", [b"name"]))],
                                tokens=b'"a"\n"b"\n0\n0\np1\np2'), MalformedError,
                     id="shape-kind-not-a-name"),
        pytest.param(raw_frames([1, 1], codes=[2, 2], shapes=[shape((b"person", [b"na%e"]))],
                                tokens=b'"a"\n"b"\n0\n0\np1\np2'), MalformedError,
                     id="shape-field-not-a-name"),
        pytest.param(raw_frames([1, 1], codes=[2, 2], shapes=[shape((b"person", []))],
                                tokens=b"p1\np2"), MalformedError, id="shape-without-fields"),
        pytest.param(raw_frames([1, 1], codes=[2, 2], shapes=[_PERSON],
                                tokens=b'"a"\n"b"\n0\n0\np1'), MalformedError,
                     id="token-missing"),
        pytest.param(raw_frames([1, 1], codes=[2, 2], shapes=[_PERSON],
                                tokens=b'"a"\n"b"\n0\n0\np1\np2\n'), MalformedError,
                     id="token-extra"),
        pytest.param(raw_frames([1, 1], codes=[2, 2], shapes=[_PERSON],
                                tokens=b'"a"\n"' + b"b" * 65536 + b'"\n0\n0\np1\np2'),
                     TooLargeError, id="shaped-payload-bound"),
        pytest.param(raw_frames([1, 1], codes=[2, 2], shapes=[_PERSON],
                                tokens=b'"a"\n"b"\n0\n0\np1\np2'), ChainError,
                     id="well-formed-but-not-signed"),
    ],
)  # fmt: skip
def test_raw_frames(sealed_batch: SealedBatch, frames: bytes, error: type[ProtocolError]) -> None:
    """rebuild_entries raises MalformedError, TooLargeError or ChainError on bad frames."""
    header = dataclasses.replace(sealed_batch.header, last_seq=2)
    with pytest.raises(error):
        rebuild_entries(header, frames)


def test_clock_overflow_is_malformed(
    sealed_batch: SealedBatch, village: Node, township: Node, receive: Receive
) -> None:
    """hlc <- hlc + hlc_delta. If the result is >= 2^64, the frames are malformed."""
    e = sealed_batch.entries
    frames = [*e[:3], _with(e[3], hlc=2**63 + e[2].hlc), _with(e[4], hlc=2**64 + e[2].hlc)]
    raw = _reseal(sealed_batch, village, township, frames)
    with pytest.raises(MalformedError):
        receive(raw)


# Decoders fed random bytes and mutations of valid objects.


@dataclass(frozen=True)
class Seeds:
    decoders: dict[str, tuple[Callable[[bytes], object], bytes]]


@pytest.fixture(scope="module")
def seeds(
    sealed_batch: SealedBatch, root: Node, village: Node, township: Node, entries: list[Entry]
) -> Seeds:
    forked = chain_entries(entries[0].log, [person_payload(i) for i in range(50, 55)])
    second, second_sig = sign_batch(
        forked, village.signing, village.cert.serial, sent_ms=ORIGIN_SENT, expires_ms=ORIGIN_EXPIRES
    )
    proof = ForkProof(sealed_batch.header, sealed_batch.batch_sig, second, second_sig)
    crl = issue_revocations(root.signing, root.node, 1, NOW, [])
    ack = sign_ack(Ack(township.node, entries[0].log, 5, entries[-1].hash, NOW), township.signing)
    return Seeds(
        {
            "envelope": (decode_envelope, sealed_batch.raw),
            "signed": (decode_signed, village.cert.raw),
            "certificate": (decode_certificate, village.cert.raw),
            "header": (decode_header, sealed_batch.header.to_bytes()),
            "fork_proof": (decode_fork_proof, proof.to_bytes()),
            "payload": (decode_payload, person_payload(1)),
            "canonical": (canonical.decode, canonical.encode({"a": [1, "二", None], "b": {}})),
            "revocations": (lambda b: decode_revocations(b, root.cert), crl),
            "ack": (lambda b: decode_ack(b, township.cert.verify_key), ack),
            "frames": (
                lambda b: rebuild_entries(sealed_batch.header, b),
                encode_frames(sealed_batch.entries),
            ),
        }
    )


DECODERS = [
    "envelope", "signed", "certificate", "header", "fork_proof", "payload", "canonical",
    "revocations", "ack", "frames",
]  # fmt: skip


@pytest.mark.parametrize("name", DECODERS)
@given(data=st.data())
@FUZZ
def test_decoders_raise_only_protocol_errors(seeds: Seeds, name: str, data: st.DataObject) -> None:
    """Every decoder and verifier in protocol raises only ProtocolError subclasses."""
    decode, seed = seeds.decoders[name]
    raw = data.draw(st.binary(max_size=300) | mutations(seed), label="raw")
    try:
        decode(raw)
    except ProtocolError:
        pass


@given(data=st.data())
@FUZZ
def test_mutated_envelopes_never_pass(
    receive: Receive, sealed_batch: SealedBatch, data: st.DataObject
) -> None:
    """The full pipeline accepts an envelope only as it was signed, byte for byte."""
    raw = data.draw(mutations(sealed_batch.raw), label="raw")
    try:
        receive(raw)
    except ProtocolError:
        return
    assert sealed_batch.raw == raw
