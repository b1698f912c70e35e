# SPDX-License-Identifier: Apache-2.0
"""Certificates and chains (protocol/certs.py, SPEC.md §8.2)."""

from __future__ import annotations

import pytest

from protocol.certs import Certificate, decode_certificate, verify_chain
from protocol.errors import (
    CertificateError,
    ExpiredError,
    MalformedError,
    SignatureError,
    UnsupportedError,
)
from protocol.ids import NodeId
from protocol.signed import decode_signed, sign_object
from protocol.testing import NOT_AFTER, NOT_BEFORE, NOW, make_node
from protocol.testing import TestNode as Node
from tests.protocol.helpers import certify


def test_good_chain(root: Node, village: Node) -> None:
    """Verify chain[0] up to one of the trusted root anchors; return the leaf."""
    assert village.cert == verify_chain([village.cert], [root.cert], NOW)


def test_certificate_round_trip(village: Node, root: Node) -> None:
    """Node certificates bind a node id, its parent and its two public keys."""
    cert = decode_certificate(village.cert.raw)
    assert village.node == cert.node
    assert village.node.parent == cert.parent
    assert root.node == cert.issuer
    assert village.signing.verify_key == cert.verify_key
    assert village.kem.public_key == cert.kem_key
    assert (NOT_BEFORE, NOT_AFTER) == (cert.not_before, cert.not_after)
    assert root.cert.is_self_signed and not cert.is_self_signed


@pytest.mark.parametrize("now", [NOT_BEFORE, NOW, NOT_AFTER])
def test_validity_window_is_inclusive(root: Node, village: Node, now: int) -> None:
    """4. every certificate is inside its validity window at now_ms (both ends included)."""
    assert village.cert == verify_chain([village.cert], [root.cert], now)


@pytest.mark.parametrize(
    ("not_before", "not_after"),
    [
        pytest.param(NOT_BEFORE, NOW - 1, id="expired"),
        pytest.param(NOW + 1, NOT_AFTER, id="not-yet-valid"),
    ],
)
def test_leaf_outside_window(root: Node, village: Node, not_before: int, not_after: int) -> None:
    """4. every certificate is inside its validity window at now_ms."""
    good = certify(root, village, not_before=NOT_BEFORE, not_after=NOT_AFTER)
    bad = certify(root, village, not_before=not_before, not_after=not_after)
    assert good == verify_chain([good], [root.cert], NOW)
    with pytest.raises(ExpiredError):
        verify_chain([bad], [root.cert], NOW)


def test_anchor_outside_window(root: Node, village: Node) -> None:
    """The trusted root itself must be valid at now_ms."""
    with pytest.raises(ExpiredError):
        verify_chain([village.cert], [root.cert], NOT_AFTER + 1)


def test_signed_by_another_countys_root_claiming_ours(
    root: Node, other_root: Node, village: Node
) -> None:
    """2. each certificate is signed by the next one's key (the last by an anchor)."""
    forged = certify(other_root, village, issuer_node=root.node)
    with pytest.raises(SignatureError):
        verify_chain([forged], [root.cert], NOW)


def test_issued_by_untrusted_county(root: Node, other_root: Node, other_village: Node) -> None:
    """2. the last certificate must be signed by an anchor with the issuer's node id."""
    leaf = other_village.cert
    assert leaf == verify_chain([leaf], [other_root.cert], NOW)
    with pytest.raises(CertificateError):
        verify_chain([leaf], [root.cert], NOW)


def test_township_posing_as_issuer(root: Node, township: Node, village: Node) -> None:
    """3. issuers are counties: only a county root may issue certificates."""
    leaf = certify(township, village)
    with pytest.raises(CertificateError):
        verify_chain([leaf, township.cert], [root.cert], NOW)


def test_village_of_another_county(root: Node, other_village: Node) -> None:
    """3. a county only certifies its own nodes or another county's root."""
    bad = certify(root, other_village)
    with pytest.raises(CertificateError):
        verify_chain([bad], [root.cert], NOW)


def test_tampered_body_byte(root: Node, village: Node) -> None:
    """2. each certificate is signed: one changed body byte fails the signature."""
    raw = village.cert.raw
    tampered = raw.replace(b'"serial":440104001002', b'"serial":440104001003')
    assert len(raw) == len(tampered) and raw != tampered
    bad = decode_certificate(tampered)
    with pytest.raises(SignatureError):
        verify_chain([bad], [root.cert], NOW)


def test_tampered_signature_byte(root: Node, village: Node) -> None:
    """2. each certificate is signed by the next one's key."""
    raw = bytearray(village.cert.raw)
    raw[-1] ^= 0x01
    with pytest.raises(SignatureError):
        verify_chain([decode_certificate(bytes(raw))], [root.cert], NOW)


def test_chain_length(root: Node, village: Node) -> None:
    """1. length 1..MAX_CHAIN."""
    with pytest.raises(CertificateError):
        verify_chain([], [root.cert], NOW)
    with pytest.raises(CertificateError):
        verify_chain([village.cert, root.cert, root.cert, root.cert], [root.cert], NOW)


