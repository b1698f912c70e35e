# SPDX-License-Identifier: Apache-2.0
"""Suites, keys, signatures, key wraps and sealing (protocol/crypto.py)."""

from __future__ import annotations

import pytest

from protocol import crypto
from protocol.crypto import (
    CONTENT_KEY_SIZE,
    KEY_ID_SIZE,
    KemPrivateKey,
    KemPublicKey,
    SigningKey,
    Suite,
    VerifyKey,
    open_sealed,
    seal,
)
from protocol.errors import DecryptionError, MalformedError, SignatureError, UnsupportedError
from protocol.testing import seed

MESSAGE = b"renkou-net test message"
INFO = b"renkou-net/1 key wrap\x00test"
CONTENT_KEY = bytes(range(CONTENT_KEY_SIZE))


def _signing(suite: Suite, label: str = "a") -> SigningKey:
    return SigningKey(suite, seed(f"crypto {label} sign {suite.name}", suite.sign_seed_size))


def _kem(suite: Suite, label: str = "a") -> KemPrivateKey:
    return KemPrivateKey(suite, seed(f"crypto {label} kem {suite.name}", suite.kem_seed_size))


# Built once: key derivation is cheap but ML-DSA signing is not free.
KEYS = {s: (_signing(s), _signing(s).verify_key, _signing(s).sign(MESSAGE)) for s in Suite}
suites = pytest.mark.parametrize("suite", list(Suite), ids=lambda s: s.name)


@pytest.mark.parametrize(
    ("suite", "sig", "verify_key", "kem_key", "wrap", "sign_seed", "kem_seed"),
    [
        (Suite.HYBRID, 64 + 3309, 32 + 1952, 32 + 1184, 1120 + 32 + 16, 64, 96),
        (Suite.CLASSIC, 64, 32, 32, 32 + 32 + 16, 32, 32),
    ],
    ids=["HYBRID", "CLASSIC"],
)
def test_sizes(
    suite: Suite, sig: int, verify_key: int, kem_key: int, wrap: int, sign_seed: int, kem_seed: int
) -> None:
    """HYBRID: Ed25519 + ML-DSA-65 and ML-KEM-768+X25519; CLASSIC: Ed25519 and X25519."""
    signing, public, signature = KEYS[suite]
    kem = _kem(suite)
    assert (sig, verify_key, kem_key, wrap) == (
        suite.signature_size,
        suite.verify_key_size,
        suite.kem_key_size,
        suite.wrap_size,
    )
    assert (sign_seed, kem_seed) == (suite.sign_seed_size, suite.kem_seed_size)
    assert sig == len(signature)
    assert verify_key == len(public.raw)
    assert kem_key == len(kem.public_key.raw)
    assert wrap == len(kem.public_key.wrap(CONTENT_KEY, INFO))
    assert KEY_ID_SIZE == len(public.key_id) == len(kem.public_key.key_id)


def test_golden_classic_signature() -> None:
    """Keys are derived from seeds so test vectors can name their keys."""
    key = SigningKey(Suite.CLASSIC, seed("golden", 32))
    assert "e8b68e8021b5be062e0b596553114ff90a1322ccbbc6ac83c99c5a289967bebb" == (
        key.verify_key.raw.hex()
    )
    assert "f6efbcb24b11c932" == key.verify_key.key_id.hex()
    assert (
        "4352eb5084a2a257f7de9489d4ea936c8940c277011087b78ff8bc37367ca3c4"
        "e4056f5aa985693aa3011e311843d16454fefd250c4d0c3b6823b061a1df1f08"
    ) == key.sign(b"renkou-net").hex()


@suites
def test_sign_verify(suite: Suite) -> None:
    """verify() returns None if the signature is valid for the message."""
    _, public, signature = KEYS[suite]
    assert public.verify(signature, MESSAGE) is None


@suites
def test_wrong_key(suite: Suite) -> None:
    """Every verification failure collapses into one opaque SignatureError."""
    _, _, signature = KEYS[suite]
    with pytest.raises(SignatureError):
        _signing(suite, "b").verify_key.verify(signature, MESSAGE)


