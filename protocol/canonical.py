# SPDX-License-Identifier: Apache-2.0
"""Canonical JSON: the one byte encoding of every structured protocol object.

The profile is RFC 8785 (JCS) narrowed so that Python's C-accelerated ``json`` produces
exactly the JCS bytes: object keys are ASCII (so code-point order equals JCS's UTF-16
order), numbers are integers of magnitude below 2**53 (so no float formatting arises),
strings are NFC. Decoding is strict: the received bytes must be byte-for-byte the
canonical encoding of what they decode to, so there is exactly one valid spelling of
every object and we can hash and verify the bytes received, never a re-serialisation.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, TypeAlias

from protocol.errors import ErrorCode, MalformedError, TooLargeError

MAX_SAFE_INT = 2**53 - 1
DEFAULT_MAX_BYTES = 1 << 20
MAX_DEPTH = 16
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")

_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def _refuse(obj: Any) -> Any:
    raise TypeError(f"type {type(obj).__name__} is not JSON")


# The C encoder behind ``_encoder``, built once: ``JSONEncoder.encode`` builds it on every
# call, a third of the cost of re-encoding a small payload. Same settings, same bytes.
_c_encode = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]  # C part, not in stubs
        None, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]  # not in stubs
    else None
)


def canonical_text(obj: Any) -> str:
    """The canonical spelling of ``obj`` as text, without :func:`encode`'s profile check:
    for values already known to be in the profile (just decoded, or checked) on hot
    paths, and for comparing a received spelling with the canonical one."""
    if _c_encode is not None:
        return "".join(_c_encode(obj, 0))
    return _encoder.encode(obj)


JSON: TypeAlias = None | bool | int | str | list["JSON"] | dict[str, "JSON"]


def _reject_float(text: str) -> Any:
    raise MalformedError(f"number {text[:20]!r} is not an integer; floats are not allowed")


def _reject_constant(text: str) -> Any:
    raise MalformedError(f"{text} is not valid JSON")


_decoder = json.JSONDecoder(parse_float=_reject_float, parse_constant=_reject_constant)


def encode(obj: JSON) -> bytes:
    """Return the canonical bytes of ``obj``.

    Raises:
        ValueError: ``obj`` holds something the profile forbids (a float, a non-ASCII or
            upper-case key, an out-of-range integer, a non-NFC string). This is a
            programmer error on the sending side, not a protocol error.
    """
    try:
        _check_value(obj, 0)
    except MalformedError as exc:
        raise ValueError(str(exc)) from None
    return canonical_text(obj).encode("utf-8")


def decode(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Decode canonical bytes; reject anything that is not the unique canonical spelling.

    Raises:
        TooLargeError: longer than ``max_bytes`` or nested deeper than ``MAX_DEPTH``.
        MalformedError: not UTF-8 JSON of the profile, or not canonical (code
            ``non_canonical``): whitespace, key order, duplicate keys, escapes.
    """
    if len(data) > max_bytes:
        raise TooLargeError(f"object of {len(data)} bytes exceeds the bound of {max_bytes}")
    _check_depth(data)
    try:
        text = data.decode("utf-8")
        obj = _decoder.decode(text)
    except MalformedError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedError(f"not valid UTF-8 JSON: {exc}") from None
    _check_value(obj, 0)
    if canonical_text(obj) != text:
        raise MalformedError(
            "bytes are not in canonical form (key order, spacing, escapes or duplicate keys)",
            code=ErrorCode.NON_CANONICAL,
        )
    return obj


def _check_depth(data: bytes) -> None:
    """Bound nesting before the recursive parser sees the input.

    Counting brackets outside strings is cheap for the small objects we accept, and it
    keeps a hostile ``[[[[…`` from reaching the parser's recursion at all.
    """
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return
    depth = 0
    in_string = False
    escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                raise TooLargeError(f"nesting deeper than {MAX_DEPTH}")
        elif byte in (0x5D, 0x7D):
            depth -= 1


def _check_value(obj: Any, depth: int) -> None:
    """Check ``obj`` against the profile; ``depth`` is the number of containers around it.

    Depth counts containers only, exactly as :func:`_check_depth` counts open brackets:
    a list or object opened inside ``MAX_DEPTH`` others is too deep (even if empty), a
    scalar never is. So ``encode`` accepts precisely what ``decode`` accepts.
    """
    if obj is None or obj is True or obj is False:
        return
    kind = type(obj)
    if kind is int:
        if not -MAX_SAFE_INT <= obj <= MAX_SAFE_INT:
            raise MalformedError(f"integer {obj} is outside ±(2**53-1)")
    elif kind is str:
        if not unicodedata.is_normalized("NFC", obj):
            raise MalformedError("string is not in Unicode NFC form", code=ErrorCode.NON_CANONICAL)
    elif kind is list:
        if depth >= MAX_DEPTH:
            raise TooLargeError(f"nesting deeper than {MAX_DEPTH}")
        for item in obj:
            _check_value(item, depth + 1)
    elif kind is dict:
        if depth >= MAX_DEPTH:
            raise TooLargeError(f"nesting deeper than {MAX_DEPTH}")
        for key, value in obj.items():
            if type(key) is not str or not key or not _KEY_CHARS.issuperset(key):
                raise MalformedError(f"object key {str(key)[:40]!r} is not [a-z0-9_]+")
            _check_value(value, depth + 1)
    else:
        raise MalformedError(f"type {kind.__name__} is not allowed in canonical JSON")
