# SPDX-License-Identifier: Apache-2.0
"""renkou-net protocol v1: a pure library (no disk, no network, no Flask).

Signed, hash-chained change logs of each node, sealed for the nodes allowed to read
them. SPEC.md beside this file is the normative description; the vectors in
``protocol/vectors`` pin every byte.
"""

from protocol.batches import BatchHeader, decode_header, rebuild_entries, sign_batch
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
from protocol.clock import HybridClock
from protocol.crypto import KemPrivateKey, KemPublicKey, SigningKey, Suite, VerifyKey
from protocol.entries import ZERO_HASH, Entry, make_entry
from protocol.envelope import (
    Envelope,
    address,
    decode_envelope,
    open_envelope,
    readdress,
    seal_batch,
)
from protocol.errors import (
    CertificateError,
    ChainError,
    DecryptionError,
    ErrorCode,
    ExpiredError,
    ForkError,
    GapError,
    MalformedError,
    ProtocolError,
    QuarantineError,
    RevokedError,
    SignatureError,
    TooLargeError,
    UnknownRecipientError,
    UnsupportedError,
)
from protocol.frontier import (
    Ack,
    ForkProof,
    Frontier,
    Head,
    check_continues,
    decode_ack,
    decode_fork_proof,
    sign_ack,
)
from protocol.ids import LogId, NodeId, Role
from protocol.ops import EpochStart, Note, Op, Retire, Upsert, decode_payload, encode_payload
from protocol.signed import SignedObject, decode_signed, sign_object

VERSION = 1

__all__ = [
    "VERSION",
    "Ack",
    "BatchHeader",
    "Certificate",
    "CertificateError",
    "ChainError",
    "DecryptionError",
    "Entry",
    "Envelope",
    "EpochStart",
    "ErrorCode",
    "ExpiredError",
    "ForkError",
    "ForkProof",
    "Frontier",
    "GapError",
    "Head",
    "HybridClock",
    "KemPrivateKey",
    "KemPublicKey",
    "LogId",
    "MalformedError",
    "NodeId",
    "Note",
    "Op",
    "ProtocolError",
    "QuarantineError",
    "Retire",
    "Revocation",
    "RevocationList",
    "RevokedError",
    "Role",
    "SignatureError",
    "SignedObject",
    "SigningKey",
    "Suite",
    "TooLargeError",
    "UnknownRecipientError",
    "UnsupportedError",
    "Upsert",
    "VerifyKey",
    "ZERO_HASH",
    "address",
    "check_continues",
    "decode_ack",
    "decode_certificate",
    "decode_envelope",
    "decode_fork_proof",
    "decode_header",
    "decode_payload",
    "decode_revocations",
    "decode_signed",
    "encode_payload",
    "issue_certificate",
    "issue_revocations",
    "make_entry",
    "open_envelope",
    "readdress",
    "rebuild_entries",
    "seal_batch",
    "sign_ack",
    "sign_batch",
    "sign_object",
    "verify_chain",
]
