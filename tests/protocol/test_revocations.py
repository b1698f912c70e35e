# SPDX-License-Identifier: Apache-2.0
"""Revocation lists and rule 7b (protocol/certs.py, SPEC.md §7b, §8.3)."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.certs import Revocation, RevocationList, decode_revocations, issue_revocations
from protocol.errors import CertificateError, MalformedError, RevokedError, SignatureError
from protocol.ids import LogId
from protocol.rules import check_signer
from protocol.signed import sign_object
from protocol.testing import NOW
from protocol.testing import TestNode as Node
from tests.protocol.helpers import SealedBatch, revocation_list


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


def test_successor_append_only(
    root: Node, crl: RevocationList, crl_items: list[Revocation], village2: Node
) -> None:
    """A newer list must keep every revocation of this one (append-only)."""
    extra = Revocation(village2.cert.serial, village2.node, NOW, "lost", {})
    crl.check_successor(revocation_list(root, 2, [*crl_items, extra]))
    with pytest.raises(CertificateError):
        crl.check_successor(revocation_list(root, 2, [extra]))


def test_successor_must_be_newer(
    root: Node, crl: RevocationList, crl_items: list[Revocation]
) -> None:
    """A newer list must have a higher version than the one held (versions start at 1)."""
    with pytest.raises(CertificateError):
        crl.check_successor(revocation_list(root, 1, crl_items))
    with pytest.raises(MalformedError):
        revocation_list(root, 0, crl_items)


def test_successor_wrong_issuer(
    other_root: Node, crl: RevocationList, crl_items: list[Revocation]
) -> None:
    """A newer list must come from the same issuer."""
    with pytest.raises(CertificateError):
        crl.check_successor(revocation_list(other_root, 2, crl_items))


def test_successor_cannot_widen_valid_through(
    root: Node, crl: RevocationList, crl_items: list[Revocation], village_log: LogId
) -> None:
    """A newer list must keep every revocation of this one (append-only)."""
    item = crl_items[0]
    widened = Revocation(
        item.serial, item.node, item.revoked_at, item.reason, {village_log: 2**53 - 1}
    )
    with pytest.raises(CertificateError):
        crl.check_successor(revocation_list(root, 2, [widened]))


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


LOG_TEXT = "village:440104001002#1"


def test_successor_keeps_items_unchanged_and_time_monotonic(
    root: Node, village: Node, village2: Node, village_log: LogId
) -> None:
    """check_successor refuses a changed item and an earlier issued_at."""
    item = Revocation(village.cert.serial, village.node, NOW, "stolen", {village_log: 3})
    held = revocation_list(root, 1, [item])
    extra = Revocation(village2.cert.serial, village2.node, NOW, "lost", {})
    held.check_successor(revocation_list(root, 2, [item, extra]))
    for changed in [
        dataclasses.replace(item, reason="lost"),
        dataclasses.replace(item, revoked_at=NOW + 1),
        dataclasses.replace(item, valid_through={village_log: 4}),
        dataclasses.replace(item, valid_through={}),
    ]:
        with pytest.raises(CertificateError):
            held.check_successor(revocation_list(root, 2, [changed]))
    with pytest.raises(CertificateError):
        held.check_successor(revocation_list(root, 2, [item], at=NOW - 1))


def test_revocation_applies_to_its_node_and_issuer_only(
    root: Node, other_root: Node, village: Node, village2: Node, sealed_batch: SealedBatch
) -> None:
    """a revoked item applies only to batches of its node (serials are
    unique per county), and the CRL must be the signer certificate's issuer's."""
    header = sealed_batch.header
    same_serial_other_node = Revocation(village.cert.serial, village2.node, NOW, "lost", {})
    crl = revocation_list(root, 1, [same_serial_other_node])
    crl.check_batch(header.cert_serial, header.log, header.last_seq)
    check_signer(header, village.cert, crl)
    foreign = revocation_list(other_root, 1, [])
    with pytest.raises(CertificateError):
        check_signer(header, village.cert, foreign)
    with pytest.raises(CertificateError):
        foreign.check_batch(header.cert_serial, header.log, 1, issuer=root.node)


def test_revocation_valid_through_is_strict(root: Node, village: Node) -> None:
    """valid_through names each log once, in canonical LogId text."""
    for valid_through in (
        [[LOG_TEXT, 3], [LOG_TEXT, 100]],
        [["village:440104001002#01", 3]],
        [["VILLAGE:440104001002#1", 3]],
        [["village:440104001002#1\n", 3]],
    ):
        item = {
            "serial": village.cert.serial, "node": str(village.node), "revoked_at": NOW,
            "reason": "lost", "valid_through": valid_through,
        }  # fmt: skip
        body = {
            "v": 1, "type": "revocations", "issuer": str(root.node), "version": 1,
            "issued_at": NOW, "revoked": [item],
        }  # fmt: skip
        with pytest.raises(MalformedError):
            decode_revocations(sign_object(body, root.signing), root.cert)
