# SPDX-License-Identifier: Apache-2.0
"""County administration: the root key, enrolment of PCs, revocation of lost ones.

The root key signs certificates and nothing else; it lives in the administrator's own
directory (``root.key``, mode 0600), never on a node that syncs. Enrolling a PC reads
the public keys the node generated at ``renkou node init`` and leaves in the node's
``keys/`` the certificates it needs: its own, its parent's, the county's and the root.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.domain.divisions import check_county_code
from node.errors import NodeError
from node.identity import key_dir, load_identity, private_directory
from protocol import (
    Certificate,
    KemPrivateKey,
    LogId,
    NodeId,
    Revocation,
    SigningKey,
    Suite,
    decode_certificate,
    issue_certificate,
    issue_revocations,
)
from protocol.crypto import Random

YEAR_MS = 365 * 86_400_000


@dataclass
class CountyAdmin:
    directory: Path
    node: NodeId
    signing: SigningKey
    root: Certificate

    @classmethod
    def create(
        cls,
        directory: Path,
        code: str,
        now_ms: int,
        *,
        random: Random | None = None,
        suite: Suite = Suite.HYBRID,
    ) -> CountyAdmin:
        """A new county root of ``suite`` (hybrid; classical only for old hardware or
        tests, and then every node of the county is classical too: SPEC §4).

        Raises:
            ValidationError: ``code`` is not a county of the shipped division list
                (issue 12: a root for a county that does not exist signs nothing real).
        """
        check_county_code(code, field="code")
        private_directory(directory)  # the county root key lives here
        node = NodeId.for_code(code)
        signing = SigningKey.generate(suite, random) if random else SigningKey.generate(suite)
        kem = KemPrivateKey.generate(suite)
        raw = issue_certificate(
            signing,
            node,
            serial=1,
            node=node,
            verify_key=signing.verify_key,
            kem_key=kem.public_key,
            not_before=now_ms - 86_400_000,
            not_after=now_ms + 20 * YEAR_MS,
        )
        fd = os.open(directory / "root.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            body = {"v": 1, "node": str(node), "suite": int(suite), "sign_seed": signing.seed.hex()}
            json.dump(body, fh)
        (directory / "root.cert").write_bytes(raw)
        (directory / "next_serial").write_text("2")
        return cls(directory, node, signing, decode_certificate(raw))

    @classmethod
    def open(cls, directory: Path) -> CountyAdmin:
        body = json.loads((directory / "root.key").read_text())
        suite = Suite(body.get("suite", int(Suite.HYBRID)))
        signing = SigningKey(suite, bytes.fromhex(body["sign_seed"]))
        root = decode_certificate((directory / "root.cert").read_bytes())
        return cls(directory, NodeId.parse(body["node"]), signing, root)

    def _serial(self) -> int:
        path = self.directory / "next_serial"
        serial = int(path.read_text())
        path.write_text(str(serial + 1))
        return serial

    def certify(self, data_dir: Path, now_ms: int, years: int = 2) -> Certificate:
        """Issue the certificate of the node in ``data_dir`` from its public keys.

        Raises:
            NodeError: the node's keys are of another suite than the county's. SPEC §4
                forbids mixing suites in one envelope (a classical key beside a
                post-quantum one would let the weakest recipient decide the strength),
                so such a node could never sync; refuse it here, where it is fixable.
        """
        identity = load_identity(data_dir)
        if identity.suite != self.signing.suite:
            raise NodeError(
                f"{identity.node} 的密钥算法与本县不同，不能登记；请用默认算法重新初始化该节点",
                f"{identity.node} has keys of suite {identity.suite.name}, the county uses "
                f"{self.signing.suite.name}; re-initialise the node with the default suite",
                code="suite_mismatch",
            )
        raw = issue_certificate(
            self.signing,
            self.node,
            serial=self._serial(),
            node=identity.node,
            verify_key=identity.signing.verify_key,
            kem_key=identity.kem.public_key,
            not_before=now_ms - 86_400_000,
            not_after=now_ms + years * YEAR_MS,
        )
        (self.directory / "issued").mkdir(exist_ok=True)
        (self.directory / "issued" / f"{identity.node.code}.cert").write_bytes(raw)
        return decode_certificate(raw)

    def enrol(
        self, data_dir: Path, cert: Certificate, parent: Certificate, county: Certificate
    ) -> None:
        """Leave in the node's keys/ what it needs to sync: its certificates and the root."""
        keys = key_dir(data_dir)
        for name, c in (
            ("node.cert", cert),
            ("parent.cert", parent),
            ("county.cert", county),
            ("root.cert", self.root),
        ):
            (keys / name).write_bytes(c.raw)

    def issued(self, code: str) -> Certificate | None:
        path = self.directory / "issued" / f"{code}.cert"
        return decode_certificate(path.read_bytes()) if path.exists() else None

    def enrol_node(self, data_dir: Path, now_ms: int) -> Certificate:
        """Certify the node in ``data_dir`` and leave its certificates there.

        Parents are enrolled first (county, then towns, then villages): a node's
        parent and county certificates must already have been issued here.
        """
        node = load_identity(data_dir).node
        county = self.issued(node.county_code) if node.parent is not None else None
        parent = self.issued(node.parent.code) if node.parent is not None else None
        if node.parent is not None and (county is None or parent is None):
            raise NodeError(
                f"请先登记上级节点 {node.parent}（及县节点），再登记 {node}",
                f"enrol {node.parent} (and the county node) before {node}",
                code="parent_not_enrolled",
            )
        cert = self.certify(data_dir, now_ms)
        self.enrol(data_dir, cert, parent or cert, county or cert)
        return cert

    def revoke_node(
        self, code: str, reason: str, valid_through: dict[LogId, int], now_ms: int
    ) -> bytes:
        """Add the node's newest certificate to the revocation list; return the new list."""
        cert = self.issued(code)
        if cert is None:
            raise ValueError(f"no certificate was issued here for {code}")
        path = self.directory / "revocations.json"
        held: dict[str, Any] = (
            json.loads(path.read_text()) if path.exists() else {"version": 0, "items": []}
        )
        held["items"].append(
            {
                "serial": cert.serial,
                "node": str(cert.node),
                "at": now_ms,
                "reason": reason,
                "through": {str(k): v for k, v in valid_through.items()},
            }
        )
        held["version"] += 1
        path.write_text(json.dumps(held))
        items = [
            Revocation(
                i["serial"],
                NodeId.parse(i["node"]),
                i["at"],
                i["reason"],
                {LogId.parse(k): v for k, v in i["through"].items()},
            )
            for i in held["items"]
        ]
        raw = issue_revocations(self.signing, self.node, held["version"], now_ms, items)
        (self.directory / "revocations.signed").write_bytes(raw)
        return raw
