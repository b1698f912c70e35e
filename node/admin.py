# SPDX-License-Identifier: Apache-2.0
"""County administration: the issuing key, enrolment of PCs, revocation of lost ones.

The county root lives offline (node/keys/offline_root.py, ``--root-dir``: a USB
stick); it certifies the county's **issuing key**, which is all the aggregator holds
(``issuing.key`` in the administrator's directory, sealed under its passphrase, mode
0600, beside ``issuing.cert`` and a copy of ``root.cert``). The issuing key signs the
certificates of nodes and the revocation lists of nodes, so a PC is enrolled and a
stolen one revoked without the root. Enrolling a PC reads the public keys the node
generated at ``renkou node init`` and leaves in the node's ``keys/`` the certificates
it needs: its own, its parent's, the county's, the issuing certificate and the root.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from node.domain.divisions import check_county_code
from node.errors import NodeError, StorageError
from node.identity import key_dir, load_identity, private_directory
from node.keys.files import write_atomic, write_new
from node.keys.issuing import ISSUING_CERT, list_signer
from node.keys.offline_root import ROOT_CERT, ROOT_KEY, ROOT_WHAT, OfflineRoot
from node.keys.revoking import next_list
from node.keys.sealed import damaged, new_sealed_file
from node.keys.unlock import new_passphrase, open_signing_key, remember
from protocol import (
    Certificate,
    KemPublicKey,
    LogId,
    NodeId,
    Revocation,
    RevocationList,
    SigningKey,
    Suite,
    VerifyKey,
    decode_certificate,
    decode_revocations,
    decode_signed,
    issue_certificate,
)
from protocol.crypto import Random
from protocol.ids import check_division_code

YEAR_MS = 365 * 86_400_000
ISSUING_KEY = "issuing.key"
ISSUING_KIND = "issuing-key"
ISSUING_WHAT = "县签发密钥 issuing.key"
_SERIALS = threading.Lock()
"""Serials are unique within the county: the enrolment endpoint certifies from several
threads of one server."""
ROOT_DIR = "offline-root"
"""Where :meth:`CountyAdmin.create` puts the root when no ``root_dir`` is given (tests,
the demo); the administrator's command asks for ``--root-dir``."""


