# SPDX-License-Identifier: Apache-2.0
"""A page of a parent's outbox for one child (``GET /sync/v1/outbox``, SPEC.md §15.7).

A parent keeps, per child, a numbered list of messages going down: acknowledgements,
rejection and outcome notices (signed objects, §8.1) and advisories (envelopes, §6).
A page is a run of items after the child's cursor, oldest first::

    page = item*          item = u64(n) | u32(len) | raw[len]

Numbers strictly increase within a page and all lie above the cursor asked for; a page
holds at most ``MAX_PAGE_ITEMS`` items; an empty body means nothing after the cursor.
Each item is one message whose kind the reader tells by its magic.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from protocol.batches import MAX_SEQ
from protocol.binary import Reader
from protocol.envelope import MAGIC as ENVELOPE_MAGIC
from protocol.envelope import MAX_ENVELOPE
from protocol.errors import MalformedError, TooLargeError

MAX_PAGE_ITEMS = 64
MAX_ITEM = MAX_ENVELOPE
MAX_PAGE = 16 * 1024 * 1024
"""A page's bytes: the reference server stops a page before it passes this."""
_ITEM = struct.Struct(">QI")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """Item ``n`` of a child's outbox: the exact bytes of one message."""

    n: int
    raw: bytes = field(repr=False)

    @property
    def is_envelope(self) -> bool:
        """An advisory (an envelope, §6); every other item is a signed object (§8.1)."""
        return self.raw[: len(ENVELOPE_MAGIC)] == ENVELOPE_MAGIC


def encode_outbox_page(items: list[OutboxItem]) -> bytes:
    """The page body for ``items`` (in the order given, which must be increasing).

    Raises:
        ValueError: more than MAX_PAGE_ITEMS items, numbers not increasing or out of
            range, or an item over MAX_ITEM bytes.
    """
    if len(items) > MAX_PAGE_ITEMS:
        raise ValueError(f"an outbox page holds at most {MAX_PAGE_ITEMS} items")
    out = bytearray()
    last = 0
    for item in items:
        if not last < item.n <= MAX_SEQ:
            raise ValueError("outbox item numbers must increase within 1..2**53-1")
        if len(item.raw) > MAX_ITEM:
            raise ValueError(f"an outbox item is at most {MAX_ITEM} bytes")
        out += _ITEM.pack(item.n, len(item.raw)) + item.raw
        last = item.n
    return bytes(out)


def decode_outbox_page(body: bytes, after: int) -> tuple[OutboxItem, ...]:
    """Parse a page asked for with ``after`` (the reader's cursor).

    Raises:
        TooLargeError: the page is over MAX_PAGE bytes, holds over MAX_PAGE_ITEMS
            items, or an item is over MAX_ITEM bytes.
        MalformedError: cut short, an empty item, or item numbers that are not
            increasing, not above ``after`` or over 2**53-1.
    """
    if len(body) > MAX_PAGE:
        raise TooLargeError(f"outbox page of {len(body)} bytes exceeds {MAX_PAGE}")
    r = Reader(body, "outbox page")
    items: list[OutboxItem] = []
    last = after
    while r.remaining:
        if len(items) == MAX_PAGE_ITEMS:
            raise TooLargeError(f"outbox page holds more than {MAX_PAGE_ITEMS} items")
        n = r.u64()
        raw = r.blob32(MAX_ITEM, "outbox item")
        if not last < n <= MAX_SEQ:
            raise MalformedError(f"outbox item {n} does not follow {last}")
        if not raw:
            raise MalformedError(f"outbox item {n} is empty")
        items.append(OutboxItem(n, raw))
        last = n
    return tuple(items)


__all__ = [
    "MAX_PAGE_ITEMS",
    "OutboxItem",
    "decode_outbox_page",
    "encode_outbox_page",
]
