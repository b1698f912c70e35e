# SPDX-License-Identifier: Apache-2.0
"""Certificates, chains and revocation lists (protocol/certs.py)."""

from __future__ import annotations

import pytest

from protocol.certs import (
    Certificate,
    Revocation,
    RevocationList,
    decode_certificate,
    decode_revocations,
    issue_certificate,
    issue_revocations,
    verify_chain,
)
from protocol.errors import (
    CertificateError,
    ExpiredError,
    MalformedError,
    RevokedError,
    SignatureError,
    UnsupportedError,
)
from protocol.ids import LogId, NodeId
from protocol.signed import decode_signed, sign_object
from protocol.testing import NOT_AFTER, NOT_BEFORE, NOW, make_node
from protocol.testing import TestNode as Node


def _issue(
    issuer: Node,
    subject: Node,
    *,
    issuer_node: NodeId | None = None,
    serial: int = 77,
    not_before: int = NOT_BEFORE,
    not_after: int = NOT_AFTER,
) -> Certificate:
    """``issuer`` signs a certificate for ``subject``'s node and keys."""
    return decode_certificate(
        issue_certificate(
            issuer.signing,
            issuer.node if issuer_node is None else issuer_node,
            serial=serial,
            node=subject.node,
            verify_key=subject.signing.verify_key,
            kem_key=subject.kem.public_key,
            not_before=not_before,
            not_after=not_after,
        )
    )


@pytest.fixture(scope="module")
def other_village(other_root: Node) -> Node:
    return make_node("440105001001", other_root)


@pytest.fixture(scope="module")
def cross(root: Node, other_root: Node) -> Certificate:
    """Our county root cross-certifies the other county's root."""
    return _issue(root, other_root, serial=9001)


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
    good = _issue(root, village, not_before=NOT_BEFORE, not_after=NOT_AFTER)
    bad = _issue(root, village, not_before=not_before, not_after=not_after)
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
    forged = _issue(other_root, village, issuer_node=root.node)
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
    leaf = _issue(township, village)
    with pytest.raises(CertificateError):
        verify_chain([leaf, township.cert], [root.cert], NOW)


def test_village_of_another_county(root: Node, other_village: Node) -> None:
    """3. a county only certifies its own nodes or another county's root."""
    bad = _issue(root, other_village)
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
    self_made = _issue(other_root, other_root, issuer_node=root.node)
    with pytest.raises(SignatureError):
        verify_chain([other_village.cert, self_made], [root.cert], NOW)


@pytest.mark.parametrize("target", ["county", "village"])
def test_cross_certified_county_cannot_impersonate_ours(
    root: Node, other_root: Node, cross: Certificate, target: str
) -> None:
    """3. a county only certifies its own nodes or another county's root."""
    attacker = make_node("440106")
    fake_root = _issue(other_root, _as(attacker, root.node))
    chain = [fake_root, cross]
    if target == "village":
        fake_village = _issue(
            _as(attacker, root.node), _as(attacker, NodeId.for_code("440104001009"))
        )
        chain = [fake_village, fake_root, cross]
    with pytest.raises(CertificateError):
        verify_chain(chain, [root.cert], NOW)


def test_only_one_cross_certificate(root: Node, other_root: Node, cross: Certificate) -> None:
    """A chain is at most: leaf, one cross-certificate, a trusted root."""
    third_root = make_node("440106")
    third_village = make_node("440106001001", third_root)
    transitive = _issue(other_root, third_root)
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


# Revocation lists.


@pytest.fixture(scope="module")
def crl_items(village: Node, village_log: LogId) -> list[Revocation]:
    return [Revocation(village.cert.serial, village.node, NOW, "stolen", {village_log: 3})]


@pytest.fixture(scope="module")
def crl(root: Node, crl_items: list[Revocation]) -> RevocationList:
    return decode_revocations(
        issue_revocations(root.signing, root.node, 1, NOW, crl_items), root.cert
    )


def test_revocation_round_trip(crl: RevocationList, crl_items: list[Revocation]) -> None:
    """Revocation is by serial; each item carries valid_through per log."""
    assert {crl_items[0].serial: crl_items[0]} == crl.revoked
    assert 1 == crl.version


@pytest.mark.parametrize("last_seq", [1, 2, 3])
def test_revoked_batch_up_to_valid_through(
    crl: RevocationList, village: Node, village_log: LogId, last_seq: int
) -> None:
    """Entries up to valid_through stay valid (they were signed before the loss)."""
    crl.check_batch(village.cert.serial, village_log, last_seq)


@pytest.mark.parametrize("last_seq", [4, 100])
def test_revoked_batch_beyond_valid_through(
    crl: RevocationList, village: Node, village_log: LogId, last_seq: int
) -> None:
    """Anything later than valid_through is refused."""
    with pytest.raises(RevokedError):
        crl.check_batch(village.cert.serial, village_log, last_seq)


def test_revoked_serial_other_log(crl: RevocationList, village: Node) -> None:
    """A log not named in valid_through is valid through seq 0: nothing of it is accepted."""
    with pytest.raises(RevokedError):
        crl.check_batch(village.cert.serial, LogId(village.node, 2), 1)


