# SPDX-License-Identifier: Apache-2.0
"""Secrets at rest: a key file whose contents open only with the operator's secret.

A key file (a node's ``keys/node.key``, the county's ``root.key`` and ``issuing.key``)
holds its seeds sealed under a random 32-byte *file key*. The file key itself is kept in
one or more *locks*, any of which opens it:

* ``passphrase``: sealed under a key derived from the operator's passphrase with
  Argon2id (RFC 9106; argon2-cffi, which the pages' accounts already use), with the
  cost parameters and salt beside it;
* ``keyring``: held by the operating system's keyring (Windows Credential Manager, the
  macOS keychain, Secret Service) under a name recorded here, so an officer on that PC
  is not asked for the passphrase at every command, and a copy of the file elsewhere
  opens only with the passphrase.

Every seal binds the file's public header (what kind of file, whose, which suite) as
associated data, so a sealed part cannot be moved into another file. Each seal uses a
key of its own (a fresh salt through HMAC-SHA-256), so the single-use-key rule of
protocol.crypto.seal holds. Nothing here prints or logs a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw

from node.errors import StorageError
from protocol import DecryptionError
from protocol.crypto import open_sealed, seal

FILE_KEY_SIZE = 32
SALT_SIZE = 16
FORMAT = 2


@dataclass(frozen=True, slots=True)
class KdfCost:
    """Argon2id cost: passes, memory in KiB, lanes."""

    time: int
    memory_kib: int
    lanes: int

    def check(self) -> None:
        """Bounds on what a file may ask for: a damaged or hostile file must not make
        opening it take minutes or gigabytes."""
        if not (1 <= self.time <= 10 and 8 * self.lanes <= self.memory_kib <= 1 << 20):
            raise damaged("Argon2id parameters out of range")
        if not 1 <= self.lanes <= 8:
            raise damaged("Argon2id parameters out of range")


KDF_COST = KdfCost(time=3, memory_kib=64 * 1024, lanes=1)
"""RFC 9106's second recommended setting (64 MiB, 3 passes): about a fifth of a second
on a village PC, once per process that opens the file (the file key is then kept in
memory). Tests lower it (tests/conftest.py), as Django's tests use a fast hasher."""


def damaged(why: str) -> StorageError:
    return StorageError(
        "密钥文件已损坏，请由管理员恢复",
        f"the key file is damaged ({why}); ask the administrator to restore it",
        code="keys_damaged",
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, size: int | None = None) -> bytes:
    if not isinstance(text, str):
        raise damaged("not base64")
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise damaged("not base64") from None
    if size is not None and len(data) != size:
        raise damaged("wrong length")
    return data


def _subkey(key: bytes, salt: bytes) -> bytes:
    return hmac.new(key, b"renkou-net key file\x00" + salt, hashlib.sha256).digest()


def seal_with(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """``salt || ChaCha20-Poly1305(subkey(key, salt), plaintext, aad)``."""
    salt = secrets.token_bytes(SALT_SIZE)
    return salt + seal(_subkey(key, salt), plaintext, aad)


def open_with(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Raises DecryptionError when ``key`` is not the key or anything was changed."""
    if len(blob) < SALT_SIZE + 16:
        raise DecryptionError("sealed part too short")
    return open_sealed(_subkey(key, blob[:SALT_SIZE]), blob[SALT_SIZE:], aad)


def passphrase_key(passphrase: str, salt: bytes, cost: KdfCost) -> bytes:
    """The 32-byte key Argon2id derives from ``passphrase`` (NFC-normalised UTF-8)."""
    import unicodedata

    cost.check()
    try:
        return hash_secret_raw(
            unicodedata.normalize("NFC", passphrase).encode("utf-8"),
            salt,
            time_cost=cost.time,
            memory_cost=cost.memory_kib,
            parallelism=cost.lanes,
            hash_len=32,
            type=Type.ID,
        )
    except HashingError:
        raise damaged("Argon2id refused its parameters") from None


def passphrase_lock(file_key: bytes, passphrase: str, aad: bytes) -> dict[str, Any]:
    salt, cost = secrets.token_bytes(SALT_SIZE), KDF_COST
    derived = passphrase_key(passphrase, salt, cost)
    return {
        "kind": "passphrase",
        "kdf": "argon2id",
        "t": cost.time,
        "m": cost.memory_kib,
        "p": cost.lanes,
        "salt": b64(salt),
        "wrap": b64(seal_with(derived, file_key, aad)),
    }


def open_passphrase_lock(lock: dict[str, Any], passphrase: str, aad: bytes) -> bytes | None:
    """The file key, or None when ``passphrase`` is not the one this lock was made with."""
    if lock.get("kdf") != "argon2id":
        raise damaged("unknown key derivation")
    try:
        cost = KdfCost(int(lock["t"]), int(lock["m"]), int(lock["p"]))
        salt, wrap = unb64(lock["salt"], SALT_SIZE), unb64(lock["wrap"])
    except (KeyError, TypeError, ValueError):
        raise damaged("passphrase lock") from None
    try:
        return open_with(passphrase_key(passphrase, salt, cost), wrap, aad)
    except DecryptionError:
        return None


@dataclass(frozen=True)
class SealedFile:
    """A key file: its public header, its sealed secrets and its locks."""

    kind: str
    header: dict[str, Any]
    sealed: bytes
    locks: list[dict[str, Any]]

    @property
    def aad(self) -> bytes:
        """The header as associated data of every seal in this file."""
        return json.dumps({"kind": self.kind, **self.header}, sort_keys=True).encode()

    def to_bytes(self) -> bytes:
        body = {
            "v": FORMAT,
            "kind": self.kind,
            **self.header,
            "secrets": b64(self.sealed),
            "locks": self.locks,
        }
        return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"

    @classmethod
    def parse(cls, raw: bytes, kind: str) -> SealedFile:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise damaged("not JSON") from None
        if not isinstance(body, dict) or body.get("kind") != kind or body.get("v") != FORMAT:
            raise damaged(f"not a sealed {kind} file")
        locks = body.get("locks")
        if not isinstance(locks, list) or not locks or not all(isinstance(x, dict) for x in locks):
            raise damaged("no locks")
        header = {k: v for k, v in body.items() if k not in ("v", "kind", "secrets", "locks")}
        return cls(kind, header, unb64(body.get("secrets")), locks)

    def open(self, file_key: bytes) -> dict[str, Any]:
        try:
            secrets_ = json.loads(open_with(file_key, self.sealed, self.aad))
        except DecryptionError:
            raise damaged("the secrets do not open with the file key") from None
        if not isinstance(secrets_, dict):
            raise damaged("secrets")
        return secrets_


def new_sealed_file(
    kind: str, header: dict[str, Any], secrets_: dict[str, Any], passphrase: str
) -> tuple[SealedFile, bytes]:
    """A new file holding ``secrets_``, locked by ``passphrase``; returns it and its key."""
    file_key = secrets.token_bytes(FILE_KEY_SIZE)
    draft = SealedFile(kind, header, b"", [])
    sealed = seal_with(file_key, json.dumps(secrets_).encode(), draft.aad)
    lock = passphrase_lock(file_key, passphrase, draft.aad)
    return SealedFile(kind, header, sealed, [lock]), file_key
