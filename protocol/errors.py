# SPDX-License-Identifier: Apache-2.0
"""Typed errors of the protocol layer.

Every decoder and verifier in ``protocol`` raises only these (programmer mistakes aside,
which raise ``TypeError``/``ValueError``). Each carries a stable :class:`ErrorCode`; HTTP
statuses are chosen at the edge (node/), never here.

Tree::

    ProtocolError
    ├── MalformedError          bytes are not a well-formed, canonical object
    │   └── TooLargeError       a size, count or depth bound was exceeded before parsing
    ├── UnsupportedError        unknown version, suite or op type (kept, never guessed at)
    ├── SignatureError          a signature does not verify (opaque on purpose)
    ├── DecryptionError         nothing could be opened (opaque on purpose)
    ├── UnknownRecipientError   the object is not wrapped for any key we hold
    ├── RecipientsError         not sealed for a recipient the receiver requires
    ├── ExpiryExtendedError     a hop signed a later expiry than the origin's
    ├── ChainError              hash links, ranges or seqs do not add up
    │   ├── GapError            entries are missing before this batch
    │   └── ForkError           two validly signed histories of one log disagree
    ├── CertificateError        a certificate or chain is not valid for this use
    │   ├── ExpiredError        outside its validity window (also expired envelopes)
    │   ├── RevokedError        the signing key was revoked
    │   └── UnknownCertificateError  the receiver holds no such certificate: send it
    └── QuarantineError         valid and signed but not applicable now (drift, ruleset)

A known magic with another version digit (``RKS2``), an integer ``"v"`` other than 1 and
a ``sealed:N:`` prefix with another N are *unsupported*, not malformed: the object may be
fine, we just do not speak its version. Unknown rulesets are not ``UnsupportedError``:
the entry is signed and well-formed, so it is a :class:`QuarantineError` with code
``unknown_ruleset`` (SPEC.md §7d).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable strings that cross the wire and appear in SPEC.md and the vectors."""

    MALFORMED = "malformed"
    NON_CANONICAL = "non_canonical"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"
    BAD_SIGNATURE = "bad_signature"
    DECRYPT_FAILED = "decrypt_failed"
    NO_RECIPIENT = "no_recipient"
    BAD_RECIPIENTS = "bad_recipients"
    EXPIRY_EXTENDED = "expiry_extended"
    BAD_CHAIN = "bad_chain"
    GAP = "gap"
    FORK = "fork"
    BAD_CERTIFICATE = "bad_certificate"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN_CERTIFICATE = "unknown_certificate"
    CLOCK_DRIFT = "clock_drift"
    UNKNOWN_RULESET = "unknown_ruleset"
    QUARANTINED = "quarantined"


class ProtocolError(Exception):
    """Base of every protocol error; ``code`` is machine-readable, the message is for people."""

    code: ErrorCode = ErrorCode.MALFORMED

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class MalformedError(ProtocolError):
    code = ErrorCode.MALFORMED


class TooLargeError(MalformedError):
    code = ErrorCode.TOO_LARGE


class UnsupportedError(ProtocolError):
    """A version (magic digit, ``"v"``, sealed-field prefix), suite or op type we do not know.

    Rulesets are not covered here: an unknown ruleset is a :class:`QuarantineError` with
    code ``unknown_ruleset``.
    """

    code = ErrorCode.UNSUPPORTED


class SignatureError(ProtocolError):
    code = ErrorCode.BAD_SIGNATURE


class DecryptionError(ProtocolError):
    code = ErrorCode.DECRYPT_FAILED


class UnknownRecipientError(ProtocolError):
    code = ErrorCode.NO_RECIPIENT


class RecipientsError(ProtocolError):
    """The envelope is not sealed for a recipient the receiver requires (SPEC.md §6.7):
    a relay refuses, before acknowledging, a batch the county could not open."""

    code = ErrorCode.BAD_RECIPIENTS


class ExpiryExtendedError(ProtocolError):
    """A hop signed an envelope expiry later than the origin's, which the batch header
    carries under the origin's signature (SPEC.md §6.5, §6.7 step 2): a relay tried to
    hand a batch on as fresher than its origin made it. The hop's signature makes it
    attributable to the hop."""

    code = ErrorCode.EXPIRY_EXTENDED


class ChainError(ProtocolError):
    code = ErrorCode.BAD_CHAIN


class GapError(ChainError):
    """Entries are missing: ``have`` is the last contiguous seq, ``first`` the batch start."""

    code = ErrorCode.GAP

    def __init__(self, message: str, *, have: int, first: int) -> None:
        super().__init__(message)
        self.have = have
        self.first = first


class ForkError(ChainError):
    """Two signed histories disagree.

    ``proof`` is a checkable :class:`protocol.frontier.ForkProof` when the raiser has both
    signed headers, else None (the caller builds one from the header it holds).
    """

    code = ErrorCode.FORK

    def __init__(self, message: str, *, proof: object = None) -> None:
        super().__init__(message)
        self.proof = proof


class CertificateError(ProtocolError):
    code = ErrorCode.BAD_CERTIFICATE


class ExpiredError(CertificateError):
    code = ErrorCode.EXPIRED


class RevokedError(CertificateError):
    code = ErrorCode.REVOKED


class UnknownCertificateError(CertificateError):
    """The receiver holds no certificate of the signer that it could check this with.

    Not a judgement of the certificate: the sender introduces it (the session request
    or ``POST /certs``, SPEC.md §15) and sends again.
    """

    code = ErrorCode.UNKNOWN_CERTIFICATE


class QuarantineError(ProtocolError):
    """Signed and well-formed, but must be kept as evidence rather than applied.

    The default code is the neutral ``quarantined``; the raisers name the reason
    explicitly (``clock_drift`` in protocol.clock and rules 7c, ``unknown_ruleset`` in 7d).
    """

    code = ErrorCode.QUARANTINED
