# SPDX-License-Identifier: Apache-2.0
"""Bounded reading of the fixed binary layouts (entry, batch header, envelope).

Every length read from the wire is checked against what remains and against a bound
before anything is allocated, so a hostile length field cannot make us read or reserve
more than the input we were given.
"""

from __future__ import annotations

import struct
import zlib

from protocol.errors import MalformedError, TooLargeError, UnsupportedError

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


class Reader:
    """Reads big-endian fields from a bytes object, raising MalformedError on short input."""

    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    @property
    def position(self) -> int:
        return self._pos

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.remaining:
            raise MalformedError(
                f"{self._what}: needs {n} bytes at offset {self._pos}, {self.remaining} left"
            )
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def u8(self) -> int:
        return int(_U8.unpack(self.take(1))[0])

    def u16(self) -> int:
        return int(_U16.unpack(self.take(2))[0])

    def u32(self) -> int:
        return int(_U32.unpack(self.take(4))[0])

    def u64(self) -> int:
        return int(_U64.unpack(self.take(8))[0])

    def blob16(self, bound: int, field: str) -> bytes:
        """A u16-length-prefixed byte string no longer than ``bound``."""
        return self._bounded(self.u16(), bound, field)

    def blob32(self, bound: int, field: str) -> bytes:
        """A u32-length-prefixed byte string no longer than ``bound``."""
        return self._bounded(self.u32(), bound, field)

    def _bounded(self, n: int, bound: int, field: str) -> bytes:
        if n > bound:
            raise TooLargeError(f"{self._what}: {field} of {n} bytes exceeds the bound of {bound}")
        return self.take(n)

    def expect(self, magic: bytes) -> None:
        check_magic(self.take(len(magic)), magic, self._what)

    def end(self) -> None:
        if self.remaining:
            raise MalformedError(f"{self._what}: {self.remaining} trailing bytes")


def inflate_bounded(data: bytes, limit: int, what: str) -> bytes:
    """zlib with an output bound, so a small bomb cannot become gigabytes.

    Up to ``limit`` bytes are fine, a stream ending exactly there included: we ask for
    one byte more, and only getting it means the bound was exceeded. One inflater for
    every compressed part of the protocol (sealed frames §6.7, recovery cards §8.10), so
    a bound checked for one is checked for all.
    """
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as exc:
        raise MalformedError(f"{what} do not decompress: {exc}") from None
    if len(out) > limit:
        raise TooLargeError(f"{what} inflate beyond {limit} bytes")
    if d.unconsumed_tail or not d.eof or d.unused_data:
        raise MalformedError(f"{what} are truncated or followed by extra bytes")
    return out


_DIGITS = frozenset(b"0123456789")


def check_magic(got: bytes, magic: bytes, what: str) -> None:
    """Accept exactly ``magic``; a known magic with another version digit is unsupported.

    ``RKS2`` is a signed object of a version we do not speak (UnsupportedError), while
    ``RKX1`` or ``RKS!`` is not a protocol object at all (MalformedError).
    """
    if got == magic:
        return
    if len(got) == len(magic) and got[:-1] == magic[:-1] and got[-1] in _DIGITS:
        raise UnsupportedError(
            f"{what}: version {chr(got[-1])} of {magic[:-1].decode()} is not supported"
        )
    raise MalformedError(f"{what}: expected magic {magic!r}, got {got!r}")


def u8(n: int) -> bytes:
    return _U8.pack(n)


def u16(n: int) -> bytes:
    return _U16.pack(n)


def u32(n: int) -> bytes:
    return _U32.pack(n)


def u64(n: int) -> bytes:
    return _U64.pack(n)


def blob16(data: bytes) -> bytes:
    return _U16.pack(len(data)) + data


def blob32(data: bytes) -> bytes:
    return _U32.pack(len(data)) + data
