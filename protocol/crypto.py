# SPDX-License-Identifier: Apache-2.0
"""The one module that touches ``cryptography``'s primitives: suites, keys, sign, wrap, seal.

Two suites, named by a byte in every signed or sealed object:

* ``HYBRID`` (1, default): Ed25519 + ML-DSA-65 signatures, both must verify; HPKE
  (RFC 9180) base mode with ML-KEM-768+X25519, HKDF-SHA256, ChaCha20-Poly1305. These
  records are kept ten years and more, so harvest-now-decrypt-later is a real threat.
* ``CLASSIC`` (2): Ed25519; HPKE with DHKEM(X25519), HKDF-SHA256, ChaCha20-Poly1305.

Keys are derived from seeds (Ed25519 32 B, ML-DSA 32 B, ML-KEM 64 B, X25519 32 B) so a key
file is just its seeds and test vectors can name their keys. Every verification failure
collapses into one opaque :class:`SignatureError` / :class:`DecryptionError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from secrets import token_bytes

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa, mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from protocol.errors import DecryptionError, MalformedError, SignatureError, UnsupportedError

Random = Callable[[int], bytes]

ED25519_SIG = 64
MLDSA65_SIG = 3309
ED25519_PK = 32
MLDSA65_PK = 1952
MLKEM768_PK = 1184
X25519_PK = 32
CONTENT_KEY_SIZE = 32
AEAD_TAG = 16
KEY_ID_SIZE = 8
_ZERO_NONCE = bytes(12)


class Suite(IntEnum):
    HYBRID = 1
    CLASSIC = 2

    @classmethod
    def from_byte(cls, value: int) -> Suite:
        try:
            return cls(value)
        except ValueError:
            raise UnsupportedError(f"unknown crypto suite {value}") from None

    @property
    def signature_size(self) -> int:
        return ED25519_SIG + (MLDSA65_SIG if self is Suite.HYBRID else 0)

    @property
    def verify_key_size(self) -> int:
        return ED25519_PK + (MLDSA65_PK if self is Suite.HYBRID else 0)

    @property
    def kem_key_size(self) -> int:
        return X25519_PK + (MLKEM768_PK if self is Suite.HYBRID else 0)

    @property
    def sign_seed_size(self) -> int:
        return 64 if self is Suite.HYBRID else 32

    @property
    def kem_seed_size(self) -> int:
        return 96 if self is Suite.HYBRID else 32

    @property
    def wrap_size(self) -> int:
        """Bytes of one wrapped content key (HPKE enc + sealed key + tag)."""
        enc = hpke.KEM.MLKEM768_X25519 if self is Suite.HYBRID else hpke.KEM.X25519
        return int(enc.enc_length()) + CONTENT_KEY_SIZE + AEAD_TAG

    def _hpke(self) -> hpke.Suite:
        kem = hpke.KEM.MLKEM768_X25519 if self is Suite.HYBRID else hpke.KEM.X25519
        return hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass(frozen=True, slots=True)
class VerifyKey:
    """A public signing key of one suite: Ed25519 (32 B) then, for HYBRID, ML-DSA-65."""

    suite: Suite
    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.raw) != self.suite.verify_key_size:
            raise MalformedError(
                f"verify key for suite {self.suite.name} must be {self.suite.verify_key_size} bytes"
            )

    def verify(self, signature: bytes, message: bytes) -> None:
        """Return None if ``signature`` is valid for ``message``; raise SignatureError if not."""
        if len(signature) != self.suite.signature_size:
            raise SignatureError("signature is invalid")
        try:
            ed = ed25519.Ed25519PublicKey.from_public_bytes(self.raw[:ED25519_PK])
            ed.verify(signature[:ED25519_SIG], message)
            if self.suite is Suite.HYBRID:
                pq = mldsa.MLDSA65PublicKey.from_public_bytes(self.raw[ED25519_PK:])
                pq.verify(signature[ED25519_SIG:], message)
        except (InvalidSignature, ValueError):
            raise SignatureError("signature is invalid") from None

    @property
    def key_id(self) -> bytes:
        return sha256(bytes([self.suite]) + self.raw)[:KEY_ID_SIZE]


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private signing key, kept as its seed so key files and vectors stay small."""

    suite: Suite
    seed: bytes = field(repr=False)
    _opened: tuple[ed25519.Ed25519PrivateKey, mldsa.MLDSA65PrivateKey | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """The keys the seed expands to, once expanded (see :meth:`_keys`)."""

    def __post_init__(self) -> None:
        if len(self.seed) != self.suite.sign_seed_size:
            raise ValueError(
                f"signing seed for {self.suite.name} must be {self.suite.sign_seed_size} B"
            )

    @classmethod
    def generate(cls, suite: Suite = Suite.HYBRID, random: Random = token_bytes) -> SigningKey:
        return cls(suite, random(suite.sign_seed_size))

    def _keys(self) -> tuple[ed25519.Ed25519PrivateKey, mldsa.MLDSA65PrivateKey | None]:
        """The seed expanded, once per key object: a node signs with the same key all
        day (every hello, ack, batch and hop), and expanding an ML-DSA-65 seed costs
        about as much as a signature. The expanded keys live exactly as long as this
        object, which holds the seed anyway."""
        opened = self._opened
        if opened is None:
            ed = ed25519.Ed25519PrivateKey.from_private_bytes(self.seed[:32])
            pq = (
                mldsa.MLDSA65PrivateKey.from_seed_bytes(self.seed[32:])
                if self.suite is Suite.HYBRID
                else None
            )
            opened = (ed, pq)
            object.__setattr__(self, "_opened", opened)
        return opened

    def sign(self, message: bytes) -> bytes:
        ed, pq = self._keys()
        sig = ed.sign(message)
        return sig + pq.sign(message) if pq is not None else sig

    @property
    def verify_key(self) -> VerifyKey:
        ed, pq = self._keys()
        raw = ed.public_key().public_bytes_raw()
        if pq is not None:
            raw += pq.public_key().public_bytes_raw()
        return VerifyKey(self.suite, raw)


@dataclass(frozen=True, slots=True)
class KemPublicKey:
    """A recipient's public key-agreement key: X25519 (32 B), then ML-KEM-768 for HYBRID."""

    suite: Suite
    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.raw) != self.suite.kem_key_size:
            raise MalformedError(
                f"KEM key for suite {self.suite.name} must be {self.suite.kem_key_size} bytes"
            )

    @property
    def key_id(self) -> bytes:
        """Short recipient id in each key wrap, so a reader never has to try-decrypt."""
        return sha256(bytes([self.suite]) + self.raw)[:KEY_ID_SIZE]

    def _hpke_key(self) -> hpke.MLKEM768X25519PublicKey | x25519.X25519PublicKey:
        try:
            xk = x25519.X25519PublicKey.from_public_bytes(self.raw[:X25519_PK])
            if self.suite is Suite.CLASSIC:
                return xk
            mk = mlkem.MLKEM768PublicKey.from_public_bytes(self.raw[X25519_PK:])
            return hpke.MLKEM768X25519PublicKey(mk, xk)
        except ValueError:
            raise MalformedError(
                "KEM public key is not a valid point or encapsulation key"
            ) from None

    def wrap(self, secret: bytes, info: bytes) -> bytes:
        """HPKE-seal ``secret`` (a content key) to this recipient, bound to ``info``.

        Raises:
            MalformedError: the key is a low-order point the KEM refuses.
        """
        try:
            return self.suite._hpke().encrypt(secret, self._hpke_key(), info=info)
        except ValueError:
            raise MalformedError("KEM public key is a low-order or invalid point") from None


