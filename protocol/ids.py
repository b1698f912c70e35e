# SPDX-License-Identifier: Apache-2.0
"""Node and log identities.

A node is a division code plus a role; the code's length fixes the role (county 6 digits,
township 9, village 12, the GB/T 2260 codes and their statistical extension), and the
prefixes nest, so a village's parent township is the first nine digits of its own code.
Only the structure is checked here; whether a code exists is the node's business (it has
the official list and the county's registry of its nodes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from protocol.binary import Reader
from protocol.errors import MalformedError


class Role(IntEnum):
    COUNTY = 1
    TOWNSHIP = 2
    VILLAGE = 3

    @property
    def code_length(self) -> int:
        return {Role.COUNTY: 6, Role.TOWNSHIP: 9, Role.VILLAGE: 12}[self]

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Role:
        """The role of an exact lower-case label (``"village"``; ``"VILLAGE"`` is malformed)."""
        role = _ROLE_LABELS.get(label) if type(label) is str else None
        if role is None:
            raise MalformedError(
                f"unknown role {str(label)[:20]!r}; expected county, township or village"
            )
        return role


_ROLE_LABELS = {role.name.lower(): role for role in Role}


def check_division_code(code: str) -> None:
    """Raise MalformedError unless ``code`` is a structurally valid 6/9/12-digit code.

    The township and village segments must not be all zeros (``440104000`` is not a
    township): a zero segment means "the level above". A county segment of ``00`` is
    allowed, because prefecture-level cities without counties (441900 东莞) hold their
    towns directly.
    """
    if not isinstance(code, str) or len(code) not in (6, 9, 12) or not code.isascii():
        raise MalformedError(f"division code {code!r} must be 6, 9 or 12 ASCII digits")
    if not code.isdigit():
        raise MalformedError(f"division code {code!r} must contain digits only")
    if not 11 <= int(code[:2]) <= 82:
        raise MalformedError(f"division code {code!r}: province part {code[:2]} is out of range")
    if len(code) >= 9 and code[6:9] == "000":
        raise MalformedError(f"division code {code!r}: township part must not be 000")
    if len(code) == 12 and code[9:12] == "000":
        raise MalformedError(f"division code {code!r}: village part must not be 000")


def is_decimal(text: str, max_digits: int) -> bool:
    """True for 1..``max_digits`` ASCII digits without a leading zero ("0" is not one).

    ``str.isdigit`` is not enough: it is true for ``²``, ``١`` and ``１`` too.
    """
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit() and text[0] != "0"


def parent_code(code: str) -> str | None:
    """The code of the level above inside one county (None for a county)."""
    return {6: None, 9: code[:6], 12: code[:9]}[len(code)]


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    """A node: its role and its division code (``village:440104001002``)."""

    role: Role
    code: str

    WIRE_SIZE = 14

    def __post_init__(self) -> None:
        check_division_code(self.code)
        if len(self.code) != self.role.code_length:
            raise MalformedError(
                f"a {self.role.label} node needs a {self.role.code_length}-digit code, "
                f"got {self.code!r}"
            )

    @classmethod
    def parse(cls, text: str) -> NodeId:
        """Parse the one canonical spelling ``<label>:<code>``; anything else is malformed."""
        if type(text) is not str:
            raise MalformedError("node id must be a string")
        role, sep, code = text.partition(":")
        if not sep:
            raise MalformedError(f"node id {text[:40]!r} must look like 'village:440104001002'")
        node = cls(Role.from_label(role), code)
        if str(node) != text:
            raise MalformedError(f"node id {text[:40]!r} is not in canonical form")
        return node

    @classmethod
    def for_code(cls, code: str) -> NodeId:
        """The node named by a bare code; the length picks the role."""
        check_division_code(code)
        return cls({6: Role.COUNTY, 9: Role.TOWNSHIP, 12: Role.VILLAGE}[len(code)], code)

    def __str__(self) -> str:
        return f"{self.role.label}:{self.code}"

    @property
    def parent(self) -> NodeId | None:
        up = parent_code(self.code)
        return None if up is None else NodeId.for_code(up)

    @property
    def county_code(self) -> str:
        return self.code[:6]

    def to_bytes(self) -> bytes:
        return bytes([self.role, len(self.code)]) + self.code.encode().ljust(12, b"0")

    @classmethod
    def read(cls, reader: Reader) -> NodeId:
        role_byte, length = reader.u8(), reader.u8()
        raw = reader.take(12)
        try:
            role = Role(role_byte)
        except ValueError:
            raise MalformedError(f"unknown role byte {role_byte}") from None
        if length != role.code_length or raw[length:] != b"0" * (12 - length):
            raise MalformedError("node id: code length or padding is not canonical")
        try:
            code = raw[:length].decode("ascii")
        except UnicodeDecodeError:
            raise MalformedError("node id: code is not ASCII") from None
        return cls(role, code)


MAX_EPOCH = 2**32 - 1
"""The highest epoch (SPEC.md §3.4): it travels as a u32, and 0 means "no epoch"."""


@dataclass(frozen=True, slots=True, order=True)
class LogId:
    """One change log: a node and an epoch (a new epoch at install, restore or after a fork)."""

    node: NodeId
    epoch: int

    WIRE_SIZE = NodeId.WIRE_SIZE + 4

    def __post_init__(self) -> None:
        if not 1 <= self.epoch <= MAX_EPOCH:
            raise MalformedError(f"epoch {self.epoch} must be in 1..{MAX_EPOCH}")

    def __str__(self) -> str:
        return f"{self.node}#{self.epoch}"

    @classmethod
    def parse(cls, text: str) -> LogId:
        """Parse the one canonical spelling ``<node id>#<epoch>`` (str(parse(t)) == t).

        The epoch is 1..10 ASCII digits without a leading zero; ``#01``, ``#²`` and
        ``#１`` are malformed.
        """
        if type(text) is not str:
            raise MalformedError("log id must be a string")
        node, sep, epoch = text.rpartition("#")
        if not sep or not is_decimal(epoch, 10):
            raise MalformedError(f"log id {text[:40]!r} must look like 'village:440104001002#1'")
        log = cls(NodeId.parse(node), int(epoch))
        if str(log) != text:
            raise MalformedError(f"log id {text[:40]!r} is not in canonical form")
        return log

    def to_bytes(self) -> bytes:
        return self.node.to_bytes() + self.epoch.to_bytes(4, "big")

    @classmethod
    def read(cls, reader: Reader) -> LogId:
        node = NodeId.read(reader)
        return cls(node, reader.u32())
