# SPDX-License-Identifier: Apache-2.0
"""Sealed fields: one value readable by a narrower set of nodes than its record.

A complainant's identity must never reach the party complained about (domain.md §5),
who may well be the village officer or the township relaying the record. The value is
sealed inside the payload for named recipients (the county's complaint handler) and
bound to where it sits (node, kind, record id, field), so it cannot be lifted into
another record. Layout, then base64 with the prefix ``sealed:1:``::

    suite u8 | n u8 | n × (key_id [8] | wrap) | ciphertext (ChaCha20-Poly1305, 16-byte tag)
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from secrets import token_bytes
from typing import Any

from protocol import canonical
from protocol.binary import Reader, u8
from protocol.crypto import (
    CONTENT_KEY_SIZE,
    KEY_ID_SIZE,
    KemPrivateKey,
    KemPublicKey,
    Random,
    Suite,
    open_sealed,
    seal,
)
from protocol.errors import MalformedError, TooLargeError, UnknownRecipientError

PREFIX = "sealed:1:"
CONTEXT = b"renkou-net/1 sealed field\x00"
MAX_SEALED = 16 * 1024
MAX_RECIPIENTS = 4


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal_field(
    value: Any,
    recipients: Sequence[KemPublicKey],
    where: str,
    *,
    random: Random = token_bytes,
) -> str:
    """Seal a canonical-JSON ``value`` for ``recipients``, bound to ``where``."""
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise ValueError(f"a sealed field has 1..{MAX_RECIPIENTS} recipients")
    suite = recipients[0].suite
    if any(r.suite is not suite for r in recipients):
        raise ValueError("all recipients of a sealed field use one suite")
    key = random(CONTENT_KEY_SIZE)
    bound = CONTEXT + where.encode()
    out = bytearray(u8(suite) + u8(len(recipients)))
    for r in sorted(recipients, key=lambda r: r.key_id):
        out += r.key_id + r.wrap(key, bound + r.key_id)
    out += seal(key, canonical.encode(value), bound)
    return PREFIX + base64.b64encode(bytes(out)).decode("ascii")


def open_field(text: str, keys: Mapping[bytes, KemPrivateKey], where: str) -> Any:
    """Open a sealed field with one of our keys.

    Raises:
        MalformedError, TooLargeError: not a sealed field of this version.
        UnknownRecipientError: not sealed for any key we hold.
        DecryptionError: it does not open (tampered, or moved from elsewhere).
    """
    if not is_sealed(text):
        raise MalformedError("value is not a sealed field")
    if len(text) > MAX_SEALED * 2:
        raise TooLargeError("sealed field is too large")
    try:
        raw = base64.b64decode(text[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise MalformedError("sealed field is not valid base64") from None
    r = Reader(raw, "sealed field")
    suite = Suite.from_byte(r.u8())
    count = r.u8()
    if not 1 <= count <= MAX_RECIPIENTS:
        raise MalformedError(f"sealed field names {count} recipients")
    wraps = [(r.take(KEY_ID_SIZE), r.take(suite.wrap_size)) for _ in range(count)]
    ciphertext = r.take(r.remaining)
    bound = CONTEXT + where.encode()
    for key_id, wrapped in wraps:
        private = keys.get(key_id)
        if private is not None:
            content_key = private.unwrap(wrapped, bound + key_id)
            return canonical.decode(
                open_sealed(content_key, ciphertext, bound), max_bytes=MAX_SEALED
            )
    raise UnknownRecipientError("this field is not sealed for any key we hold")
