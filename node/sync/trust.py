# SPDX-License-Identifier: Apache-2.0
"""Who this node trusts: the county root it was enrolled with, certificates, revocations.

Enrolment leaves ``keys/root.cert`` (the county root), ``keys/node.cert`` (our own),
``keys/parent.cert`` and ``keys/county.cert``. Certificates of other nodes arrive over
sync and are kept only after their chain verifies against the root.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlite_utils import Database

from node.errors import StorageError
from node.identity import key_dir
from node.keys.issuing import ISSUING_CERT, chain_of, list_signer
from node.keys.peers import held_peers, untrusted_root
from node.store.certs import Certs
from protocol import (
    Certificate,
    NodeId,
    RevocationList,
    RevokedError,
    UnknownCertificateError,
    decode_certificate,
    decode_revocations,
    decode_signed,
    verify_chain,
)
from protocol.ids import Role

CRL_FILE = "revocations.signed"


# Every sync request loads the trust store (root, revocation list, the peer's
# certificate): decoding a certificate (a schema-checked signed object) cost more than
# the rest of an idle request. Decoding is a pure function of the bytes and the results
# are frozen, so they are cached by exact bytes; nothing is trusted for being cached:
# chains, validity and revocation are checked at every use as before.
@lru_cache(maxsize=4096)
def decoded_certificate(raw: bytes) -> Certificate:
    return decode_certificate(raw)


@lru_cache(maxsize=64)
def _decoded_revocations(raw: bytes, root_raw: bytes, issuing_raw: bytes) -> RevocationList:
    """A revocation list verified against the root whose exact bytes are ``root_raw``,
    or against the issuing certificate ``issuing_raw`` that root signed (the county's
    day-to-day key signs the lists of nodes: node/keys/issuing.py)."""
    root = decoded_certificate(root_raw)
    issuing = [decoded_certificate(issuing_raw)] if issuing_raw else []
    signer = list_signer(decode_signed(raw, expect_type="revocations"), root, issuing)
    return decode_revocations(raw, signer)


def _issuing_raw(data_dir: Path) -> bytes:
    path = key_dir(data_dir) / ISSUING_CERT
    return path.read_bytes() if path.exists() else b""


def load_certificate(data_dir: Path, name: str) -> Certificate | None:
    """A certificate file under keys/ (as node.identity.load_certificate), cached."""
    path = key_dir(data_dir) / name
    return decoded_certificate(path.read_bytes()) if path.exists() else None


def not_enrolled(what: str) -> StorageError:
    return StorageError(
        f"本节点尚未登记（缺少{what}），请由管理员登记本机",
        f"this node is not enrolled (missing {what}); ask the administrator to enrol this PC",
        code="not_enrolled",
    )


@dataclass
class Trust:
    db: Database
    data_dir: Path
    root: Certificate
    crl: RevocationList | None
    issuing: list[Certificate] = field(default_factory=list)

    @classmethod
    def load(cls, db: Database, data_dir: Path) -> Trust:
        root = load_certificate(data_dir, "root.cert")
        if root is None:
            raise not_enrolled("root.cert")
        issuing = load_certificate(data_dir, ISSUING_CERT)
        return cls(db, data_dir, root, held_revocations(data_dir), [issuing] if issuing else [])

    def verify(self, cert: Certificate, now_ms: int) -> Certificate:
        """Verify ``cert``'s chain up to our root, through the county's issuing
        certificate when that key signed it (SPEC.md §8.2), or, for a peer county's,
        through its issuing certificate and our cross-certificate of its root."""
        return verify_chain(self._chain(cert), [self.root], now_ms)

    def own(self, name: str) -> Certificate:
        cert = load_certificate(self.data_dir, name)
        if cert is None:
            raise not_enrolled(name)
        return cert

    def check(self, raw: bytes, now_ms: int, *, revoked_ok: bool = False) -> Certificate:
        """Verify a certificate against the root and the revocations; store nothing.

        A peer county's certificate verifies through our cross-certificate of its root
        (node/keys/peers.py); callers that take only their own county's nodes check the
        subject (a session: our child; ``/certs``: below the peer), as they always did.

        ``revoked_ok``: a revoked certificate passes too. A relay introduces the
        certificates of its children's batches; a revoked node's batches up to its
        ``valid_through`` are still valid (check_signer judges each batch), and a parent
        restored from a backup that never saw the certificate could otherwise never take
        them. Sessions never pass it: a revoked node cannot sync.
        """
        cert = decoded_certificate(bytes(raw))
        self.verify(cert, now_ms)
        if not revoked_ok:
            self.check_not_revoked(cert)
        return cert

    def _chain(self, cert: Certificate) -> list[Certificate]:
        """The chain of ``cert``: through our issuing certificate for our own county;
        through the peer's issuing certificate (when its key signed) and our
        cross-certificate of its root for a peer county (node/keys/peers.py). A county
        we have not cross-certified is refused by name."""
        if cert.issuer == self.root.node or cert.issuer.role is not Role.COUNTY:
            return chain_of(cert, self.root, self.issuing)
        peer = held_peers(self.data_dir).get(cert.issuer)
        if peer is None:
            raise untrusted_root(cert)
        return [*chain_of(cert, peer.cross, peer.issuing), peer.cross]

    def keep(self, cert: Certificate) -> None:
        """Store a certificate that :meth:`check` accepted (idempotent)."""
        Certs(self.db).keep(str(cert.node), cert.serial, cert.raw)

    def check_not_revoked(self, cert: Certificate) -> None:
        if self.crl is not None and cert.serial in self.crl.revoked:
            item = self.crl.revoked[cert.serial]
            if item.node == cert.node:
                raise RevokedError(
                    f"certificate {cert.serial} of {cert.node} is revoked ({item.reason})"
                )

    def certificate(self, node: NodeId, serial: int | None = None) -> Certificate:
        """The certificate of ``node`` (with ``serial``, else the newest) we hold.

        Raises:
            UnknownCertificateError: we hold none (its sender introduces it and resends).
        """
        held = self.certificates(node, serial or None)
        if not held:
            raise UnknownCertificateError(
                f"no certificate of {node} (serial {serial}) is known here"
            )
        return held[0]

    def signer_of(self, node: NodeId, key_id: bytes) -> Certificate:
        """The certificate of ``node`` we hold whose verify key has ``key_id`` (the
        newest, if several do): what a signed object of ``node`` names its signer by.

        Raises:
            UnknownCertificateError: we hold none (its sender sends it and tries again).
        """
        for cert in self.certificates(node):
            if cert.verify_key.key_id == key_id:
                return cert
        raise UnknownCertificateError(
            f"no certificate of {node} with key {key_id.hex()} is known here; send it"
        )

    def certificates(self, node: NodeId, serial: int | None = None) -> list[Certificate]:
        """Every certificate of ``node`` we hold (with ``serial`` only), newest first:
        those that came over sync, then our enrolment's own files."""
        out = [decoded_certificate(raw) for raw in Certs(self.db).of(str(node), serial)]
        for name in ("node.cert", "parent.cert", "county.cert"):
            cert = load_certificate(self.data_dir, name)
            if cert is not None and cert.node == node and serial in (None, cert.serial):
                if all(held.raw != cert.raw for held in out):
                    out.append(cert)
        return out


