# SPDX-License-Identifier: Apache-2.0
"""The batch header and origin signature of a stored envelope, read without the rest.

A relay keeps the envelopes it forwards and, for every batch it receives, compares the
new header's claims with the headers it kept (SPEC.md §9.2, fork proofs §9.3). Those
bytes sit at a fixed offset (§6.1), so a store can hand over just them
(``substr(raw, HEADER_VIEW_OFFSET + 1, HEADER_VIEW_SIZE)`` in SQLite) instead of a whole
envelope of up to 8 MiB; this module says where they are and parses them.
"""

from __future__ import annotations

from protocol import batches
from protocol.batches import BatchHeader, decode_header
from protocol.binary import Reader
from protocol.crypto import Suite
from protocol.envelope import HOP_FIELDS_SIZE

HEADER_VIEW_OFFSET = HOP_FIELDS_SIZE
"""Offset of the batch header in an envelope (0-based)."""
HEADER_VIEW_SIZE = batches.SIZE + 2 + max(suite.signature_size for suite in Suite)
"""Bytes to read from there: the header, the signature length and the longest signature."""


def decode_header_view(part: bytes) -> tuple[BatchHeader, bytes]:
    """The batch header and origin signature at the start of ``part`` (bytes of an
    envelope from HEADER_VIEW_OFFSET on; anything after the signature is ignored).

    Raises:
        MalformedError: cut short, or a header that does not decode (§5.2).
        TooLargeError: a signature length over the header's suite's signature size.
    """
    r = Reader(part[:HEADER_VIEW_SIZE], "envelope header view")
    header = decode_header(r.take(batches.SIZE))
    signature = r.blob16(header.suite.signature_size, "batch signature")
    return header, signature


__all__ = ["HEADER_VIEW_OFFSET", "HEADER_VIEW_SIZE", "decode_header_view"]