@suites
def test_wrong_message(suite: Suite) -> None:
    """Every verification failure collapses into one opaque SignatureError."""
    _, public, signature = KEYS[suite]
    with pytest.raises(SignatureError):
        public.verify(signature, MESSAGE + b"!")


@pytest.mark.parametrize(
    ("suite", "offset"),
    [
        (Suite.CLASSIC, 0),
        (Suite.CLASSIC, 63),
        (Suite.HYBRID, 0),
        (Suite.HYBRID, 63),
        (Suite.HYBRID, 64),
        (Suite.HYBRID, 2000),
        (Suite.HYBRID, 64 + 3309 - 1),
    ],
)
def test_tampered_signature(suite: Suite, offset: int) -> None:
    """HYBRID: both signatures must verify; a flipped byte in either part is rejected."""
    _, public, signature = KEYS[suite]
    bad = bytearray(signature)
    bad[offset] ^= 0x01
    with pytest.raises(SignatureError):
        public.verify(bytes(bad), MESSAGE)


@suites
@pytest.mark.parametrize("change", ["truncated", "extended", "empty", "zeros"])
def test_malformed_signature(suite: Suite, change: str) -> None:
    """A signature of the wrong length or content is just an invalid signature."""
    _, public, signature = KEYS[suite]
    bad = {
        "truncated": signature[:-1],
        "extended": signature + b"\x00",
        "empty": b"",
        "zeros": bytes(len(signature)),
    }[change]
    with pytest.raises(SignatureError):
        public.verify(bad, MESSAGE)


def test_hybrid_ed25519_half_alone_is_not_enough() -> None:
    """HYBRID (1): Ed25519 + ML-DSA-65 signatures, both must verify."""
    _, public, signature = KEYS[Suite.HYBRID]
    classic = VerifyKey(Suite.CLASSIC, public.raw[:32])
    assert classic.verify(signature[:64], MESSAGE) is None
    forged = signature[:64] + bytes(3309)
    with pytest.raises(SignatureError):
        public.verify(forged, MESSAGE)


@suites
@pytest.mark.parametrize("raw", [b"\xff", b"\x00"])
def test_garbage_verify_keys(suite: Suite, raw: bytes) -> None:
    """A verify key that is not a valid point still only yields SignatureError."""
    _, _, signature = KEYS[suite]
    key = VerifyKey(suite, raw * suite.verify_key_size)
    with pytest.raises(SignatureError):
        key.verify(signature, MESSAGE)


@suites
def test_key_lengths_checked(suite: Suite) -> None:
    """Keys must have the suite's exact size (MalformedError for public, ValueError for seeds)."""
    with pytest.raises(MalformedError):
        VerifyKey(suite, bytes(suite.verify_key_size + 1))
    with pytest.raises(MalformedError):
        KemPublicKey(suite, bytes(suite.kem_key_size - 1))
    with pytest.raises(ValueError):
        SigningKey(suite, bytes(suite.sign_seed_size - 1))
    with pytest.raises(ValueError):
        KemPrivateKey(suite, bytes(suite.kem_seed_size + 1))


@pytest.mark.parametrize("value", [0, 3, 255])
def test_unknown_suite(value: int) -> None:
    """An unknown crypto suite is UnsupportedError (kept, never guessed at)."""
    with pytest.raises(UnsupportedError):
        Suite.from_byte(value)


@suites
def test_wrap_unwrap(suite: Suite) -> None:
    """HPKE-seal a content key to a recipient, bound to ``info``."""
    kem = _kem(suite)
    wrapped = kem.public_key.wrap(CONTENT_KEY, INFO)
    assert CONTENT_KEY == kem.unwrap(wrapped, INFO)
    assert wrapped != kem.public_key.wrap(CONTENT_KEY, INFO)


