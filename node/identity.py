# SPDX-License-Identifier: Apache-2.0
"""The node's own keys and certificates on disk.

Seeds live in ``<data dir>/keys/node.key`` (mode 0600), never in the database, so a
copied database alone signs nothing and a backup of the database never carries the
private keys by accident. Certificates (the node's own, its parent's and the county
root) are public and sit beside it once the administrator has enrolled the PC.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from node.errors import StorageError
from protocol import Certificate, KemPrivateKey, NodeId, SigningKey, Suite, decode_certificate

KEY_FILE = "node.key"


@dataclass(frozen=True)
class NodeIdentity:
    node: NodeId
    signing: SigningKey
    kem: KemPrivateKey

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
    """Generate fresh keys for ``node`` and write them with owner-only permissions."""
    identity = NodeIdentity(node, SigningKey.generate(suite), KemPrivateKey.generate(suite))
    directory = key_dir(data_dir)
    private_directory(directory)
    path = directory / KEY_FILE
    body = {
        "v": 1,
        "node": str(node),
        "suite": int(suite),
        "sign_seed": identity.signing.seed.hex(),
        "kem_seed": identity.kem.seed.hex(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(body, fh)
        fh.flush()
        os.fsync(fh.fileno())
    return identity


def load_identity(data_dir: Path) -> NodeIdentity:
    path = key_dir(data_dir) / KEY_FILE
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        suite = Suite(body["suite"])
        return NodeIdentity(
            NodeId.parse(body["node"]),
            SigningKey(suite, bytes.fromhex(body["sign_seed"])),
            KemPrivateKey(suite, bytes.fromhex(body["kem_seed"])),
        )
    except FileNotFoundError:
        raise StorageError(
            "找不到本节点密钥文件，请先初始化或由管理员恢复",
            f"the node key file {path} is missing; initialise the node or restore it",
            code="keys_missing",
        ) from None
    except (KeyError, ValueError, TypeError):
        raise StorageError(
            "本节点密钥文件已损坏，请由管理员恢复",
            f"the node key file {path} is damaged; ask the administrator to restore it",
            code="keys_damaged",
        ) from None


def load_certificate(data_dir: Path, name: str) -> Certificate | None:
    """A certificate file under keys/ (``node.cert``, ``root.cert``), if enrolled."""
    path = key_dir(data_dir) / name
    return decode_certificate(path.read_bytes()) if path.exists() else None
