# SPDX-License-Identifier: Apache-2.0
"""A PC replaces its keys (``renkou node rotate-keys``), the old key vouching for the new.

1. The node generates new keys and keeps them sealed as ``keys/node.key.next`` (mode
   0600, under the operator's passphrase, the database key unchanged); it signs a
   ``key_rotation`` (protocol/rotation.py) with its certified key and sends it to the
   county (``POST /keys/v1/rotations``), which keeps it after checking the signature
   against the certificate it names (node/server/published.py).
2. The administrator certifies the new keys (``renkou keys rotate``), and the new
   certificate is published at the county node like a renewed one.
3. The node fetches it before a sync round (node/keys/renewal.py): it is for the keys
   waiting in ``node.key.next``, so those become ``node.key``; the old key file and
   certificate are kept as ``node.key.retired`` and ``node.cert.retired`` (backups made
   before the rotation are sealed for the old key, and a server process still running
   with the old key answers with the old certificate until it restarts).

The old certificate stays valid until it expires: rotation is upkeep, not a response
to a loss; a stolen or compromised PC is revoked and its replacement enrolled.
"""

from __future__ import annotations

import os
from pathlib import Path

import requests

from node.errors import NodeError
from node.identity import KIND, NodeIdentity, key_dir, load_identity, seal_identity
from node.keys.files import SECRET_MODE, check_private, write_atomic
from node.keys.sealed import SealedFile, damaged
from node.keys.unlock import new_passphrase, unlock
from protocol import Certificate, KemPrivateKey, NodeId, SigningKey, Suite, VerifyKey
from protocol.rotation import make_rotation

NEXT_KEY = "node.key.next"
REQUEST = "rotation.signed"
ROTATIONS_PATH = "/keys/v1/rotations"


def start_rotation(data_dir: Path, own: Certificate, now_ms: int) -> bytes:
    """New keys waiting in ``node.key.next`` and the signed request for them."""
    identity = load_identity(data_dir)
    if identity.signing.verify_key.raw != own.verify_key.raw:
        raise NodeError(
            "本机密钥与本机证书不符，无法轮换",
            "this PC's key is not the one its certificate names; it cannot rotate",
            code="keys_mismatch",
        )
    suite = identity.suite
    new = NodeIdentity(
        identity.node, SigningKey.generate(suite), KemPrivateKey.generate(suite), identity.db_key
    )
    sealed = seal_identity(new, new_passphrase(f"新节点密钥 keys/{NEXT_KEY} ({identity.node})"))
    write_atomic(key_dir(data_dir) / NEXT_KEY, sealed, mode=SECRET_MODE)
    request = make_rotation(
        identity.signing, own.node, own.serial, new.signing.verify_key, new.kem.public_key, now_ms
    )
    write_atomic(key_dir(data_dir) / REQUEST, request)
    return request


def send_rotation(url: str, request: bytes, *, timeout_s: float = 30.0) -> None:
    """Hand the request to the county.

    Raises:
        NodeError: ``rotation_not_sent`` with the county's answer.
    """
    try:
        resp = requests.post(url.rstrip("/") + ROTATIONS_PATH, data=request, timeout=timeout_s)
    except requests.RequestException as exc:
        raise NodeError(
            "无法连接县级节点，轮换请求未送出（已保存在 keys/rotation.signed）",
            f"the county was not reachable ({type(exc).__name__}); the request is kept "
            "in keys/rotation.signed",
            code="rotation_not_sent",
        ) from None
    if resp.status_code != 202:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        said = body if isinstance(body, dict) else {}
        raise NodeError(
            f"县级节点拒绝了轮换请求：{said.get('zh', resp.status_code)}",
            f"the county refused the rotation: {said.get('code', '')} "
            f"{said.get('en', resp.status_code)}",
            code="rotation_refused",
        )


def _open_next(data_dir: Path) -> NodeIdentity | None:
    path = key_dir(data_dir) / NEXT_KEY
    if not path.exists():
        return None
    check_private(path)
    raw = path.read_bytes()
    sealed = SealedFile.parse(raw, KIND)
    body = unlock(raw, sealed, f"新节点密钥 keys/{NEXT_KEY}")
    try:
        suite = Suite(int(sealed.header["suite"]))
        return NodeIdentity(
            NodeId.parse(str(sealed.header["node"])),
            SigningKey(suite, bytes.fromhex(body["sign_seed"])),
            KemPrivateKey(suite, bytes.fromhex(body["kem_seed"])),
            bytes.fromhex(body["db_key"]),
        )
    except (KeyError, ValueError, TypeError):
        raise damaged(NEXT_KEY) from None


def take_rotated(data_dir: Path, cert: Certificate) -> bool:
    """Swap in the waiting keys if ``cert`` certifies them; False when it does not.

    The old key file and certificate are kept as ``*.retired``; the caller then
    installs ``cert`` as ``node.cert``.
    """
    waiting = _open_next(data_dir)
    if waiting is None or waiting.node != cert.node:
        return False
    if (
        waiting.signing.verify_key.raw != cert.verify_key.raw
        or waiting.kem.public_key.raw != cert.kem_key.raw
    ):
        return False
    keys = key_dir(data_dir)
    write_atomic(keys / "node.cert.retired", (keys / "node.cert").read_bytes())
    os.replace(keys / "node.key", keys / "node.key.retired")
    os.replace(keys / NEXT_KEY, keys / "node.key")
    return True


def certificate_of_key(data_dir: Path, own: Certificate, key: VerifyKey) -> Certificate:
    """The certificate a server answers with: the one of the key it signs with (a
    process started before a rotation keeps the old key until it restarts)."""
    if own.verify_key.raw == key.raw:
        return own
    from node.sync.trust import load_certificate

    retired = load_certificate(data_dir, "node.cert.retired")
    if retired is not None and retired.verify_key.raw == key.raw:
        return retired
    return own


__all__ = ["certificate_of_key", "send_rotation", "start_rotation", "take_rotated"]
