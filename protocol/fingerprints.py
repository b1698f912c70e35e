# SPDX-License-Identifier: Apache-2.0
"""Fingerprints of certified keys, to compare by voice (SPEC.md §8.2).

Two county administrators who cross-certify each other's roots compare the roots'
fingerprints over the phone before either signs: a root file that came by e-mail or on
a stick could have been swapped on the way. So a fingerprint is digits only, in groups
of five, which read out unambiguously in Chinese and in English (``"30 digits"`` like
Signal's safety numbers), and names the node and its keys, not the certificate's
validity: a root re-issued for longer with the same keys keeps its fingerprint.
"""

from __future__ import annotations

from protocol.certs import Certificate
from protocol.crypto import sha256

CONTEXT = b"renkou-net/1 fingerprint\x00"
GROUPS = 6


def fingerprint(cert: Certificate) -> str:
    """``"01234 56789 …"``: six groups of five digits naming ``cert``'s node and keys.

    SHA-256 of the context, the node id text, a zero byte, the suite byte and both
    public keys; group ``i`` is the big-endian integer of digest bytes ``5i..5i+4``
    modulo 100,000, zero-padded (about 100 bits in all).
    """
    digest = sha256(
        CONTEXT
        + str(cert.node).encode()
        + b"\x00"
        + bytes([int(cert.suite)])
        + cert.verify_key.raw
        + cert.kem_key.raw
    )
    groups = (int.from_bytes(digest[5 * i : 5 * i + 5], "big") % 100_000 for i in range(GROUPS))
    return " ".join(f"{g:05d}" for g in groups)


__all__ = ["fingerprint"]
