# SPDX-License-Identifier: Apache-2.0
"""Who this node trusts: the county root it was enrolled with, certificates, revocations.

Enrolment leaves ``keys/root.cert`` (the county root), ``keys/node.cert`` (our own),
``keys/parent.cert`` and ``keys/county.cert``. Certificates of other nodes arrive over
sync and are kept only after their chain verifies against the root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from node.errors import StorageError
from node.identity import key_dir, load_certificate
from protocol import (
    Certificate,
    CertificateError,
    NodeId,
    RevocationList,
    RevokedError,
    decode_certificate,
    decode_revocations,
    verify_chain,
)

CRL_FILE = "revocations.signed"


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

    @classmethod
    def load(cls, db: Database, data_dir: Path) -> Trust:
        root = load_certificate(data_dir, "root.cert")
        if root is None:
            raise not_enrolled("root.cert")
        crl_path = key_dir(data_dir) / CRL_FILE
        crl = decode_revocations(crl_path.read_bytes(), root) if crl_path.exists() else None
        return cls(db, data_dir, root, crl)

    def own(self, name: str) -> Certificate:
        cert = load_certificate(self.data_dir, name)
        if cert is None:
            raise not_enrolled(name)
        return cert

    def admit(self, raw: bytes, now_ms: int) -> Certificate:
        """Verify a certificate against the root (and revocations) and keep it."""
        cert = self.check(raw, now_ms)
        self.keep(cert)
        return cert

    def check(self, raw: bytes, now_ms: int) -> Certificate:
        """Verify a certificate against the root and the revocations; store nothing."""
        cert = decode_certificate(raw)
        verify_chain([cert], [self.root], now_ms)
        self.check_not_revoked(cert)
        return cert

    def keep(self, cert: Certificate) -> None:
        """Store a certificate that :meth:`check` accepted (idempotent)."""
        self.db.execute(
            "INSERT OR IGNORE INTO certs (node, serial, raw) VALUES (?, ?, ?)",
            [str(cert.node), cert.serial, cert.raw],
        )

    def check_not_revoked(self, cert: Certificate) -> None:
        if self.crl is not None and cert.serial in self.crl.revoked:
            item = self.crl.revoked[cert.serial]
            if item.node == cert.node:
                raise RevokedError(
                    f"certificate {cert.serial} of {cert.node} is revoked ({item.reason})"
                )

    def certificate(self, node: NodeId, serial: int | None = None) -> Certificate:
        """The certificate of ``node`` (with ``serial``, else the newest) we hold."""
        sql = "SELECT raw FROM certs WHERE node = ?" + (" AND serial = ?" if serial else "")
        sql += " ORDER BY serial DESC LIMIT 1"
        row = self.db.execute(sql, [str(node), serial] if serial else [str(node)]).fetchone()
        if row is None:
            for name in ("node.cert", "parent.cert", "county.cert"):
                cert = load_certificate(self.data_dir, name)
                if cert is not None and cert.node == node and serial in (None, cert.serial):
                    return cert
            raise CertificateError(f"no certificate of {node} (serial {serial}) is known here")
        return decode_certificate(row[0])
