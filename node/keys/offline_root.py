# SPDX-License-Identifier: Apache-2.0
"""The county root, kept offline: a directory the administrator can carry on a USB stick.

The root key is the county's trust anchor for ten years and more; a copy of it signs
any certificate. So it is used only to certify (or replace) the county's issuing key
and to sign revocation lists of issuing keys; day to day, enrolments and node
revocations are signed by the issuing key that the aggregator holds
(node/admin.py). The root directory holds ``root.key`` (sealed under its own
passphrase, Argon2id: node/keys/sealed.py) and ``root.cert``; nothing in it is needed
to sync, so it can stay in a drawer.

A wrong passphrase or a key file others may read is refused before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from node.errors import StorageError
from node.keys.files import write_atomic, write_new
from node.keys.sealed import damaged, new_sealed_file
from node.keys.unlock import open_signing_key, remember
from protocol import (
    Certificate,
    KemPrivateKey,
    NodeId,
    SigningKey,
    Suite,
    decode_certificate,
    issue_certificate,
)
from protocol.crypto import Random

YEAR_MS = 365 * 86_400_000
DAY_MS = 86_400_000
ROOT_KEY = "root.key"
ROOT_CERT = "root.cert"
ROOT_KIND = "root-key"
ROOT_WHAT = "县根密钥 root.key"
ROOT_YEARS = 20
ISSUING_YEARS = 5


@dataclass(frozen=True)
class OfflineRoot:
    """The opened county root: its signing key and its self-signed certificate."""

    directory: Path
    node: NodeId
    signing: SigningKey
    cert: Certificate

    @classmethod
    def generate(
        cls, directory: Path, code: str, now_ms: int, suite: Suite, random: Random | None
    ) -> OfflineRoot:
        """A new root for county ``code`` (nothing written yet: :meth:`write`)."""
        node = NodeId.for_code(code)
        signing = SigningKey.generate(suite, random) if random else SigningKey.generate(suite)
        raw = issue_certificate(
            signing,
            node,
            serial=1,
            node=node,
            verify_key=signing.verify_key,
            kem_key=KemPrivateKey.generate(suite).public_key,
            not_before=now_ms - DAY_MS,
            not_after=now_ms + ROOT_YEARS * YEAR_MS,
        )
        return cls(directory, node, signing, decode_certificate(raw))

    def write(self, passphrase: str) -> None:
        """Write ``root.key`` (sealed under ``passphrase``, 0600) and ``root.cert``."""
        header = {"node": str(self.node), "suite": int(self.signing.suite)}
        sealed, file_key = new_sealed_file(
            ROOT_KIND, header, {"sign_seed": self.signing.seed.hex()}, passphrase
        )
        raw = sealed.to_bytes()
        write_new(self.directory / ROOT_KEY, raw)
        remember(raw, file_key)
        write_atomic(self.directory / ROOT_CERT, self.cert.raw)

    @classmethod
    def open(cls, directory: Path) -> OfflineRoot:
        """The root in ``directory``, opened with its passphrase.

        Raises:
            StorageError: ``keys_missing`` (no root here: insert the stick),
                ``key_file_mode``, ``keys_damaged``, ``locked`` or
                ``wrong_passphrase``; nothing is changed by any of these.
        """
        missing = StorageError(
            f"{directory} 中没有县根密钥（请插入存放根密钥的U盘并指定 --root-dir）",
            f"{directory} holds no county root key (insert the stick that holds it "
            "and give --root-dir)",
            code="keys_missing",
        )
        signing, node = open_signing_key(
            directory / ROOT_KEY, ROOT_KIND, ROOT_WHAT, "root key", missing
        )
        cert = decode_certificate((directory / ROOT_CERT).read_bytes())
        if cert.verify_key.raw != signing.verify_key.raw:
            raise damaged("root.key is not the key of root.cert")
        return cls(directory, node, signing, cert)

    def certify_issuing(
        self, issuing: SigningKey, serial: int, now_ms: int, years: int = ISSUING_YEARS
    ) -> Certificate:
        """The certificate of an issuing key: subject the county, signed by the root,
        valid ``years`` (within the root's own window)."""
        raw = issue_certificate(
            self.signing,
            self.node,
            serial=serial,
            node=self.node,
            verify_key=issuing.verify_key,
            kem_key=KemPrivateKey.generate(issuing.suite).public_key,
            not_before=now_ms - DAY_MS,
            not_after=min(now_ms + years * YEAR_MS, self.cert.not_after),
        )
        return decode_certificate(raw)
