# SPDX-License-Identifier: Apache-2.0
"""Small helpers shared by the protocol tests (importable, unlike conftest)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.batches import BatchHeader
from protocol.certs import (
    Certificate,
    Revocation,
    RevocationList,
    decode_certificate,
    decode_revocations,
    issue_certificate,
    issue_revocations,
)
from protocol.crypto import KemPrivateKey
from protocol.entries import Entry
from protocol.ids import NodeId
from protocol.signed import CONTEXT as SIGNED_CONTEXT
from protocol.testing import NOT_AFTER, NOT_BEFORE, NOW, ORIGIN_EXPIRES, ORIGIN_SENT, TestNode

DAY_MS = 86_400_000
VECTORS = Path(__file__).parents[2] / "protocol" / "vectors"


def vectors(name: str) -> dict[str, Any]:
    """One vector file of protocol/vectors, parsed."""
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


Receive = Callable[..., list[Entry]]


@dataclass(frozen=True)
class SealedBatch:
    """A signed batch, its sealed middle and the addressed envelope bytes."""

    entries: list[Entry]
    header: BatchHeader
    batch_sig: bytes
    sealed: bytes
    raw: bytes


def header_of(entries: Sequence[Entry], serial: int = 1, **changes: object) -> BatchHeader:
    """The header sign_batch would make for ``entries`` (with ``changes``), unsigned."""
    first, last = entries[0], entries[-1]
    header = BatchHeader(
        first.suite, first.log, first.seq, last.seq, first.prev_hash, last.hash,
        first.hlc, last.hlc, serial, ORIGIN_SENT, ORIGIN_EXPIRES,
    )  # fmt: skip
    return dataclasses.replace(header, **changes)  # type: ignore[arg-type]


def raw_signed(body: bytes, signer: TestNode, magic: bytes = b"RKS1") -> bytes:
    """A signed object around exactly ``body`` (no canonical checks on the way)."""
    head = magic + bytes([signer.signing.suite]) + len(body).to_bytes(4, "big") + body
    head += signer.signing.verify_key.key_id
    sig = signer.signing.sign(SIGNED_CONTEXT + head)
    return head + len(sig).to_bytes(2, "big") + sig


def certify(
    issuer: TestNode,
    subject: TestNode,
    *,
    issuer_node: NodeId | None = None,
    serial: int = 77,
    not_before: int = NOT_BEFORE,
    not_after: int = NOT_AFTER,
) -> Certificate:
    """``issuer`` signs a certificate for ``subject``'s node and keys (naming itself
    ``issuer_node``, if given: what an impostor would claim)."""
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


def revocation_list(
    issuer: TestNode, version: int, items: list[Revocation], at: int = NOW
) -> RevocationList:
    """A revocation list signed by ``issuer``'s root key, decoded against its certificate."""
    return decode_revocations(
        issue_revocations(issuer.signing, issuer.node, version, at, items), issuer.cert
    )


def keyring(*nodes: TestNode) -> dict[bytes, KemPrivateKey]:
    """The ``key id -> private key`` map open_envelope wants."""
    return {n.kem.public_key.key_id: n.kem for n in nodes}


def planes(values: Sequence[int], width: int) -> bytes:
    """Big-endian ``width``-byte integers as byte planes (frames format 2, SPEC.md §5.3)."""
    packed = b"".join(v.to_bytes(width, "big") for v in values)
    return b"".join(packed[k::width] for k in range(width))


def raw_frames(
    deltas: Sequence[int],
    *,
    codes: Sequence[int] | None = None,
    flags: Sequence[int] | None = None,
    rulesets: Sequence[int] | None = None,
    shapes: Sequence[bytes] = (),
    raw: Sequence[bytes] = (),
    raw_lens: Sequence[int] | None = None,
    erased: Sequence[tuple[int, bytes]] = (),
    tokens: bytes = b"",
) -> bytes:
    """Format-2 frames spelled out field by field, so tests can get any of them wrong.

    Codes default to 0 (verbatim) for every entry; ``shapes`` are encoded shape entries
    (see :func:`shape`).
    """
    n = len(deltas)
    return b"".join(
        [
            planes(deltas, 8),
            planes(rulesets or [1] * n, 2),
            bytes(flags or [0] * n),
            planes(codes or [0] * n, 2),
            len(shapes).to_bytes(2, "big"),
            *shapes,
            planes(raw_lens if raw_lens is not None else [len(p) for p in raw], 4),
            b"".join(length.to_bytes(4, "big") + digest for length, digest in erased),
            *raw,
            tokens,
        ]
    )


def shape(*ops: tuple[bytes, Sequence[bytes]]) -> bytes:
    """One shape-table entry: ``n_ops u16`` then each op's kind and field names."""
    out = len(ops).to_bytes(2, "big")
    for kind, names in ops:
        out += bytes([len(kind)]) + kind + bytes([len(names)])
        out += b"".join(bytes([len(name)]) + name for name in names)
    return out