@dataclass
class CountyAdmin:
    directory: Path
    node: NodeId
    signing: SigningKey
    """The issuing key: it signs nodes' certificates and revocation lists."""
    root: Certificate
    issuing: Certificate

    @classmethod
    def create(
        cls,
        directory: Path,
        code: str,
        now_ms: int,
        *,
        root_dir: Path | None = None,
        random: Random | None = None,
        suite: Suite = Suite.HYBRID,
    ) -> CountyAdmin:
        """A new county: its root (written to ``root_dir``, to be kept offline) and the
        issuing key the root certifies (written to ``directory``), both of ``suite``
        (hybrid; classical only for old hardware or tests, and then every node of the
        county is classical too: SPEC §4).

        Both passphrases are taken before anything is written, so a refused one (too
        short, none given) leaves no file behind.

        Raises:
            ValidationError: ``code`` is not a county of the shipped division list
                (issue 12: a root for a county that does not exist signs nothing real).
            StorageError: either directory already holds a key; no passphrase.
        """
        check_county_code(code, field="code")
        root_dir = directory / ROOT_DIR if root_dir is None else root_dir
        for held in (root_dir / ROOT_KEY, directory / ISSUING_KEY, directory / ROOT_KEY):
            if held.exists():
                raise StorageError(
                    f"{held} 已存在：本县已初始化，未做任何更改",
                    f"{held} exists: this county is set up already; nothing was changed",
                    code="county_exists",
                )
        root = OfflineRoot.generate(root_dir, code, now_ms, suite, random)
        signing = SigningKey.generate(suite, random) if random else SigningKey.generate(suite)
        issuing = root.certify_issuing(signing, serial=2, now_ms=now_ms)
        root_passphrase = new_passphrase(ROOT_WHAT)
        issuing_passphrase = new_passphrase(ISSUING_WHAT)
        private_directory(root_dir)
        private_directory(directory)
        root.write(root_passphrase)
        header = {"node": str(root.node), "suite": int(suite)}
        sealed, file_key = new_sealed_file(
            ISSUING_KIND, header, {"sign_seed": signing.seed.hex()}, issuing_passphrase
        )
        raw = sealed.to_bytes()
        write_new(directory / ISSUING_KEY, raw)
        remember(raw, file_key)
        write_atomic(directory / ISSUING_CERT, issuing.raw)
        write_atomic(directory / ROOT_CERT, root.cert.raw)
        (directory / "next_serial").write_text("3")
        return cls(directory, root.node, signing, root.cert, issuing)

    @classmethod
    def open(cls, directory: Path) -> CountyAdmin:
        """The administrator's directory, its issuing key opened with the passphrase.

        Raises:
            StorageError: no issuing key here, a key file others may read, a plaintext
                key file of an older version, no passphrase or a wrong one; nothing
                is changed by any of these.
        """
        missing = StorageError(
            f"{directory} 中没有县签发密钥，请先运行 renkou keys init-county",
            f"{directory} holds no county issuing key; run `renkou keys init-county` first",
            code="keys_missing",
        )
        signing, node = open_signing_key(
            directory / ISSUING_KEY, ISSUING_KIND, ISSUING_WHAT, "issuing key", missing
        )
        root = decode_certificate((directory / ROOT_CERT).read_bytes())
        issuing = decode_certificate((directory / ISSUING_CERT).read_bytes())
        if issuing.verify_key.raw != signing.verify_key.raw:
            raise damaged("issuing.key is not the key of issuing.cert")
        issuing.signed.verify(root.verify_key)
        return cls(directory, node, signing, root, issuing)

    def _serial(self) -> int:
        path = self.directory / "next_serial"
        serial = int(path.read_text())
        path.write_text(str(serial + 1))
        return serial

    def certify(self, data_dir: Path, now_ms: int, years: int = 2) -> Certificate:
        """Issue the certificate of the node in ``data_dir`` from its public keys."""
        identity = load_identity(data_dir)
        return self.certify_keys(
            identity.node, identity.signing.verify_key, identity.kem.public_key, now_ms, years
        )

    def certify_keys(
        self,
        node: NodeId,
        verify_key: VerifyKey,
        kem_key: KemPublicKey,
        now_ms: int,
        years: int = 2,
    ) -> Certificate:
        """Issue ``node``'s certificate for these public keys (signed by the issuing key,
        valid ``years`` but never past the issuing certificate).

        Raises:
            NodeError: ``suite_mismatch`` (:meth:`check_suite`).
        """
        self.check_suite(node, verify_key.suite)
        with _SERIALS:
            raw = issue_certificate(
                self.signing,
                self.node,
                serial=self._serial(),
                node=node,
                verify_key=verify_key,
                kem_key=kem_key,
                not_before=now_ms - 86_400_000,
                not_after=min(now_ms + years * YEAR_MS, self.issuing.not_after),
            )
            (self.directory / "issued").mkdir(exist_ok=True)
            write_atomic(self.directory / "issued" / f"{node.code}.cert", raw)
        return decode_certificate(raw)

    def check_suite(self, node: NodeId, suite: Suite) -> None:
        """Refuse keys of another suite than the county's. SPEC §4 forbids mixing suites
        in one envelope (a classical key beside a post-quantum one would let the weakest
        recipient decide the strength), so such a node could never sync; refuse it
        here, where it is fixable.

        Raises:
            NodeError: ``suite_mismatch``.
        """
        if suite != self.signing.suite:
            raise NodeError(
                f"{node} 的密钥算法与本县不同，不能登记；请用默认算法重新初始化该节点",
                f"{node} has keys of suite {suite.name}, the county uses "
                f"{self.signing.suite.name}; re-initialise the node with the default suite",
                code="suite_mismatch",
            )

    def chain_for(self, node: NodeId) -> tuple[Certificate, Certificate]:
        """The certificates of ``node``'s parent and of the county node, issued here.

        Parents are enrolled first (county, then towns, then villages).

        Raises:
            NodeError: ``parent_not_enrolled``.
        """
        county = self.issued(node.county_code) if node.parent is not None else None
        parent = self.issued(node.parent.code) if node.parent is not None else None
        if node.parent is None:
            raise NodeError(
                "县节点由管理员在本机直接登记（renkou keys enrol）",
                "the county node is enrolled on the aggregator itself (renkou keys enrol)",
                code="county_by_hand",
            )
        if county is None or parent is None:
            raise NodeError(
                f"请先登记上级节点 {node.parent}（及县节点），再登记 {node}",
                f"enrol {node.parent} (and the county node) before {node}",
                code="parent_not_enrolled",
            )
        return parent, county

    def enrol(
        self, data_dir: Path, cert: Certificate, parent: Certificate, county: Certificate
    ) -> None:
        """Leave in the node's keys/ what it needs to sync: its certificates, the
        issuing certificate they chain through and the root."""
        keys = key_dir(data_dir)
        for name, c in (
            ("node.cert", cert),
            ("parent.cert", parent),
            ("county.cert", county),
            (ISSUING_CERT, self.issuing),
            ("root.cert", self.root),
        ):
            write_atomic(keys / name, c.raw)

    def issued(self, code: str) -> Certificate | None:
        check_division_code(code)  # a code, never a path (``../..``)
        path = self.directory / "issued" / f"{code}.cert"
        return decode_certificate(path.read_bytes()) if path.exists() else None

    def enrol_node(self, data_dir: Path, now_ms: int) -> Certificate:
        """Certify the node in ``data_dir`` and leave its certificates there.

        Parents are enrolled first (county, then towns, then villages): a node's
        parent and county certificates must already have been issued here.
        """
        node = load_identity(data_dir).node
        if node.parent is None:
            cert = self.certify(data_dir, now_ms)
            self.enrol(data_dir, cert, cert, cert)
            return cert
        parent, county = self.chain_for(node)
        cert = self.certify(data_dir, now_ms)
        self.enrol(data_dir, cert, parent, county)
        return cert

    def revoke_node(
        self, code: str, reason: str, valid_through: dict[LogId, int], now_ms: int
    ) -> bytes:
        """Add the node's newest certificate to the revocation list; return the new list.

        The next list is built, signed and verified before anything is written
        (node/keys/revoking.py): a serial already listed, a log of another node or a seq
        beyond 2^53-1 is refused and leaves the held list as it was, so the next
        revocation still works. ``revocations.signed`` is the truth (written first,
        atomically); ``revocations.json`` is a readable copy of it.

        Raises:
            NodeError: nothing issued here for ``code``, or the item is refused.
        """
        node = NodeId.for_code(code)
        cert = self.issued(code)
        if cert is None:
            raise NodeError(
                f"本县未给 {node} 签发过证书，无从吊销",
                f"no certificate was issued here for {node}; nothing to revoke",
                code="not_issued",
            )
        held = self.revocations()
        item = Revocation(cert.serial, cert.node, now_ms, reason, dict(valid_through))
        raw, newer = next_list(self.signing, self.node, self.issuing, held, item, now_ms)
        write_atomic(self.directory / "revocations.signed", raw)
        view = {
            "version": newer.version,
            "items": [
                {
                    "serial": i.serial,
                    "node": str(i.node),
                    "at": i.revoked_at,
                    "reason": i.reason,
                    "through": {str(k): v for k, v in sorted(i.valid_through.items())},
                }
                for i in sorted(newer.revoked.values(), key=lambda i: i.serial)
            ],
        }
        write_atomic(self.directory / "revocations.json", json.dumps(view).encode())
        return raw

    def revocations(self) -> RevocationList | None:
        """The signed list held here, verified against the issuing key (or the root that
        signed an older one); None before the first."""
        path = self.directory / "revocations.signed"
        if not path.exists():
            return None
        raw = path.read_bytes()
        signed = decode_signed(raw, expect_type="revocations")
        return decode_revocations(raw, list_signer(signed, self.root, [self.issuing]))
