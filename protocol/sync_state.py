# SPDX-License-Identifier: Apache-2.0
"""The state exchange of a sync round (``GET /sync/v1/state``, SPEC.md §15.5).

A child asks with the digest of what it believes the pair should hold (``d``), its
outbox cursor (``c``), the version of the revocation list it holds (``r``) and the
digest of the parent's holiday schedules it last took (``h``, protocol/schedules.py).
The parent answers 204 when its own digest of the same things is equal and it offers
no newer list and no other set of schedules; otherwise with its view, as canonical JSON
(§2):

    {"crl": <version>?, "heads": <frontier JSON form, §9.1>, "mark": <mark>?, "outbox": <n>,
     "schedules": <schedule-set digest>?}

* ``heads``: the parent's frontier of the logs of the child's subtree;
* ``outbox``: the number of the last item in the child's outbox (0 when empty);
* ``mark``: present when the child sent ``c``: the mark of the parent's outbox item
  ``c`` ("" when there is none), so a child that read another outbox (the parent was
  restored from a backup and numbered new items over old ones) sees it;
* ``crl``: present when the parent holds a revocation list newer than ``r``;
* ``schedules``: present when the parent holds schedules and their set digest is not
  ``h``.

The **mark** of an outbox item is the first 16 bytes of SHA-256 over its exact bytes, in
lower-case hex. The **state digest** is the first 16 bytes of
``SHA-256(canonical({"heads": <frontier JSON>, "mark": <mark>, "outbox": <n>, "v": 1}))``
in lower-case hex: the child computes it over what it wants the parent to hold, its
cursor and the mark of the last item it took; the parent over its heads, its outbox's
last number and that item's mark. Equal digests mean nothing to do either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocol import canonical
from protocol.crypto import sha256
from protocol.errors import MalformedError, TooLargeError
from protocol.frontier import MAX_FRONTIER_LOGS, Frontier
from protocol.schedules import check_schedule_digest

MAX_DECIMAL_DIGITS = 15
MAX_STATE = 128 + MAX_FRONTIER_LOGS * 160
"""Bytes of a state answer: the longest frontier item is well under 160 bytes."""
_DECIMAL = re.compile(r"[0-9]{1,15}")  # ASCII only: str.isdigit() also takes "²"
_MARK = re.compile(r"[0-9a-f]{32}")
_DIGEST = _MARK


def item_mark(raw: bytes) -> str:
    """The mark of an outbox item: a short name of its exact bytes."""
    return sha256(raw).hex()[:32]


def state_digest(heads: Frontier, outbox: int, mark: str = "") -> str:
    """What one side believes the pair should hold; equal digests mean nothing to do.

    ``outbox`` is the parent's last outbox number (the child's cursor on its side) and
    ``mark`` that item's mark ("" when there is none).
    """
    body: canonical.JSON = {"v": 1, "heads": heads.to_json(), "outbox": outbox, "mark": mark}
    return sha256(canonical.encode(body)).hex()[:32]


def parse_decimal(text: str, name: str) -> int:
    """A non-negative integer as the sync API spells it: 1 to 15 ASCII digits.

    Raises:
        MalformedError: anything else, naming ``name``.
    """
    if not _DECIMAL.fullmatch(text):
        raise MalformedError(f"{name} must be a non-negative integer (1 to 15 digits)")
    return int(text)


def check_digest(text: str) -> str:
    """A ``d`` query parameter: 32 lower-case hex characters.

    Raises:
        MalformedError: anything else.
    """
    if not _DIGEST.fullmatch(text):
        raise MalformedError("d must be a state digest: 32 lower-case hex characters")
    return text


@dataclass(frozen=True, slots=True)
class StateAnswer:
    """The parent's view when digests differ (or it offers a newer revocation list)."""

    heads: Frontier
    outbox: int
    mark: str | None = None
    crl: int = 0
    schedules: str = ""


def encode_state(answer: StateAnswer) -> bytes:
    """The 200 body: canonical JSON, ``mark`` and ``crl`` only when present."""
    body: dict[str, canonical.JSON] = {"heads": answer.heads.to_json(), "outbox": answer.outbox}
    if answer.mark is not None:
        body["mark"] = answer.mark
    if answer.crl:
        body["crl"] = answer.crl
    if answer.schedules:
        body["schedules"] = answer.schedules
    return canonical.encode(body)


def decode_state(data: bytes) -> StateAnswer:
    """Parse a state answer strictly.

    Raises:
        TooLargeError: over MAX_STATE bytes, or a frontier over its bound.
        MalformedError: not canonical JSON of exactly that shape (keys, types, a mark
            that is neither "" nor 32 lower-case hex, a ``crl`` that is not positive, a
            ``schedules`` that is not 32 lower-case hex).
    """
    if len(data) > MAX_STATE:
        raise TooLargeError(f"state answer of {len(data)} bytes exceeds {MAX_STATE}")
    body = canonical.decode(data, max_bytes=MAX_STATE)
    if type(body) is not dict or not {"heads", "outbox"} <= set(body) <= {
        "heads",
        "outbox",
        "mark",
        "crl",
        "schedules",
    }:
        raise MalformedError(
            "state answer must hold heads and outbox, and may hold mark, crl and schedules"
        )
    outbox, mark, crl = body["outbox"], body.get("mark"), body.get("crl", 0)
    if type(outbox) is not int or outbox < 0:
        raise MalformedError("state answer: outbox must be a non-negative integer")
    if mark is not None and not (type(mark) is str and (mark == "" or _MARK.fullmatch(mark))):
        raise MalformedError("state answer: mark must be empty or 32 lower-case hex digits")
    if type(crl) is not int or crl < 0 or ("crl" in body and crl == 0):
        raise MalformedError("state answer: crl must be a positive integer")
    schedules = body.get("schedules", "")
    if "schedules" in body:
        if type(schedules) is not str:
            raise MalformedError("state answer: schedules must be a schedule-set digest")
        check_schedule_digest(schedules, "state answer: schedules")
    return StateAnswer(Frontier.from_json(body["heads"]), outbox, mark, crl, schedules)


__all__ = [
    "StateAnswer",
    "check_digest",
    "decode_state",
    "encode_state",
    "item_mark",
    "parse_decimal",
    "state_digest",
]