def test_anchor_must_be_self_signed(other_village: Node, cross: Certificate) -> None:
    """Trust anchors are self-signed roots; other certificates in anchors are ignored."""
    with pytest.raises(CertificateError):
        verify_chain([other_village.cert], [cross], NOW)


def test_cross_certified_root(
    root: Node, other_root: Node, other_village: Node, cross: Certificate
) -> None:
    """A chain is at most: leaf, one cross-certificate, a trusted root."""
    assert other_village.cert == verify_chain([other_village.cert, cross], [root.cert], NOW)
    assert other_village.cert == verify_chain(
        [other_village.cert, cross, root.cert], [root.cert], NOW
    )
    with pytest.raises(CertificateError):
        verify_chain([other_village.cert], [root.cert], NOW)


def test_cross_certificate_signed_by_wrong_key(
    root: Node, other_root: Node, other_village: Node
) -> None:
    """2. each certificate is signed by the next one's key."""
    self_made = certify(other_root, other_root, issuer_node=root.node)
    with pytest.raises(SignatureError):
        verify_chain([other_village.cert, self_made], [root.cert], NOW)


@pytest.mark.parametrize("target", ["county", "village"])
def test_cross_certified_county_cannot_impersonate_ours(
    root: Node, other_root: Node, cross: Certificate, target: str
) -> None:
    """3. a county only certifies its own nodes or another county's root."""
    attacker = make_node("440106")
    fake_root = certify(other_root, _as(attacker, root.node))
    chain = [fake_root, cross]
    if target == "village":
        fake_village = certify(
            _as(attacker, root.node), _as(attacker, NodeId.for_code("440104001009"))
        )
        chain = [fake_village, fake_root, cross]
    with pytest.raises(CertificateError):
        verify_chain(chain, [root.cert], NOW)


def test_only_one_cross_certificate(root: Node, other_root: Node, cross: Certificate) -> None:
    """A chain is at most: leaf, one cross-certificate, a trusted root."""
    third_root = make_node("440106")
    third_village = make_node("440106001001", third_root)
    transitive = certify(other_root, third_root)
    with pytest.raises(CertificateError):
        verify_chain([third_village.cert, transitive, cross], [root.cert], NOW)


def _as(node: Node, name: NodeId) -> Node:
    """``node``'s keys under another name (what an attacker would claim)."""
    return Node(name, node.signing, node.kem, node.cert)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        pytest.param("parent", "township:440104002", MalformedError, id="wrong-parent"),
        pytest.param("parent", None, MalformedError, id="village-without-parent"),
        pytest.param("suite", 3, UnsupportedError, id="unknown-suite"),
        pytest.param("suite", 2, MalformedError, id="suite-key-size-mismatch"),
        pytest.param("serial", 0, MalformedError, id="serial-0"),
        pytest.param("extra", 1, MalformedError, id="unknown-field"),
        pytest.param("type", "ack", MalformedError, id="wrong-type"),
        pytest.param("node", "village:440104001000", MalformedError, id="bad-node"),
        pytest.param("verify_key", "AAAA", MalformedError, id="short-verify-key"),
        pytest.param("not_after", -1, MalformedError, id="negative-time"),
    ],
)
def test_bad_certificate_bodies(
    root: Node, village: Node, field: str, value: object, error: type[Exception]
) -> None:
    """One schema per wire message, unknown fields rejected; the parent is implied by the node."""
    body = dict(decode_signed(village.cert.raw).body)
    assert decode_certificate(sign_object(body, root.signing)).node == village.node
    body[field] = value
    with pytest.raises(error):
        decode_certificate(sign_object(body, root.signing))


def test_county_certificate_only_last_under_an_anchor(root: Node, other_root: Node) -> None:
    """A county-subject (cross) certificate is allowed only as the last
    certificate, directly under an anchor (a trailing copy of the anchor is ignored)."""
    other_village = make_node("440105001001", other_root)
    cross = certify(root, other_root, serial=9001)
    assert other_village.cert == verify_chain([other_village.cert, cross], [root.cert], NOW)
    assert other_village.cert == verify_chain(
        [other_village.cert, cross, root.cert], [root.cert], NOW
    )
    assert cross == verify_chain([cross], [root.cert], NOW)
    third_root = make_node("440106")
    transitive = certify(other_root, third_root)
    with pytest.raises(CertificateError):
        verify_chain([make_node("440106001001", third_root).cert, transitive, cross],
                     [root.cert], NOW)  # fmt: skip
    county_node = certify(root, make_node("440104"), serial=5)
    with pytest.raises(CertificateError):
        verify_chain([county_node, cross], [root.cert], NOW)


def test_certificate_window_must_not_be_empty(root: Node, village: Node) -> None:
    """decode_certificate refuses not_after <= not_before."""
    body = dict(decode_signed(village.cert.raw).body)
    for not_after in (body["not_before"], body["not_before"] - 1):
        with pytest.raises(MalformedError):
            decode_certificate(sign_object({**body, "not_after": not_after}, root.signing))
