# SPDX-License-Identifier: Apache-2.0
"""Defences that a mutant removed with every other test green (tests/mutants/mutants.toml).

Each test here is the one its mutant names: it fails when that one check is gone.
"""

from __future__ import annotations

import dataclasses

import pytest

from protocol.batches import CONTEXT
from protocol.envelope import MAGIC, MAX_ENVELOPE, address, decode_envelope, seal_batch
from protocol.errors import CertificateError, ChainError, MalformedError, TooLargeError
from protocol.rules import check_signer
from protocol.testing import NOW
from protocol.testing import TestNode as Node
from tests.protocol.helpers import DAY_MS, Receive, SealedBatch


def test_signed_clock_bounds_must_be_the_entries_clocks(
    sealed_batch: SealedBatch, receive: Receive, village: Node, township: Node
) -> None:
    """SPEC §5.3 step 4: a relay checks the drift bound on the header's ``hlc_max``
    without opening the entries, so an origin that signs bounds below its entries'
    clocks would slip far-future entries past the quarantine. The chain alone does
    not catch it: the bounds are not part of any entry hash."""
    entries = sealed_batch.entries
    for bounds in (
        {"hlc_max": entries[-1].hlc - 1},
        {"hlc_min": entries[0].hlc + 1},
    ):
        header = dataclasses.replace(sealed_batch.header, **bounds)
        sig = village.signing.sign(CONTEXT + header.to_bytes())
        sealed = seal_batch(entries, header, sig, [township.kem.public_key])
        raw = address(sealed, village.signing, village.node, township.node, NOW, NOW + DAY_MS)
        with pytest.raises(ChainError, match="clock bounds"):
            receive(raw)


def test_7a_a_batch_names_its_signers_serial_and_node(
    sealed_batch: SealedBatch, village: Node, village2: Node
) -> None:
    """SPEC §7 7a: the batch names the signer's certificate serial, for the log's own
    node; a revocation is judged by that serial, so it must be the signer's."""
    header = sealed_batch.header
    check_signer(header, village.cert, None)
    with pytest.raises(CertificateError):
        check_signer(
            dataclasses.replace(header, cert_serial=header.cert_serial + 1), village.cert, None
        )
    with pytest.raises(CertificateError):
        check_signer(header, village2.cert, None)


def test_an_oversized_envelope_is_refused_before_it_is_read() -> None:
    """Every decoder bounds sizes before parsing: one byte over MAX_ENVELOPE is
    TooLargeError (413), whatever follows the magic."""
    with pytest.raises(TooLargeError):
        decode_envelope(MAGIC + bytes(MAX_ENVELOPE + 1 - len(MAGIC)))


def test_an_envelope_names_its_recipients_sorted_and_once(sealed_batch: SealedBatch) -> None:
    """SPEC §6: recipient key ids strictly ascending, so one envelope has one spelling
    and no recipient is named twice; decoding (before any signature) refuses others."""
    env = decode_envelope(sealed_batch.raw)
    (k1, w1), (k2, w2) = env.wraps
    listed = k1 + w1 + k2 + w2
    assert sealed_batch.raw.count(listed) == 1
    for wraps in (k2 + w2 + k1 + w1, k1 + w1 + k1 + w1):
        with pytest.raises(MalformedError, match="sorted and distinct"):
            decode_envelope(sealed_batch.raw.replace(listed, wraps))