@dataclass(frozen=True, slots=True)
class KemPrivateKey:
    """A private key-agreement key, kept as its seed."""

    suite: Suite
    seed: bytes = field(repr=False)
    _opened: tuple[x25519.X25519PrivateKey, mlkem.MLKEM768PrivateKey | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """The keys the seed expands to, once expanded (see :meth:`_keys`)."""

    def __post_init__(self) -> None:
        if len(self.seed) != self.suite.kem_seed_size:
            raise ValueError(f"KEM seed for {self.suite.name} must be {self.suite.kem_seed_size} B")

    @classmethod
    def generate(cls, suite: Suite = Suite.HYBRID, random: Random = token_bytes) -> KemPrivateKey:
        return cls(suite, random(suite.kem_seed_size))

    def _keys(self) -> tuple[x25519.X25519PrivateKey, mlkem.MLKEM768PrivateKey | None]:
        """The seed expanded, once per key object (as :meth:`SigningKey._keys`)."""
        opened = self._opened
        if opened is None:
            xk = x25519.X25519PrivateKey.from_private_bytes(self.seed[:32])
            mk = (
                mlkem.MLKEM768PrivateKey.from_seed_bytes(self.seed[32:])
                if self.suite is Suite.HYBRID
                else None
            )
            opened = (xk, mk)
            object.__setattr__(self, "_opened", opened)
        return opened

    @property
    def public_key(self) -> KemPublicKey:
        xk, mk = self._keys()
        raw = xk.public_key().public_bytes_raw()
        if mk is not None:
            raw += mk.public_key().public_bytes_raw()
        return KemPublicKey(self.suite, raw)

    def unwrap(self, wrapped: bytes, info: bytes) -> bytes:
        xk, mk = self._keys()
        key = xk if mk is None else hpke.MLKEM768X25519PrivateKey(mk, xk)
        try:
            return self.suite._hpke().decrypt(wrapped, key, info=info)
        except (InvalidTag, ValueError):
            raise DecryptionError("cannot open the key wrap") from None


def seal(content_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """ChaCha20-Poly1305 with a fresh single-use key, so a fixed zero nonce is safe (as age)."""
    return ChaCha20Poly1305(content_key).encrypt(_ZERO_NONCE, plaintext, aad)


def open_sealed(content_key: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return ChaCha20Poly1305(content_key).decrypt(_ZERO_NONCE, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise DecryptionError("cannot open the sealed payloads") from None
