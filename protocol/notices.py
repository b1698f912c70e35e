# SPDX-License-Identifier: Apache-2.0
"""Notices that travel down the sync tree in outboxes (SPEC.md §8.6).

* An **outcome notice** (``type = "outcome"``), signed by the county node after a merge,
  tells an origin which entries of a range of its log did not simply apply and why. Its
  ``by`` is the county's 6-digit code, not a NodeId as in an acknowledgement's ``by``
  (§8.4): the notice speaks for the county's merge, not for one node's store. The bytes
  of version 1 stay as they are; the SPEC states the difference.
* A **rejection notice** (``type = "rejection"``), signed by a relay, tells a child that
  the relay's parent refused one of the child's batches, with the parent's code and
  words, so the village sees "rejected by county:…: <code>".

Both are built and parsed here only, as frozen value objects; decoding is strict (exact
keys, bounded strings and lists, ranges that add up) and raises only ProtocolError.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from protocol.crypto import SigningKey, VerifyKey
from protocol.errors import MalformedError, SignatureError
from protocol.ids import LogId, NodeId
from protocol.schemas import OutcomeBody, RejectionBody, load_body
from protocol.signed import decode_signed, sign_object

OUTCOMES = ("rejected", "conflict", "superseded")
MAX_LISTED = 1000
"""Items one outcome notice may list (the county lists at most 200 and counts the rest)."""
MAX_TEXT = 128
"""Characters of an outcome item's code, record, field and conflict id."""
MAX_CODE = 64
MAX_REASON = 500
_CODE = re.compile(r"[a-z0-9_]{1,64}")


@dataclass(frozen=True, slots=True)
class OutcomeItem:
    """One entry (and field) of the range that did not simply apply."""

    seq: int
    outcome: str
    code: str
    record: str = ""
    field: str = ""
    conflict: str = ""

    def to_json(self) -> dict[str, Any]:
        """The item as the notice spells it: empty record, field and conflict left out."""
        out: dict[str, Any] = {"seq": self.seq, "outcome": self.outcome, "code": self.code}
        for name in ("record", "field", "conflict"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class OutcomeNotice:
    """What the county's merge made of ``log`` ``first_seq..last_seq``."""

    by: str
    log: LogId
    first_seq: int
    last_seq: int
    applied: int
    listed: tuple[OutcomeItem, ...]
    more: int
    at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": "outcome",
            "by": self.by,
            "log": str(self.log),
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "applied": self.applied,
            "listed": [item.to_json() for item in self.listed],
            "more": self.more,
            "at": self.at,
        }


def sign_outcome(notice: OutcomeNotice, key: SigningKey) -> bytes:
    """Sign ``notice`` with the county node's key.

    Raises:
        ValueError: the notice breaks a rule its reader would refuse it for (the
            sender's mistake: the county never sends what a node cannot take).
    """
    body = notice.to_json()
    try:
        _outcome_from(body)
    except MalformedError as exc:
        raise ValueError(f"not a valid outcome notice: {exc}") from None
    return sign_object(body, key)


def decode_outcome(raw: bytes, county_key: VerifyKey, county: NodeId) -> OutcomeNotice:
    """Verify an outcome notice signed by the county node's key, then parse it.

    Raises:
        SignatureError: not signed by ``county_key``.
        MalformedError: not an outcome notice, a field out of bounds, a range that does
            not add up, or ``by`` names another county than ``county``.
    """
    signed = decode_signed(raw, expect_type="outcome")
    signed.verify(county_key)
    notice = _outcome_from(signed.body)
    if notice.by != county.county_code:
        raise MalformedError(f"outcome notice by county {notice.by}, not {county.county_code}")
    return notice


def _outcome_from(body: dict[str, Any]) -> OutcomeNotice:
    data = load_body(OutcomeBody(), body, "outcome notice")
    first, last = data["first_seq"], data["last_seq"]
    if first > last:
        raise MalformedError(f"outcome notice range {first}..{last} is reversed")
    if data["applied"] > last - first + 1:
        raise MalformedError("outcome notice counts more entries applied than its range holds")
    items = []
    for item in data["listed"]:
        if not first <= item["seq"] <= last:
            raise MalformedError(f"outcome notice lists seq {item['seq']} outside its range")
        items.append(
            OutcomeItem(
                item["seq"],
                item["outcome"],
                item["code"],
                item.get("record", ""),
                item.get("field", ""),
                item.get("conflict", ""),
            )
        )
    return OutcomeNotice(
        data["by"],
        LogId.parse(data["log"]),
        first,
        last,
        data["applied"],
        tuple(items),
        data["more"],
        data["at"],
    )


@dataclass(frozen=True, slots=True)
class RejectionNotice:
    """``by`` refused ``log`` ``first_seq..last_seq`` that ``relay`` forwarded to it."""

    by: NodeId
    relay: NodeId
    log: LogId
    first_seq: int
    last_seq: int
    code: str
    reason: str
    at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": "rejection",
            "by": str(self.by),
            "relay": str(self.relay),
            "log": str(self.log),
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "code": self.code,
            "reason": self.reason,
            "at": self.at,
        }


def rejection_code(code: object) -> str:
    """A refusing node's code as a notice carries it: ``[a-z0-9_]{1,64}``, else
    ``refused`` (the parent's body is outside our control; the notice is not)."""
    text = code if isinstance(code, str) else ""
    return text if _CODE.fullmatch(text) else "refused"


def rejection_reason(text: str) -> str:
    """A refusing node's words as a notice carries them: NFC, at most 500 characters."""
    return unicodedata.normalize("NFC", text)[:MAX_REASON]


def sign_rejection(notice: RejectionNotice, key: SigningKey) -> bytes:
    """Sign ``notice`` with the relay's key.

    Raises:
        ValueError: a field its reader would refuse (use :func:`rejection_code` and
            :func:`rejection_reason` on words that came from the parent).
    """
    body = notice.to_json()
    try:
        _rejection_from(body)
    except MalformedError as exc:
        raise ValueError(f"not a valid rejection notice: {exc}") from None
    return sign_object(body, key)


def decode_rejection(raw: bytes, relay_key: VerifyKey, relay: NodeId) -> RejectionNotice:
    """Verify a rejection notice signed by our parent ``relay``, then parse it.

    Raises:
        SignatureError: not signed by ``relay_key``, or it names another relay than
            ``relay`` (a notice passed on by someone else is not our parent's word).
        MalformedError: not a rejection notice, or a field out of bounds.
    """
    signed = decode_signed(raw, expect_type="rejection")
    signed.verify(relay_key)
    notice = _rejection_from(signed.body)
    if notice.relay != relay:
        raise SignatureError(f"a rejection notice relayed by {notice.relay}, not by {relay}")
    return notice


def _rejection_from(body: dict[str, Any]) -> RejectionNotice:
    data = load_body(RejectionBody(), body, "rejection notice")
    if data["first_seq"] > data["last_seq"]:
        raise MalformedError("rejection notice range is reversed")
    if unicodedata.normalize("NFC", data["reason"]) != data["reason"]:
        raise MalformedError("rejection notice reason is not NFC")
    return RejectionNotice(
        NodeId.parse(data["by"]),
        NodeId.parse(data["relay"]),
        LogId.parse(data["log"]),
        data["first_seq"],
        data["last_seq"],
        data["code"],
        data["reason"],
        data["at"],
    )


__all__ = [
    "OutcomeItem",
    "OutcomeNotice",
    "RejectionNotice",
    "decode_outcome",
    "decode_rejection",
    "rejection_code",
    "rejection_reason",
    "sign_outcome",
    "sign_rejection",
]
