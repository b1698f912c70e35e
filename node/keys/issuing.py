# SPDX-License-Identifier: Apache-2.0
"""The county's issuing key as a node sees it: chains through it, lists signed by it.

The county root lives offline (node/keys/offline_root.py); day to day the county's
*issuing key* signs the certificates of nodes and the revocation lists of nodes. Its
certificate (``keys/issuing.cert``, subject the county, signed by the root, given to
every node at enrolment) sits between a node's certificate and the root it trusts, so a
node's chain is ``[node certificate, issuing certificate]`` under the root anchor
(SPEC.md §8.2). Certificates signed by the root itself (the issuing certificate, and
those of a county enrolled before the issuing key existed) chain directly.

Which certificate signed an object is read from the signer's key id the signed object
carries (SPEC.md §8.1); nothing is trusted for naming it: the chain is then verified.
"""

from __future__ import annotations

from pathlib import Path

from node.identity import key_dir
from protocol import Certificate, CertificateError, decode_certificate
from protocol.signed import SignedObject

ISSUING_CERT = "issuing.cert"


def held_issuing(data_dir: Path) -> list[Certificate]:
    """The issuing certificates this node was given (none for a county of the old kind)."""
    path = key_dir(data_dir) / ISSUING_CERT
    return [decode_certificate(path.read_bytes())] if path.exists() else []


def chain_of(cert: Certificate, root: Certificate, issuing: list[Certificate]) -> list[Certificate]:
    """The chain to verify ``cert`` with: itself, then the issuing certificate whose
    key signed it (none when the root signed it). An unknown signer is left to the
    chain check, which refuses it naming the issuer."""
    return signed_chain(cert.signed, cert, root, issuing)


def signed_chain(
    signed: SignedObject, first: Certificate | None, root: Certificate, issuing: list[Certificate]
) -> list[Certificate]:
    head = [first] if first is not None else []
    if signed.signer_key_id == root.verify_key.key_id:
        return head
    for cert in issuing:
        if cert.verify_key.key_id == signed.signer_key_id:
            return [*head, cert]
    return head


def list_signer(signed: SignedObject, root: Certificate, issuing: list[Certificate]) -> Certificate:
    """The certificate a revocation list must verify with: the root, or an issuing
    certificate the root signed (checked here: a list signed by any other key of the
    county's name is refused).

    Raises:
        CertificateError: the signer is neither.
        SignatureError: the issuing certificate is not the root's.
    """
    chain = signed_chain(signed, None, root, issuing)
    if not chain:
        if signed.signer_key_id == root.verify_key.key_id:
            return root
        raise CertificateError(
            f"the list is signed by a key that is neither the root of {root.node} nor its "
            "issuing key"
        )
    issuer = chain[0]
    if issuer.node != root.node:
        raise CertificateError(f"issuing certificate of {issuer.node}, not of {root.node}")
    issuer.signed.verify(root.verify_key)
    return issuer