@suites
@pytest.mark.parametrize(
    "case", ["wrong-info", "wrong-key", "flipped-enc", "flipped-tag", "truncated", "empty"]
)
def test_unwrap_failures(suite: Suite, case: str) -> None:
    """Every failure to open a wrap collapses into one opaque DecryptionError."""
    kem = _kem(suite)
    wrapped = bytearray(kem.public_key.wrap(CONTENT_KEY, INFO))
    info, opener = INFO, kem
    if case == "wrong-info":
        info = INFO + b"x"
    elif case == "wrong-key":
        opener = _kem(suite, "b")
    elif case == "flipped-enc":
        wrapped[5] ^= 0x80
    elif case == "flipped-tag":
        wrapped[-1] ^= 0x01
    elif case == "truncated":
        del wrapped[-1]
    else:
        wrapped.clear()
    with pytest.raises(DecryptionError):
        opener.unwrap(bytes(wrapped), info)


def test_hybrid_wrap_does_not_open_with_classic_half() -> None:
    """No PQ/classical mixing: a HYBRID wrap does not open under the X25519 key alone."""
    hybrid = _kem(Suite.HYBRID)
    wrapped = hybrid.public_key.wrap(CONTENT_KEY, INFO)
    classic = KemPrivateKey(Suite.CLASSIC, hybrid.seed[:32])
    with pytest.raises(DecryptionError):
        classic.unwrap(wrapped, INFO)


def test_invalid_kem_public_key() -> None:
    """A KEM key that is not a valid point or encapsulation key is MalformedError."""
    # Only HYBRID's ML-KEM part can be invalid: any 32 bytes are an X25519 key (RFC 7748).
    with pytest.raises(MalformedError):
        KemPublicKey(Suite.HYBRID, b"\xff" * Suite.HYBRID.kem_key_size).wrap(CONTENT_KEY, INFO)


@suites
def test_low_order_kem_key_is_malformed(suite: Suite) -> None:
    """A KEM key that is not a valid point or encapsulation key is MalformedError."""
    with pytest.raises(MalformedError):
        KemPublicKey(suite, bytes(suite.kem_key_size)).wrap(CONTENT_KEY, INFO)


def test_seal_open() -> None:
    """ChaCha20-Poly1305 under a single-use key; the AAD binds the batch header."""
    box = seal(CONTENT_KEY, b"frames", b"aad")
    assert b"frames" == open_sealed(CONTENT_KEY, box, b"aad")
    bad = bytearray(box)
    bad[0] ^= 1
    for key, data, aad in [
        (CONTENT_KEY, box, b"aae"),
        (bytes(32), box, b"aad"),
        (CONTENT_KEY, bytes(bad), b"aad"),
        (CONTENT_KEY, box[:-1], b"aad"),
        (CONTENT_KEY, b"", b"aad"),
    ]:
        with pytest.raises(DecryptionError):
            open_sealed(key, data, aad)


def test_crypto_has_no_unused_mac() -> None:
    """The unused crypto.mac() is gone; session.py keeps the HMAC."""
    assert not hasattr(crypto, "mac")


@suites
def test_a_private_key_expands_its_seed_once(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """A node signs and unwraps with the same keys all day: the seeds are expanded once
    per key object (expanding an ML-DSA-65 seed cost about a signature), and the key
    still signs, opens and compares as its seed says."""
    expanded: list[str] = []
    for module, name in (
        (crypto.ed25519.Ed25519PrivateKey, "from_private_bytes"),
        (crypto.mldsa.MLDSA65PrivateKey, "from_seed_bytes"),
        (crypto.x25519.X25519PrivateKey, "from_private_bytes"),
        (crypto.mlkem.MLKEM768PrivateKey, "from_seed_bytes"),
    ):
        real = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda raw, real=real, name=name: expanded.append(name) or real(raw)
        )
    signing, kem = _signing(suite, "once"), _kem(suite, "once")
    for _ in range(3):
        signing.verify_key.verify(signing.sign(MESSAGE), MESSAGE)
        assert kem.unwrap(kem.public_key.wrap(CONTENT_KEY, INFO), INFO) == CONTENT_KEY
    assert len(expanded) == (4 if suite is Suite.HYBRID else 2)
    assert signing == _signing(suite, "once") and hash(signing) == hash(_signing(suite, "once"))
    assert kem == _kem(suite, "once") and "seed" not in repr(signing) + repr(kem)
