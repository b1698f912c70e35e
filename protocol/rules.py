# SPDX-License-Identifier: Apache-2.0
"""Quarantine rules: signed, well-formed batches that must be kept but not applied.

Numbered after SPEC.md §7. Each ``check_*`` returns None or raises; the caller stores
the batch as evidence with the error's code and reports it (Matrix's soft-fail).
"""

from __future__ import annotations

from collections.abc import Collection

from protocol.batches import BatchHeader
from protocol.certs import Certificate, RevocationList
from protocol.clock import DEFAULT_MAX_DRIFT_MS, wall_ms
from protocol.entries import Entry
from protocol.errors import CertificateError, ErrorCode, QuarantineError


def check_signer(header: BatchHeader, cert: Certificate, crl: RevocationList | None) -> None:
    """7a. the batch names the signer's certificate serial, for the log's own node;
    7b. a revoked serial covers only seqs up to its ``valid_through``.

    ``crl`` must be the revocation list of the county that issued ``cert`` (serials are
    unique only per county): a list of another issuer is a CertificateError, and a
    revoked item applies only if it names the log's node.
    """
    if cert.node != header.log.node or cert.serial != header.cert_serial:
        raise CertificateError(
            f"batch of {header.log} names certificate {header.cert_serial}, "
            f"not {cert.serial} of {cert.node}"
        )
    if crl is not None:
        crl.check_batch(header.cert_serial, header.log, header.last_seq, issuer=cert.issuer)


def check_clock(header: BatchHeader, now_ms: int, max_drift_ms: int = DEFAULT_MAX_DRIFT_MS) -> None:
    """7c. no entry may be stamped further ahead of the receiver than the drift bound."""
    if wall_ms(header.hlc_max) > now_ms + max_drift_ms:
        raise QuarantineError(
            f"{header.log}: clock {wall_ms(header.hlc_max)} ms is more than "
            f"{max_drift_ms} ms ahead of ours ({now_ms} ms)",
            code=ErrorCode.CLOCK_DRIFT,
        )


def check_rulesets(entries: list[Entry], known: Collection[int]) -> None:
    """7d. every entry's ruleset version must be one this reader knows."""
    unknown = sorted({e.ruleset for e in entries} - set(known))
    if unknown:
        raise QuarantineError(
            f"ruleset versions {unknown} are unknown here", code=ErrorCode.UNKNOWN_RULESET
        )
