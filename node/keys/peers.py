# SPDX-License-Identifier: Apache-2.0
"""Peer counties: cross-certificates of other counties' roots (issue 14 item 4).

The floating-population exchange has one county read what another county's nodes sign.
Trust between counties is explicit and one hop only (SPEC.md §8.2): our root certifies
the peer's root keys (``renkou keys trust --peer-root FILE``), after the two
administrators have compared the root's fingerprint by phone (protocol/fingerprints.py);
a certificate of the peer's node then verifies as ``[its certificate, our
cross-certificate]`` under our own root. A certificate from a county we have not
cross-certified is refused with a message naming its root.

The cross-certificate is signed by our **root** (node/keys/offline_root.py: trusting
another county is a root's decision, not the issuing key's). A peer's nodes are
certified by its issuing key, so its issuing certificate is kept beside the
cross-certificate and a peer node's chain is ``[its certificate, the peer's issuing
certificate, our cross-certificate]`` (three, the most SPEC.md §8.2 allows).

Where the files live: the administrator's ``peers/<code>.cert`` and, at the county node
(from ``--county-data-dir``), ``keys/peers/<code>.cert`` and
``keys/peers/<code>.issuing.cert``; all public (0644).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from node.errors import NodeError
from node.identity import key_dir
from node.keys.files import write_atomic
from protocol import (
    Certificate,
    CertificateError,
    NodeId,
    ProtocolError,
    SigningKey,
    decode_certificate,
    issue_certificate,
    verify_chain,
)
from protocol.fingerprints import fingerprint
from protocol.ids import Role

PEERS_DIR = "peers"
ISSUING_SUFFIX = ".issuing.cert"
YEAR_MS = 365 * 86_400_000
MAX_ROOT_FILE = 64 * 1024


@lru_cache(maxsize=256)
def _decoded(raw: bytes) -> Certificate:
    return decode_certificate(raw)


def _refused(code: str, zh: str, en: str) -> NodeError:
    return NodeError(zh, en, code=code)


def read_peer_root(raw: bytes, own_root: Certificate, now_ms: int) -> Certificate:
    """A peer county's root certificate, checked as far as it can be without a phone
    call: a self-signed county root, its signature and validity good, another county.

    Raises:
        NodeError: ``bad_peer_root`` with what is wrong.
    """
    try:
        if len(raw) > MAX_ROOT_FILE:
            raise CertificateError(f"a root certificate has at most {MAX_ROOT_FILE} bytes")
        peer = _decoded(bytes(raw))
        if peer.node.role is not Role.COUNTY or not peer.is_self_signed:
            raise CertificateError(f"{peer.node}'s certificate is not a county's root")
        verify_chain([peer], [peer], now_ms)  # its self-signature and validity
    except ProtocolError as exc:
        raise _refused(
            "bad_peer_root",
            f"对方县的根证书无效：{exc}",
            f"the peer county's root certificate is not valid: {exc}",
        ) from None
    if peer.node.county_code == own_root.node.county_code:
        raise _refused(
            "bad_peer_root",
            f"{peer.node} 是本县自己，不是邻县",
            f"{peer.node} is this county itself, not a peer county",
        )
    return peer


def cross_certify(
    directory: Path,
    signing: SigningKey,
    own_root: Certificate,
    peer: Certificate,
    serial: int,
    now_ms: int,
    years: int = 2,
) -> Certificate:
    """Our root certifies ``peer``'s root keys; kept as ``peers/<code>.cert``.

    Valid from a day ago for ``years``, never beyond the peer root's own end.
    """
    raw = issue_certificate(
        signing,
        own_root.node,
        serial=serial,
        node=peer.node,
        verify_key=peer.verify_key,
        kem_key=peer.kem_key,
        not_before=now_ms - 86_400_000,
        not_after=min(peer.not_after, now_ms + years * YEAR_MS),
    )
    (directory / PEERS_DIR).mkdir(exist_ok=True)
    write_atomic(directory / PEERS_DIR / f"{peer.node.code}.cert", raw)
    return _decoded(raw)


def install_cross_certificate(
    data_dir: Path, raw: bytes, own_root: Certificate, now_ms: int, issuing: bytes = b""
) -> Certificate:
    """Keep a cross-certificate at a node (the county node) after it verifies under
    the node's own root, with the peer's issuing certificate when given.

    Raises:
        ProtocolError: not a certificate of a county by our root, or not valid now.
    """
    cross = _decoded(bytes(raw))
    if cross.node.role is not Role.COUNTY or cross.issuer != own_root.node:
        raise CertificateError(f"certificate {cross.serial} is not a cross-certificate by our root")
    verify_chain([cross], [own_root], now_ms)
    directory = key_dir(data_dir) / PEERS_DIR
    directory.mkdir(exist_ok=True)
    if issuing:
        write_atomic(directory / f"{cross.node.code}{ISSUING_SUFFIX}", bytes(issuing))
    write_atomic(directory / f"{cross.node.code}.cert", bytes(raw))
    return cross


@dataclass(frozen=True)
class Peer:
    """What a node holds of a peer county: our cross-certificate of its root, and its
    issuing certificates (the key that signs its nodes' certificates: node/keys/issuing.py)."""

    cross: Certificate
    issuing: list[Certificate]


def held_peers(data_dir: Path) -> dict[NodeId, Peer]:
    """The peer counties a node trusts, by the peer root's node id."""
    directory = key_dir(data_dir) / PEERS_DIR
    if not directory.is_dir():
        return {}
    out: dict[NodeId, Peer] = {}
    for path in sorted(directory.glob("*.cert")):
        if path.name.endswith(ISSUING_SUFFIX):
            continue
        cross = _decoded(path.read_bytes())
        issuing_path = path.with_name(path.name.removesuffix(".cert") + ISSUING_SUFFIX)
        issuing = [_decoded(issuing_path.read_bytes())] if issuing_path.exists() else []
        out[cross.node] = Peer(cross, issuing)
    return out


def read_peer_issuing(raw: bytes, peer: Certificate, now_ms: int) -> Certificate:
    """The peer county's issuing certificate: the peer root certified it.

    Raises:
        NodeError: ``bad_peer_root`` with what is wrong.
    """
    try:
        issuing = _decoded(bytes(raw[: MAX_ROOT_FILE + 1]))
        if issuing.node != peer.node or issuing.issuer != peer.node:
            raise CertificateError(f"{issuing.node}'s certificate is not {peer.node}'s issuing key")
        verify_chain([issuing], [peer], now_ms)
    except ProtocolError as exc:
        raise _refused(
            "bad_peer_root",
            f"对方县的签发证书无效：{exc}",
            f"the peer county's issuing certificate is not valid: {exc}",
        ) from None
    return issuing


def untrusted_root(cert: Certificate) -> CertificateError:
    """The refusal of a certificate whose root is a county we do not trust."""
    return CertificateError(
        f"certificate {cert.serial} of {cert.node} is issued by the root of {cert.issuer}, "
        f"a county this county does not trust (no cross-certificate of {cert.issuer}): the "
        "two administrators compare that root's fingerprint by phone, then ours runs "
        "`renkou keys trust --peer-root` (证书来自本县未信任的根 "
        f"{cert.issuer}，请核对指纹后交叉认证)"
    )


__all__ = [
    "cross_certify",
    "fingerprint",
    "held_peers",
    "install_cross_certificate",
    "read_peer_issuing",
    "read_peer_root",
    "untrusted_root",
]