def test_unrevoked_serial(crl: RevocationList, village2: Node) -> None:
    """Only revoked serials are refused."""
    crl.check_batch(village2.cert.serial, LogId(village2.node, 1), 10**6)


def _crl(issuer: Node, version: int, items: list[Revocation]) -> RevocationList:
    return decode_revocations(
        issue_revocations(issuer.signing, issuer.node, version, NOW, items), issuer.cert
    )


def test_successor_append_only(
    root: Node, crl: RevocationList, crl_items: list[Revocation], village2: Node
) -> None:
    """A newer list must keep every revocation of this one (append-only)."""
    extra = Revocation(village2.cert.serial, village2.node, NOW, "lost", {})
    crl.check_successor(_crl(root, 2, [*crl_items, extra]))
    with pytest.raises(CertificateError):
        crl.check_successor(_crl(root, 2, [extra]))


def test_successor_must_be_newer(
    root: Node, crl: RevocationList, crl_items: list[Revocation]
) -> None:
    """A newer list must have a higher version than the one held (versions start at 1)."""
    with pytest.raises(CertificateError):
        crl.check_successor(_crl(root, 1, crl_items))
    with pytest.raises(MalformedError):
        _crl(root, 0, crl_items)


def test_successor_wrong_issuer(
    other_root: Node, crl: RevocationList, crl_items: list[Revocation]
) -> None:
    """A newer list must come from the same issuer."""
    with pytest.raises(CertificateError):
        crl.check_successor(_crl(other_root, 2, crl_items))


def test_successor_cannot_widen_valid_through(
    root: Node, crl: RevocationList, crl_items: list[Revocation], village_log: LogId
) -> None:
    """A newer list must keep every revocation of this one (append-only)."""
    item = crl_items[0]
    widened = Revocation(
        item.serial, item.node, item.revoked_at, item.reason, {village_log: 2**53 - 1}
    )
    with pytest.raises(CertificateError):
        crl.check_successor(_crl(root, 2, [widened]))


def test_revocations_wrong_issuer(
    root: Node, other_root: Node, crl_items: list[Revocation]
) -> None:
    """Parse and verify a revocation list against the county root that issued it."""
    raw = issue_revocations(other_root.signing, other_root.node, 1, NOW, crl_items)
    with pytest.raises(CertificateError):
        decode_revocations(raw, root.cert)


def test_revocations_forged_signature(
    root: Node, other_root: Node, crl_items: list[Revocation]
) -> None:
    """A list naming our root as issuer but signed by another key fails the signature."""
    raw = issue_revocations(other_root.signing, root.node, 1, NOW, crl_items)
    with pytest.raises(SignatureError):
        decode_revocations(raw, root.cert)


def test_revocations_duplicate_serial(root: Node, crl_items: list[Revocation]) -> None:
    """A revocation list names each serial once."""
    raw = issue_revocations(root.signing, root.node, 1, NOW, [*crl_items, *crl_items])
    with pytest.raises(MalformedError):
        decode_revocations(raw, root.cert)


def test_revocations_duplicate_log_in_valid_through(root: Node, village: Node) -> None:
    """A revocation list names each serial once (and each log of an item once)."""
    log = "village:440104001002#1"
    item = {
        "serial": village.cert.serial, "node": str(village.node), "revoked_at": NOW,
        "reason": "lost", "valid_through": [[log, 3], [log, 100]],
    }  # fmt: skip
    body = {
        "v": 1, "type": "revocations", "issuer": str(root.node), "version": 1,
        "issued_at": NOW, "revoked": [item],
    }  # fmt: skip
    with pytest.raises(MalformedError):
        decode_revocations(sign_object(body, root.signing), root.cert)


# The signed-object container certificates travel in.


def test_signed_object_round_trip(root: Node) -> None:
    """The signature covers CONTEXT || every byte before sig_len; verify() returns None."""
    raw = sign_object({"v": 1, "type": "advisory", "text": "台风"}, root.signing)
    signed = decode_signed(raw, expect_type="advisory")
    assert {"v": 1, "type": "advisory", "text": "台风"} == signed.body
    assert signed.verify(root.cert.verify_key) is None
    with pytest.raises(MalformedError):
        decode_signed(raw, expect_type="certificate")


def test_signed_object_wrong_key(root: Node, other_root: Node) -> None:
    """verify() raises SignatureError for any key but the signer's."""
    signed = decode_signed(sign_object({"v": 1, "type": "advisory"}, root.signing))
    with pytest.raises(SignatureError):
        signed.verify(other_root.cert.verify_key)


def test_signed_object_version_true(root: Node) -> None:
    """Every signed output starts with a version marker ("v": 1)."""
    head = b"RKS1" + bytes([root.signing.suite])
    body = b'{"type":"advisory","v":true}'
    raw = head + len(body).to_bytes(4, "big") + body + root.cert.verify_key.key_id
    sig = root.signing.sign(b"renkou-net/1 signed object\x00" + raw)
    with pytest.raises(MalformedError):
        decode_signed(raw + len(sig).to_bytes(2, "big") + sig)
