# SPDX-License-Identifier: Apache-2.0
"""Node certificates, the county root, chains and revocation lists.

A county's administrator holds the root key; its self-signed certificate is the trust
anchor every node of the county is enrolled with. Node certificates bind a node id,
its parent and its two public keys (signing, key agreement) for a validity window.
Counties cross-certify each other's roots to exchange floating-population data, so a
chain is at most: leaf, one cross-certificate, a trusted root. A certificate whose
subject is a county may only be the last certificate of a chain, directly under an
anchor: trust is not transitive, and no county can vouch for another county's nodes
through a third.

Revocation is by serial. Each revoked item carries ``valid_through``: per log of the
node, the last seq the county had received when the key was revoked. Entries up to it
stay valid (they were signed before the loss); anything later is refused. This does not
trust the clock of a stolen PC, which a thief can set at will.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from protocol.crypto import KemPublicKey, SigningKey, Suite, VerifyKey
from protocol.errors import CertificateError, ExpiredError, MalformedError, RevokedError
from protocol.ids import LogId, NodeId, Role
from protocol.schemas import CertificateBody, RevocationBody, load_body
from protocol.signed import SignedObject, b64, decode_signed, sign_object, unb64

MAX_CHAIN = 3


@dataclass(frozen=True, slots=True)
class Certificate:
    serial: int
    node: NodeId
    parent: NodeId | None
    issuer: NodeId
    suite: Suite
    verify_key: VerifyKey = field(repr=False)
    kem_key: KemPublicKey = field(repr=False)
    not_before: int
    not_after: int
    signed: SignedObject = field(repr=False)

    @property
    def raw(self) -> bytes:
        return self.signed.raw

    @property
    def is_self_signed(self) -> bool:
        return self.issuer == self.node

    def check_valid_at(self, now_ms: int) -> None:
        if not self.not_before <= now_ms <= self.not_after:
            raise ExpiredError(
                f"certificate {self.serial} of {self.node} is not valid at {now_ms} "
                f"(valid {self.not_before}..{self.not_after})"
            )


def issue_certificate(
    issuer_key: SigningKey,
    issuer: NodeId,
    *,
    serial: int,
    node: NodeId,
    verify_key: VerifyKey,
    kem_key: KemPublicKey,
    not_before: int,
    not_after: int,
) -> bytes:
    """Sign a certificate for ``node``; a root is a certificate whose issuer is itself."""
    if not_after <= not_before:
        raise ValueError("not_after must be later than not_before")
    body = {
        "v": 1,
        "type": "certificate",
        "serial": serial,
        "node": str(node),
        "parent": None if node.parent is None else str(node.parent),
        "issuer": str(issuer),
        "suite": int(verify_key.suite),
        "verify_key": b64(verify_key.raw),
        "kem_key": b64(kem_key.raw),
        "not_before": not_before,
        "not_after": not_after,
    }
    return sign_object(body, issuer_key)


def decode_certificate(raw: bytes) -> Certificate:
    """Parse a certificate; its signature is checked by :func:`verify_chain`."""
    signed = decode_signed(raw, expect_type="certificate")
    body = load_body(CertificateBody(), signed.body, "certificate")
    suite = Suite.from_byte(body["suite"])
    node = NodeId.parse(body["node"])
    parent = None if body["parent"] is None else NodeId.parse(body["parent"])
    if parent != node.parent:
        raise MalformedError(f"certificate: parent of {node} must be {node.parent}, got {parent}")
    verify_key = VerifyKey(
        suite, unb64(body["verify_key"], "verify_key", size=suite.verify_key_size)
    )
    kem_key = KemPublicKey(suite, unb64(body["kem_key"], "kem_key", size=suite.kem_key_size))
    if body["not_after"] <= body["not_before"]:
        raise MalformedError("certificate: not_after must be later than not_before")
    return Certificate(
        serial=body["serial"],
        node=node,
        parent=parent,
        issuer=NodeId.parse(body["issuer"]),
        suite=suite,
        verify_key=verify_key,
        kem_key=kem_key,
        not_before=body["not_before"],
        not_after=body["not_after"],
        signed=signed,
    )


def verify_chain(chain: list[Certificate], anchors: list[Certificate], now_ms: int) -> Certificate:
    """Verify ``chain[0]`` up to one of the trusted root ``anchors``; return the leaf.

    Checks, in order: 1. length 1..MAX_CHAIN; a trailing copy of an anchor (the same
    bytes) is dropped unless it is the only certificate; 2. a certificate whose subject
    is a county (a cross-certificate) appears only as the last one, directly under an
    anchor, or directly under a certificate of the same county (the county's issuing
    certificate, or the cross-certificate of that county's root), so there is at most
    one cross-certificate; 3. each certificate is signed by the next one's
    key (the last by an anchor with the issuer's node id); 4. issuers are counties and a
    county only certifies its own nodes or another county's root; 5. every certificate
    is inside its validity window at ``now_ms``.

    Raises:
        CertificateError, ExpiredError, SignatureError.
    """
    if not 1 <= len(chain) <= MAX_CHAIN:
        raise CertificateError(f"a chain has 1..{MAX_CHAIN} certificates, got {len(chain)}")
    roots = {a.node: a for a in anchors if a.is_self_signed}
    tail = roots.get(chain[-1].node)
    if len(chain) > 1 and tail is not None and tail.raw == chain[-1].raw:
        chain = chain[:-1]
    for cert, above in zip(chain[:-1], chain[1:], strict=True):
        if cert.node.role is Role.COUNTY and above.node != cert.node:
            raise CertificateError(
                f"certificate {cert.serial} for {cert.node} may only be the last of a chain, "
                "directly under a trusted root (at most one cross-certificate), or stand "
                "under a certificate of its own county (its issuing key)"
            )
    for i, cert in enumerate(chain):
        issuer = chain[i + 1] if i + 1 < len(chain) else roots.get(cert.issuer)
        if issuer is None or issuer.node != cert.issuer:
            raise CertificateError(f"no trusted issuer {cert.issuer} for certificate {cert.serial}")
        _check_issuer_may_certify(issuer.node, cert.node)
        cert.signed.verify(issuer.verify_key)
        cert.check_valid_at(now_ms)
    last = chain[-1]
    root = roots[last.issuer]
    root.signed.verify(root.verify_key)
    root.check_valid_at(now_ms)
    return chain[0]


def _check_issuer_may_certify(issuer: NodeId, subject: NodeId) -> None:
    if issuer.role is not Role.COUNTY:
        raise CertificateError(f"{issuer} may not issue certificates: only a county root may")
    if subject.role is Role.COUNTY or subject.county_code == issuer.county_code:
        return
    raise CertificateError(f"{issuer} may not certify {subject}, a node of another county")


@dataclass(frozen=True, slots=True)
class Revocation:
    serial: int
    node: NodeId
    revoked_at: int
    reason: str
    valid_through: dict[LogId, int]


@dataclass(frozen=True, slots=True)
class RevocationList:
    """A signed, versioned, append-only list of revoked certificate serials."""

    issuer: NodeId
    version: int
    issued_at: int
    revoked: dict[int, Revocation]
    signed: SignedObject = field(repr=False)

    def check_batch(
        self, serial: int, log: LogId, last_seq: int, *, issuer: NodeId | None = None
    ) -> None:
        """Refuse a batch signed under a revoked serial beyond what was valid at revocation.

        Serials are unique only within one county, so an item applies only to batches of
        the node it names. ``issuer``, if given, is the issuer of the signer's
        certificate: it must be this list's issuer, or this is the wrong list to consult.

        Raises:
            RevokedError: ``serial`` of ``log.node`` is revoked and the batch reaches past
                its ``valid_through`` for ``log``.
            CertificateError: ``issuer`` is not the issuer of this list.
        """
        if issuer is not None and issuer != self.issuer:
            raise CertificateError(
                f"revocation list of {self.issuer} does not cover certificates of {issuer}"
            )
        item = self.revoked.get(serial)
        if item is None or item.node != log.node:
            return
        if last_seq > item.valid_through.get(log, 0):
            raise RevokedError(
                f"certificate {serial} of {item.node} was revoked ({item.reason}); "
                f"{log} is valid only through seq {item.valid_through.get(log, 0)}"
            )

    def check_successor(self, newer: RevocationList) -> None:
        """A newer list must keep every revocation of this one unchanged (append-only).

        Same issuer, a strictly greater version, an ``issued_at`` not earlier than ours,
        and every item we hold present and identical (node, time, reason and
        ``valid_through``): widening ``valid_through`` would un-revoke a key in effect.
        """
        if newer.issuer != self.issuer or newer.version <= self.version:
            raise CertificateError("revocation list is not newer than the one held")
        if newer.issued_at < self.issued_at:
            raise CertificateError("revocation list was issued before the one held")
        missing = set(self.revoked) - set(newer.revoked)
        if missing:
            raise CertificateError(f"revocation list drops revoked serials {sorted(missing)[:5]}")
        changed = sorted(s for s, item in self.revoked.items() if newer.revoked[s] != item)
        if changed:
            raise CertificateError(f"revocation list changes revoked serials {changed[:5]}")


def issue_revocations(
    root_key: SigningKey, issuer: NodeId, version: int, issued_at: int, items: list[Revocation]
) -> bytes:
    body: dict[str, Any] = {
        "v": 1,
        "type": "revocations",
        "issuer": str(issuer),
        "version": version,
        "issued_at": issued_at,
        "revoked": [
            {
                "serial": it.serial,
                "node": str(it.node),
                "revoked_at": it.revoked_at,
                "reason": it.reason,
                "valid_through": sorted([str(k), v] for k, v in it.valid_through.items()),
            }
            for it in sorted(items, key=lambda it: it.serial)
        ],
    }
    return sign_object(body, root_key)


def decode_revocations(raw: bytes, root: Certificate) -> RevocationList:
    """Parse and verify a revocation list against the county root that issued it."""
    signed = decode_signed(raw, expect_type="revocations")
    body = load_body(RevocationBody(), signed.body, "revocation list")
    if NodeId.parse(body["issuer"]) != root.node:
        raise CertificateError(f"revocation list issued by {body['issuer']}, not by {root.node}")
    signed.verify(root.verify_key)
    items: dict[int, Revocation] = {}
    for it in body["revoked"]:
        if it["serial"] in items:
            raise MalformedError(f"revocation list names serial {it['serial']} twice")
        valid_through: dict[LogId, int] = {}
        for text, seq in it["valid_through"]:
            log = LogId.parse(text)  # canonical text only: str(log) == text
            if log in valid_through:
                raise MalformedError(
                    f"revocation of serial {it['serial']} names {log} twice in valid_through"
                )
            valid_through[log] = seq
        items[it["serial"]] = Revocation(
            serial=it["serial"],
            node=NodeId.parse(it["node"]),
            revoked_at=it["revoked_at"],
            reason=it["reason"],
            valid_through=valid_through,
        )
    return RevocationList(root.node, body["version"], body["issued_at"], items, signed)