# -- installing a newer revocation list (it travels with sync: node/sync/revocations.py) --

_INSTALL_LOCK = threading.Lock()


def held_revocations(data_dir: Path) -> RevocationList | None:
    """The list installed in keys/, verified against our root; None if there is none."""
    root = load_certificate(data_dir, "root.cert")
    path = key_dir(data_dir) / CRL_FILE
    if root is None or not path.exists():
        return None
    return _decoded_revocations(path.read_bytes(), root.raw, _issuing_raw(data_dir))


def held_revocations_raw(data_dir: Path) -> bytes:
    """The bytes of the list installed in keys/ as the county root signed it ("" if none)."""
    path = key_dir(data_dir) / CRL_FILE
    return path.read_bytes() if path.exists() else b""


def install_revocations(data_dir: Path, raw: bytes) -> RevocationList | None:
    """Verify ``raw`` against our county root and install it if it succeeds ours.

    Returns the installed list, or None when it is the very list we hold. The list must
    be issued by our root and, if we hold one, be its successor by SPEC.md §8.3 (same
    issuer, strictly greater version, every held item unchanged): a lower or equal
    version, or one that drops or widens a revocation, is refused, so a relay (or a
    parent restored from an old backup) can never un-revoke a key here. The file is
    replaced atomically (temporary file, fsync, rename): a reader sees the old list or
    the new one, never half of one. The lock and the re-check under it keep two
    installs in this process from putting an older list over a newer one.

    Raises:
        ProtocolError: not a valid list of our root, or not newer than the held one.
    """
    root = load_certificate(data_dir, "root.cert")
    if root is None:
        raise not_enrolled("root.cert")
    issuing_raw = _issuing_raw(data_dir)
    newer = _decoded_revocations(bytes(raw), root.raw, issuing_raw)
    keys = key_dir(data_dir)
    path = keys / CRL_FILE
    with _INSTALL_LOCK:
        if path.exists():
            held_raw = path.read_bytes()
            if held_raw == bytes(raw):
                return None
            _decoded_revocations(held_raw, root.raw, issuing_raw).check_successor(newer)
        tmp = keys / f".{CRL_FILE}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)  # public, as certs
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
    return newer
