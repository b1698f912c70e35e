# SPDX-License-Identifier: Apache-2.0
"""The node's own keys and certificates on disk.

Seeds live in ``<data dir>/keys/node.key`` (mode 0600), never in the database, so a
copied database alone signs nothing and a backup of the database never carries the
private keys by accident. The file is sealed (node/keys/sealed.py): its seeds, and the
key of the node's encrypted database, open only with the operator's passphrase, the
OS keyring of this PC, or the service's systemd credential (node/keys/unlock.py), so a
data dir copied to another PC signs nothing and syncs as nobody. A key file that other
users of the PC may read is refused at start-up. Certificates (the node's own, its
parent's and the county root) are public and sit beside it once the PC is enrolled.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from node.errors import StorageError
from node.keys import os_keyring
from node.keys.files import check_private, write_atomic, write_new
from node.keys.sealed import SealedFile, new_sealed_file
from node.keys.unlock import new_passphrase, remember, unlock
from protocol import Certificate, KemPrivateKey, NodeId, SigningKey, Suite, decode_certificate

KEY_FILE = "node.key"


KIND = "node-key"
DB_KEY_SIZE = 32


@dataclass(frozen=True)
class NodeIdentity:
    node: NodeId
    signing: SigningKey
    kem: KemPrivateKey
    db_key: bytes = field(default=b"", repr=False)
    """The key of the node's encrypted database (node/store/database.py)."""

    @property
    def suite(self) -> Suite:
        return self.signing.suite


def key_dir(data_dir: Path) -> Path:
    return data_dir / "keys"


def private_directory(directory: Path) -> None:
    """Create ``directory`` (and parents) readable by the node's user alone.

    The data dir holds the node's database of people's cards; a 0755 directory and a
    0644 file would let every account on a shared township PC read them. An existing
    directory is tightened too: ``node init`` into a directory the installer made.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(directory, 0o700)
    except PermissionError as exc:
        raise StorageError(
            f"无法将目录 {directory} 设为仅本用户可读写，请换一个属于本用户的目录",
            f"cannot make {directory} private to this user; use a directory this user owns",
            code="not_private",
        ) from exc


def private_file(path: Path) -> None:
    """Create an empty ``path`` with mode 0600 (SQLite then opens it and gives its -wal
    and -shm files the same mode), so no window exists in which it is world-readable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def create_identity(data_dir: Path, node: NodeId, suite: Suite = Suite.HYBRID) -> NodeIdentity:
    """Generate fresh keys for ``node`` and write them sealed, owner-only.

    Raises:
        StorageError: no passphrase to lock them with (node/keys/unlock.py).
    """
    identity = NodeIdentity(
        node,
        SigningKey.generate(suite),
        KemPrivateKey.generate(suite),
        secrets.token_bytes(DB_KEY_SIZE),
    )
    passphrase = new_passphrase(_what(node))
    directory = key_dir(data_dir)
    private_directory(directory)
    write_new(directory / KEY_FILE, seal_identity(identity, passphrase))
    return identity


def _what(node: NodeId | None) -> str:
    return f"节点密钥 keys/{KEY_FILE}" + (f" ({node})" if node is not None else "")


def seal_identity(identity: NodeIdentity, passphrase: str) -> bytes:
    """The sealed key file of ``identity``, locked by ``passphrase`` (and by this PC's
    keyring, where there is one)."""
    header = {"node": str(identity.node), "suite": int(identity.suite)}
    body = {
        "sign_seed": identity.signing.seed.hex(),
        "kem_seed": identity.kem.seed.hex(),
        "db_key": identity.db_key.hex(),
    }
    sealed, file_key = new_sealed_file(KIND, header, body, passphrase)
    lock = os_keyring.store(f"{KIND} {identity.node}", file_key)
    if lock is not None:
        sealed = replace(sealed, locks=[*sealed.locks, lock])
    raw = sealed.to_bytes()
    remember(raw, file_key)
    return raw


def load_identity(data_dir: Path) -> NodeIdentity:
    """The node's keys, opened with the operator's secret.

    Raises:
        StorageError: ``keys_missing``, ``keys_damaged``, ``key_file_mode`` (others may
            read it), ``keys_unprotected`` (a plaintext file of an older version),
            ``locked`` or ``wrong_passphrase``.
    """
    path = key_dir(data_dir) / KEY_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StorageError(
            "找不到本节点密钥文件，请先初始化或由管理员恢复",
            f"the node key file {path} is missing; initialise the node or restore it",
            code="keys_missing",
        ) from None
    check_private(path)
    if _legacy(raw) is not None:
        raise StorageError(
            "本节点密钥文件未加密（旧版本），请先运行 renkou node protect-keys 设置口令",
            f"the node key file {path} is not encrypted (an older version); run "
            "`renkou node protect-keys` to lock it with a passphrase",
            code="keys_unprotected",
        )
    sealed = SealedFile.parse(raw, KIND)
    try:
        node = NodeId.parse(str(sealed.header.get("node")))
        suite = Suite(int(sealed.header.get("suite", 0)))
    except (ValueError, TypeError):
        raise StorageError(
            "本节点密钥文件已损坏，请由管理员恢复",
            f"the node key file {path} is damaged; ask the administrator to restore it",
            code="keys_damaged",
        ) from None
    body = unlock(raw, sealed, _what(node))
    try:
        return NodeIdentity(
            node,
            SigningKey(suite, bytes.fromhex(body["sign_seed"])),
            KemPrivateKey(suite, bytes.fromhex(body["kem_seed"])),
            bytes.fromhex(body["db_key"]),
        )
    except (KeyError, ValueError, TypeError):
        raise StorageError(
            "本节点密钥文件已损坏，请由管理员恢复",
            f"the node key file {path} is damaged; ask the administrator to restore it",
            code="keys_damaged",
        ) from None


def _legacy(raw: bytes) -> NodeIdentity | None:
    """A plaintext key file of version 1 (seeds in hex), if ``raw`` is one."""
    try:
        body = json.loads(raw)
        if not isinstance(body, dict) or body.get("v") != 1:
            return None
        suite = Suite(body["suite"])
        return NodeIdentity(
            NodeId.parse(body["node"]),
            SigningKey(suite, bytes.fromhex(body["sign_seed"])),
            KemPrivateKey(suite, bytes.fromhex(body["kem_seed"])),
        )
    except (KeyError, ValueError, TypeError, UnicodeDecodeError):
        return None


def protect_legacy(data_dir: Path) -> NodeIdentity:
    """Seal a plaintext key file of version 1 in place (``renkou node protect-keys``).

    Its database was written without a key, so the identity keeps an empty database key
    (node/store/database.py then opens it as before) until the node is re-keyed.

    Raises:
        StorageError: the file is not a plaintext key file, or no passphrase was given.
    """
    path = key_dir(data_dir) / KEY_FILE
    legacy = _legacy(path.read_bytes()) if path.exists() else None
    if legacy is None:
        raise StorageError(
            "本节点密钥文件不是未加密的旧版本，无需转换",
            f"{path} is not a plaintext key file of an older version; nothing to do",
            code="keys_not_legacy",
        )
    write_atomic(path, seal_identity(legacy, new_passphrase(_what(legacy.node))), mode=0o600)
    return legacy


def load_certificate(data_dir: Path, name: str) -> Certificate | None:
    """A certificate file under keys/ (``node.cert``, ``root.cert``), if enrolled."""
    path = key_dir(data_dir) / name
    return decode_certificate(path.read_bytes()) if path.exists() else None
