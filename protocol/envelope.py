# SPDX-License-Identifier: Apache-2.0
"""Envelopes: one signed batch, its payloads sealed once, the key wrapped per recipient.

Layout (big-endian; the hop fields, the signed header and the wraps are read and
written by protocol.hop alone, for the envelope and for its evidence form)::

    "RKV3" | hop_suite u8 | message_id [16] | from NodeId [14] | to NodeId [14]
           | sent_ms u64 | expires_ms u64
           | batch_header [144] | batch_sig_len u16 | batch_sig
           | n_wraps u8 | n_wraps × ( key_id [8] | wrap [suite.wrap_size] )
           | ciphertext_len u32 | ciphertext
           | hop_key_id [8] | hop_sig_len u16 | hop_sig

* ``message_id`` = first 16 bytes of SHA-256 of the batch header's identity (all but the
  origin's times, its first 128 bytes): the same batch is the same message however often
  it is resent or relayed, so every hop deduplicates on it.
* The frames (format 2, :mod:`protocol.frames`; the "2" of the magic) are deflated and
  sealed once with ChaCha20-Poly1305 under a random content key,
  AAD = ``SEAL_CONTEXT || batch_header``; the key is HPKE-wrapped for each recipient with
  ``info = WRAP_CONTEXT || SHA-256(batch_header) || key_id`` (the key id saves trial
  decryption). A recipient opens only what is wrapped for it.
* The sending hop signs ``HOP_CONTEXT ||`` the envelope's *digest form* (version 3,
  :func:`digest_form`): the hop fields, batch header and origin signature as they are,
  each wrap as ``key_id || SHA-256(wrap)``, the ciphertext as its length and SHA-256,
  and ``hop_key_id``. So the signature still binds every byte, and a receiver can keep
  the digest form and the signature alone (protocol.envelope_evidence) as proof of who
  sent what, without the wraps and the ciphertext: evidence that holds no personal data
  and opens for no one (SPEC.md §6.3.2, §6.4). A relay that forwards replaces from/to/
  sent/expires and the hop key id and signature, and keeps the rest.
* ``sent_ms < expires_ms <= sent_ms + MAX_LIFETIME_MS`` (30 days), and ``expires_ms``
  at most the origin's, which the batch header carries under the origin's signature: a
  hop that signs a later one is refused (``expiry_extended``, SPEC.md §6.7 step 2).
  Whether ``to`` is the receiving node is for the receiver to check (§6.7): the decoder
  cannot know.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from secrets import token_bytes

from protocol import batches
from protocol.batches import BatchHeader, decode_header, rebuild_entries, rebuild_payloads
from protocol.binary import Reader, blob16, blob32, inflate_bounded, u8, u32
from protocol.crypto import (
    CONTENT_KEY_SIZE,
    KEY_ID_SIZE,
    KemPrivateKey,
    KemPublicKey,
    Random,
    SigningKey,
    Suite,
    VerifyKey,
    open_sealed,
    seal,
    sha256,
)
from protocol.entries import Entry
from protocol.errors import (
    ExpiredError,
    ExpiryExtendedError,
    RecipientsError,
    SignatureError,
    TooLargeError,
    UnknownRecipientError,
)
from protocol.frames import MAX_FRAMES, deflate, frame_pieces
from protocol.hop import HOP_FIELDS_SIZE as HOP_FIELDS_SIZE
from protocol.hop import MAGIC as MAGIC
from protocol.hop import MAX_LIFETIME_MS as MAX_LIFETIME_MS
from protocol.hop import MAX_RECIPIENTS as MAX_RECIPIENTS
from protocol.hop import HopFields, read_hop_fields, read_signed_header, read_wraps
from protocol.ids import NodeId

HOP_CONTEXT = b"renkou-net/1 envelope hop\x00"
SEAL_CONTEXT = b"renkou-net/1 sealed frames\x00"
WRAP_CONTEXT = b"renkou-net/1 key wrap\x00"
MAX_ENVELOPE = 8 * 1024 * 1024
COMPRESS_LEVEL = 6
"""zlib level of the reference sender; not part of the format (SPEC.md §6.3). Columnar
frames deflate almost as small at 6 as at 9 (0.1 byte per entry at 5,000 entries per
batch) in a third of the time."""


@dataclass(frozen=True, slots=True)
class Envelope:
    hop_suite: Suite
    message_id: bytes
    sender: NodeId
    recipient: NodeId
    sent_ms: int
    expires_ms: int
    header: BatchHeader
    header_bytes: bytes
    batch_sig: bytes
    wraps: tuple[tuple[bytes, bytes], ...] = field(repr=False)
    ciphertext: bytes = field(repr=False)
    hop_key_id: bytes = field(repr=False)
    hop_sig: bytes = field(repr=False)
    raw: bytes = field(repr=False)

    def verify_hop(self, key: VerifyKey, now_ms: int) -> None:
        """Check the sending hop's signature, that its expiry is not later than the
        origin's, and that the envelope has not expired.

        The caller also checks that ``recipient`` is itself (SPEC.md §6.7), and the
        origin's signature over the header (:meth:`verify_batch`).

        Raises:
            SignatureError: not signed by ``key`` (the sender's certified key).
            ExpiryExtendedError: the hop signed an expiry later than the origin's (a
                relay handing a batch on as fresher than its origin made it): the
                signature makes it the hop's doing.
            ExpiredError: ``now_ms`` is past ``expires_ms`` (a replay of an old
                envelope; the origin's expiry is never earlier, see above).
        """
        if key.key_id != self.hop_key_id or key.suite is not self.hop_suite:
            raise SignatureError("signature is invalid")
        key.verify(self.hop_sig, HOP_CONTEXT + self.digest_form())
        check_hop_expiry(self.sender, self.expires_ms, self.header)
        if now_ms > self.expires_ms:
            raise ExpiredError(f"envelope expired at {self.expires_ms}, now {now_ms}")

    def digest_form(self) -> bytes:
        """What the hop signed (SPEC.md §6.4): the envelope with each wrap replaced by
        its SHA-256 and the ciphertext by its length and SHA-256."""
        return digest_form(
            self.raw[:HOP_FIELDS_SIZE],
            self.header_bytes,
            self.batch_sig,
            [(key_id, sha256(wrap)) for key_id, wrap in self.wraps],
            len(self.ciphertext),
            sha256(self.ciphertext),
            self.hop_key_id,
        )

    def verify_batch(self, origin_key: VerifyKey) -> None:
        """Check the origin's signature over the batch header (relays can do this)."""
        if origin_key.suite is not self.header.suite:
            raise SignatureError("signature is invalid")
        self.header.verify(origin_key, self.batch_sig)

    @property
    def recipient_key_ids(self) -> list[bytes]:
        return [key_id for key_id, _ in self.wraps]


def digest_form(
    hop_fields: bytes,
    header_bytes: bytes,
    batch_sig: bytes,
    wrap_hashes: Sequence[tuple[bytes, bytes]],
    ciphertext_len: int,
    ciphertext_hash: bytes,
    hop_key_id: bytes,
) -> bytes:
    """``hop_fields || batch_header || blob16(batch_sig) || u8(n) || n × (key_id ||
    SHA-256(wrap)) || u32(ciphertext_len) || SHA-256(ciphertext) || hop_key_id``: the
    bytes a hop signs (SPEC.md §6.4), built alike by the sender, the receiver and a
    reader of kept evidence (protocol.envelope_evidence)."""
    out = bytearray(hop_fields + header_bytes + blob16(batch_sig) + u8(len(wrap_hashes)))
    for key_id, wrap_hash in wrap_hashes:
        out += key_id + wrap_hash
    return bytes(out + u32(ciphertext_len) + ciphertext_hash + hop_key_id)


def check_hop_expiry(sender: NodeId, expires_ms: int, header: BatchHeader) -> None:
    """A hop's expiry is at most the origin's (SPEC.md §6.5, §6.7 step 2).

    Raises:
        ExpiryExtendedError: ``expires_ms`` is later than ``header.expires_ms``.
    """
    if expires_ms > header.expires_ms:
        raise ExpiryExtendedError(
            f"{sender} signed expiry {expires_ms} for {header.log}"
            f" {header.first_seq}..{header.last_seq}, later than its origin's"
            f" {header.expires_ms}"
        )


def check_recipients(env: Envelope, required: Iterable[bytes]) -> None:
    """§6.7 step 3 (recipients): every key id in ``required`` is among the wrap key ids.

    A relay cannot open a batch but sees whom it is sealed for; it calls this with the
    county node's KEM key id before it acknowledges, so a batch the county could not
    open is refused here instead of being acknowledged and never sent again.

    Raises:
        RecipientsError: a required key id has no wrap (``bad_recipients``).
    """
    held = set(env.recipient_key_ids)
    missing = [key_id.hex() for key_id in required if key_id not in held]
    if missing:
        raise RecipientsError(
            f"{env.header.log} {env.header.first_seq}..{env.header.last_seq} is not sealed"
            f" for key {', '.join(missing)}, which the receiver requires"
        )


def _tail(env: Envelope) -> int:
    return KEY_ID_SIZE + 2 + len(env.hop_sig)


def seal_batch(
    entries: Sequence[Entry],
    header: BatchHeader,
    batch_sig: bytes,
    recipients: Sequence[KemPublicKey],
    *,
    random: Random = token_bytes,
) -> bytes:
    """Compress and seal the frames of ``entries`` for ``recipients``; return the sealed part.

    The result is the envelope's middle (wraps and ciphertext); :func:`address` adds the
    hop fields and signature. Sealing once and addressing per hop lets a relay forward
    without touching the ciphertext.
    """
    return _seal_with(entries, header, recipients, random(CONTENT_KEY_SIZE), batch_sig)


def _seal_with(
    entries: Sequence[Entry],
    header: BatchHeader,
    recipients: Sequence[KemPublicKey],
    content_key: bytes,
    batch_sig: bytes,
) -> bytes:
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise ValueError(f"an envelope has 1..{MAX_RECIPIENTS} recipients")
    if any(r.suite is not header.suite for r in recipients):
        raise ValueError("recipients must use the batch's suite (no PQ/classical mixing)")
    if len({r.key_id for r in recipients}) != len(recipients):
        raise ValueError("an envelope names each recipient key once (duplicate key ids)")
    header_bytes = header.to_bytes()
    digest = sha256(header_bytes)
    out = bytearray(header_bytes + blob16(batch_sig) + u8(len(recipients)))
    for r in sorted(recipients, key=lambda r: r.key_id):
        out += r.key_id + r.wrap(content_key, WRAP_CONTEXT + digest + r.key_id)
    plain = deflate(frame_pieces(entries), COMPRESS_LEVEL)
    out += blob32(seal(content_key, plain, SEAL_CONTEXT + header_bytes))
    return bytes(out)


def address(
    sealed: bytes,
    hop_key: SigningKey,
    sender: NodeId,
    recipient: NodeId,
    sent_ms: int,
    expires_ms: int,
) -> bytes:
    """Wrap a sealed batch for one hop and sign it as ``sender``.

    The hop signs the digest form (:func:`digest_form`), which binds every byte before
    ``hop_sig_len``, ``hop_key_id`` included.

    Raises:
        ValueError: ``expires_ms`` is not after ``sent_ms``, more than MAX_LIFETIME_MS
            after it, or later than the origin's expiry in the batch header.
        MalformedError: ``sealed`` is not a sealed part (seal_batch makes one).
    """
    if expires_ms <= sent_ms:
        raise ValueError("expires_ms must be after sent_ms")
    if expires_ms - sent_ms > MAX_LIFETIME_MS:
        raise ValueError(f"an envelope lives at most {MAX_LIFETIME_MS} ms")
    header = decode_header(sealed[: batches.SIZE])
    if expires_ms > header.expires_ms:
        raise ValueError("a hop's expiry is at most the origin's (the batch header's)")
    return _addressed(sealed, hop_key, sender, recipient, sent_ms, expires_ms)


def _addressed(
    sealed: bytes,
    hop_key: SigningKey,
    sender: NodeId,
    recipient: NodeId,
    sent_ms: int,
    expires_ms: int,
) -> bytes:
    """:func:`address` without its checks (the vectors' faulty hops use it)."""
    header = decode_header(sealed[: batches.SIZE])
    r = Reader(sealed[batches.SIZE :], "sealed part")
    batch_sig = r.blob16(header.suite.signature_size, "batch signature")
    wraps = [(r.take(KEY_ID_SIZE), r.take(header.suite.wrap_size)) for _ in range(r.u8())]
    ciphertext = r.blob32(MAX_ENVELOPE, "ciphertext")
    r.end()
    hop_fields = HopFields(
        hop_key.suite, header.message_id, sender, recipient, sent_ms, expires_ms
    ).encode()
    key_id = hop_key.verify_key.key_id
    signed = digest_form(
        hop_fields,
        sealed[: batches.SIZE],
        batch_sig,
        [(k, sha256(w)) for k, w in wraps],
        len(ciphertext),
        sha256(ciphertext),
        key_id,
    )
    return hop_fields + sealed + key_id + blob16(hop_key.sign(HOP_CONTEXT + signed))


def sealed_part(env: Envelope) -> bytes:
    """The hop-independent middle of an envelope, for a relay to re-address."""
    return env.raw[HOP_FIELDS_SIZE : len(env.raw) - _tail(env)]


def without_wrap(env: Envelope, key_id: bytes) -> bytes:
    """The sealed part of ``env`` (as :func:`sealed_part`) with the wrap for ``key_id``
    left out: the same batch, header, signature and ciphertext, no longer openable with
    that key.

    A township keeps its villages' batches to forward them, and it is one of their
    recipients (SPEC.md §6.3.1). Once the county has acknowledged a batch, the township
    takes its own wrap out of the copy it keeps (§6.3.2): the copy can still go up again
    (to a county restored from a backup) and be opened there, but no longer by the
    township, nor by whoever takes its PC and its key.

    Raises:
        ValueError: ``env`` has no wrap for ``key_id``, or only that one (nobody could
            open what is left).
    """
    kept = [(k, w) for k, w in env.wraps if k != key_id]
    if len(kept) == len(env.wraps):
        raise ValueError("the envelope has no wrap for that key")
    if not kept:
        raise ValueError("an envelope keeps at least one wrap")
    out = bytearray(env.header_bytes + blob16(env.batch_sig) + u8(len(kept)))
    for k, w in kept:
        out += k + w
    return bytes(out + blob32(env.ciphertext))


def decode_envelope(raw: bytes) -> Envelope:
    """Parse an envelope's structure, bounding every size; verifies nothing yet."""
    if len(raw) > MAX_ENVELOPE:
        raise TooLargeError(f"envelope of {len(raw)} bytes exceeds {MAX_ENVELOPE}")
    r = Reader(raw, "envelope")
    hop = read_hop_fields(r, "envelope")
    header_bytes, header, batch_sig = read_signed_header(r, hop, "envelope")
    wraps = read_wraps(r, header.suite.wrap_size, "envelope")
    ciphertext = r.blob32(MAX_ENVELOPE, "ciphertext")
    hop_key_id = r.take(KEY_ID_SIZE)
    hop_sig = r.blob16(hop.suite.signature_size, "hop signature")
    r.end()
    tail = (header, header_bytes, batch_sig, wraps, ciphertext, hop_key_id, hop_sig, raw)
    return Envelope(*(hop.values() + tail))


def open_envelope(env: Envelope, keys: Mapping[bytes, KemPrivateKey]) -> list[Entry]:
    """Unwrap, decrypt, decompress (bounded) and rebuild the entries of ``env``.

    ``keys`` maps our key ids to private keys. Call only after :meth:`Envelope.verify_batch`.

    Raises:
        UnknownRecipientError: nothing is wrapped for any key we hold.
        DecryptionError: the wrap or the ciphertext does not open.
        TooLargeError, MalformedError, ChainError: from the frames and the chain.
    """
    return rebuild_entries(env.header, _opened_frames(env, keys))


def open_payloads(
    env: Envelope, keys: Mapping[bytes, KemPrivateKey]
) -> tuple[list[int], list[bytes | None]]:
    """The clocks and payloads of ``env``'s entries, in seq order from its header's
    ``first_seq``, opened and checked as :func:`open_envelope` does (the chain rebuilt
    up to the signed head hash) without building Entry objects, for a reader of the
    payloads alone (the township's review copy, node/review/intake.py).

    Raises:
        as :func:`open_envelope`.
    """
    return rebuild_payloads(env.header, _opened_frames(env, keys))


def _opened_frames(env: Envelope, keys: Mapping[bytes, KemPrivateKey]) -> bytes:
    """Unwrap with the first of ``keys`` ``env`` is sealed for, decrypt and inflate."""
    mine = [(key_id, wrapped) for key_id, wrapped in env.wraps if key_id in keys]
    if not mine:
        raise UnknownRecipientError("this envelope is not addressed to any key we hold")
    key_id, wrapped = mine[0]
    private = keys[key_id]
    digest = sha256(env.header_bytes)
    content_key = private.unwrap(wrapped, WRAP_CONTEXT + digest + key_id)
    plain = open_sealed(content_key, env.ciphertext, SEAL_CONTEXT + env.header_bytes)
    return _inflate(plain)


def _inflate(data: bytes) -> bytes:
    """The sealed frames, inflated within ``MAX_FRAMES`` (read at each call)."""
    return inflate_bounded(data, MAX_FRAMES, "sealed frames")


def readdress(
    env: Envelope,
    hop_key: SigningKey,
    sender: NodeId,
    recipient: NodeId,
    sent_ms: int,
    expires_ms: int,
) -> bytes:
    """Forward ``env`` as a relay: same message and ciphertext, new hop fields and signature."""
    return address(sealed_part(env), hop_key, sender, recipient, sent_ms, expires_ms)


__all__ = [
    "Envelope",
    "address",
    "check_hop_expiry",
    "check_recipients",
    "decode_envelope",
    "digest_form",
    "open_envelope",
    "open_payloads",
    "readdress",
    "seal_batch",
    "sealed_part",
    "without_wrap",
]
