# SPDX-License-Identifier: Apache-2.0
"""A node's backup as it lies on a USB stick: sealed, and carrying a signed checkpoint.

A plain SQLite copy on a stick is every card of the village in the clear, and whatever
is appended to its log there is restored, pushed upstream under the village's signature
and merged by the county (issue 13, fact 3). So a backup file is:

``"RKBK" | u8 version (1) | blob32(checkpoint) | u8 n | n × (key id [8] | blob16(wrap))
| blob32(sealed database)``

* the **checkpoint** is a signed object (SPEC.md §8.1, type ``backup_checkpoint``,
  never sent over sync) made with the node's own signing key over the node, its log,
  the head seq and hash, the records hash and SHA-256 of the database bytes: restore
  checks it with the node's own key, so nothing can be added or changed on the stick;
* the database bytes, compressed, are sealed under a fresh content key, which is
  wrapped (HPKE, SPEC.md §4.5) for the node's own KEM key and for the county node's
  (the escrow key: a replacement PC can open it with the county's help). The seal's
  associated data and the wraps' info bind the checkpoint, so a sealed database cannot
  be put under another checkpoint.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from node.errors import StorageError
from protocol import KemPrivateKey, KemPublicKey, ProtocolError, SigningKey, VerifyKey
from protocol.crypto import KEY_ID_SIZE, open_sealed, seal
from protocol.signed import SignedObject, decode_signed, sign_object

MAGIC = b"RKBK"
VERSION = 1
WRAP_INFO = b"renkou-net/1 backup key\x00"
MAX_DATABASE = 4 << 30
MAX_RECIPIENTS = 8


@dataclass(frozen=True, slots=True)
class Checkpoint:
    node: str
    log: str
    seq: int
    head: str
    records: str
    database: str
    at: int
    signed: SignedObject


def refused(zh: str, en: str, code: str = "backup_invalid") -> StorageError:
    return StorageError(f"{zh}，未做任何更改", f"{en}; nothing was changed", code=code)


def sign_checkpoint(key: SigningKey, body: dict[str, Any]) -> bytes:
    return sign_object({"v": 1, "type": "backup_checkpoint", **body}, key)


def seal_backup(database: bytes, checkpoint: bytes, recipients: list[KemPublicKey]) -> bytes:
    """The backup file holding ``database``, readable by each of ``recipients``."""
    bind = hashlib.sha256(checkpoint).digest()
    content_key = secrets.token_bytes(32)
    sealed = seal(content_key, zlib.compress(database, 6), bind)
    out = [MAGIC, bytes([VERSION]), struct.pack(">I", len(checkpoint)), checkpoint]
    out.append(bytes([len(recipients)]))
    for kem in recipients:
        wrap = kem.wrap(content_key, WRAP_INFO + bind)
        out += [kem.key_id, struct.pack(">H", len(wrap)), wrap]
    out += [struct.pack(">Q", len(sealed)), sealed]
    return b"".join(out)


def open_backup(raw: bytes, kem: KemPrivateKey, signer: VerifyKey) -> tuple[bytes, Checkpoint]:
    """The database bytes and the verified checkpoint of a backup file.

    Raises:
        StorageError: ``backup_unsealed`` (a plain copy, such as a bare SQLite file),
            ``backup_other_node`` (not sealed for us), ``backup_invalid`` (damaged),
            ``backup_tampered``
            (the checkpoint is not this node's, or does not match the contents).
    """
    if not raw.startswith(MAGIC):
        raise refused(
            "这不是本系统加密并签名的备份（可能是被改动过的普通副本）",
            "this is not a sealed, signed backup of renkou-net (a plain copy, which "
            "anyone could have changed on the stick), so it is not restored",
            "backup_unsealed",
        )
    try:
        checkpoint_raw, wraps, sealed = _split(raw)
    except (struct.error, IndexError, ValueError):
        raise refused("备份文件已损坏", "the backup file is damaged") from None
    wrap = wraps.get(kem.public_key.key_id)
    if wrap is None:
        raise refused(
            "本机的密钥不能打开这份备份（它不是本节点的备份）",
            "this node's key cannot open the backup: it is another node's",
            "backup_other_node",
        )
    checkpoint = _checkpoint(checkpoint_raw, signer)
    bind = hashlib.sha256(checkpoint_raw).digest()
    try:
        content_key = kem.unwrap(wrap, WRAP_INFO + bind)
        database = zlib.decompressobj().decompress(
            open_sealed(content_key, sealed, bind), MAX_DATABASE
        )
    except (ProtocolError, zlib.error):
        raise refused(
            "备份文件已损坏或被改动", "the backup file is damaged or was changed"
        ) from None
    if hashlib.sha256(database).hexdigest() != checkpoint.database:
        raise refused(
            "备份内容与其签名检查点不符（备份在存储介质上被改动过）",
            "the backup's contents do not match its signed checkpoint: it was changed on the stick",
            "backup_tampered",
        )
    return database, checkpoint


def _split(raw: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    if raw[4] != VERSION:
        raise ValueError("version")
    pos = 5
    (n,) = struct.unpack_from(">I", raw, pos)
    checkpoint = raw[pos + 4 : pos + 4 + n]
    pos += 4 + n
    count = raw[pos]
    pos += 1
    if count > MAX_RECIPIENTS:
        raise ValueError("recipients")
    wraps: dict[bytes, bytes] = {}
    for _ in range(count):
        key_id = raw[pos : pos + KEY_ID_SIZE]
        (size,) = struct.unpack_from(">H", raw, pos + KEY_ID_SIZE)
        wraps[key_id] = raw[pos + KEY_ID_SIZE + 2 : pos + KEY_ID_SIZE + 2 + size]
        pos += KEY_ID_SIZE + 2 + size
    (size,) = struct.unpack_from(">Q", raw, pos)
    sealed = raw[pos + 8 : pos + 8 + size]
    if len(checkpoint) != n or len(sealed) != size or pos + 8 + size != len(raw):
        raise ValueError("lengths")
    return checkpoint, wraps, sealed


def _checkpoint(raw: bytes, signer: VerifyKey) -> Checkpoint:
    try:
        signed = decode_signed(raw, expect_type="backup_checkpoint")
        signed.verify(signer)
        body = signed.body
        return Checkpoint(
            node=str(body["node"]),
            log=str(body["log"]),
            seq=int(body["seq"]),
            head=str(body["head"]),
            records=str(body["records"]),
            database=str(body["database"]),
            at=int(body["at"]),
            signed=signed,
        )
    except (ProtocolError, KeyError, TypeError, ValueError):
        raise refused(
            "备份的检查点不是本节点签名的",
            "the backup's checkpoint is not signed by this node",
            "backup_tampered",
        ) from None
