# SPDX-License-Identifier: Apache-2.0
"""Sealed fields: one value readable by a narrower set of nodes than its record.

A complainant's identity must never reach the party complained about (domain.md §5),
who may well be the village officer or the township relaying the record. The value is
sealed inside the payload for named recipients (the county's complaint handler) and
bound to where it sits (node, kind, record id, field), so it cannot be lifted into
another record. Layout, then canonical base64 with the prefix ``sealed:1:``::

    suite u8 | n u8 | n × (key_id [8] | wrap) | ciphertext (ChaCha20-Poly1305, 16-byte tag)

Key ids are strictly ascending. A field's suite should be its batch's suite; this
module cannot know the batch, so that is the caller's duty (SPEC.md §10.6).
"""

from __future__ import annotations

import base64
import binascii
import re
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
from protocol.errors import (
    MalformedError,
    TooLargeError,
    UnknownRecipientError,
    UnsupportedError,
)

PREFIX = "sealed:1:"
_ANY_VERSION = re.compile(r"sealed:[0-9]+:")
CONTEXT = b"renkou-net/1 sealed field\x00"
MAX_SEALED = 16 * 1024
MAX_RECIPIENTS = 4


def is_sealed(value: Any) -> bool:
    """True for a sealed field of this version (``sealed:1:``)."""
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
    if len({r.key_id for r in recipients}) != len(recipients):
        raise ValueError("a sealed field names each recipient key once (duplicate key ids)")
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
        MalformedError, TooLargeError: not a well-formed sealed field.
        UnsupportedError: a sealed field of another version (``sealed:2:``) or suite.
        UnknownRecipientError: not sealed for any key we hold.
        DecryptionError: it does not open (tampered, or moved from elsewhere).
    """
    if not is_sealed(text):
        if isinstance(text, str) and _ANY_VERSION.match(text):
            raise UnsupportedError(f"sealed field version {text.split(':')[1][:8]!r} is not 1")
        raise MalformedError("value is not a sealed field")
    if len(text) > MAX_SEALED * 2:
        raise TooLargeError("sealed field is too large")
    encoded = text[len(PREFIX) :]
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedError("sealed field is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != encoded:
        raise MalformedError("sealed field is not canonical base64")
    r = Reader(raw, "sealed field")
    suite = Suite.from_byte(r.u8())
    count = r.u8()
    if not 1 <= count <= MAX_RECIPIENTS:
        raise MalformedError(f"sealed field names {count} recipients")
    wraps = [(r.take(KEY_ID_SIZE), r.take(suite.wrap_size)) for _ in range(count)]
    if [k for k, _ in wraps] != sorted({k for k, _ in wraps}):
        raise MalformedError("sealed field: recipient key ids must be sorted and distinct")
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
