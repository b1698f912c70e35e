# SPDX-License-Identifier: Apache-2.0
"""Finding a person: by name, pinyin initials, ID number (full or last digits),
household (address) or group (村民小组), from an index kept in memory.

A village has at most a few thousand cards, so the index holds the few facts search
needs for each (name, its pinyin, ID number, sex, birth year, address, group) and is
brought up to date from the cards written since it last looked (one indexed query),
so a search costs microseconds instead of a scan of every card's JSON with pinyin
worked out afresh. Results carry only what tells people apart (sex, birth year,
group); the rest is on the card, whose every view is audited.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node.domain.codes import HEAD
from node.store.queries import records_changed_since
from node.store.store import NodeStore

# Single-character readings are all a name needs; the phrase dictionary would cost
# about 60 MB of a village PC's memory for nothing. Set before pypinyin is imported.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
from pypinyin import Style, pinyin  # noqa: E402

MAX_RESULTS = 50
MAX_QUERY = 40
_GROUP = re.compile(r"([0-9]{1,3}|[一二三四五六七八九十]{1,3})(?:村民小)?组")
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九", start=0)}


@dataclass(frozen=True, slots=True)
class PersonHit:
    """One search result: enough to tell people apart, nothing more."""

    record_id: str
    name: str
    sex: str
    birth_year: str
    group: str
    retired: str | None
    relation: str = ""  # to the head of the household (household_relation), '' unknown


@dataclass(frozen=True, slots=True)
class _Entry:
    hit: PersonHit
    initials: frozenset[str]
    spelled: frozenset[str]
    id_number: str
    address: str


def group_of(address: str) -> str:
    """The 村民小组 an address names ("上南村3组45号" -> "3"), or ''."""
    found = _GROUP.search(address or "")
    if found is None:
        return ""
    text = found.group(1)
    if text.isdigit():
        return str(int(text))
    if text == "十":
        return "10"
    tens, _, units = text.partition("十")
    if "十" in text:
        return str(_CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(units, 0))
    return str(_CN_DIGITS.get(text, 0)) if len(text) == 1 else ""


def _spellings(name: str, style: Style) -> frozenset[str]:
    """Every reading of the name (曾 is ceng or zeng), at most 16 of them."""
    readings = pinyin(name, style=style, heteronym=True, errors="ignore")
    combos = itertools.islice(itertools.product(*[opts[:4] for opts in readings]), 16)
    return frozenset("".join(c).lower() for c in combos)


def _entry(record_id: str, data: dict[str, Any], retired: str | None) -> _Entry:
    name = str(data.get("name", ""))
    address = str(data.get("hukou_address") or data.get("residence_address") or "")
    hit = PersonHit(
        record_id,
        name,
        str(data.get("sex", "")),
        str(data.get("birth_date", ""))[:4],
        group_of(address),
        retired,
        str(data.get("household_relation") or ""),
    )
    return _Entry(
        hit,
        _spellings(name, Style.FIRST_LETTER),
        _spellings(name, Style.NORMAL),
        str(data.get("id_number", "")),
        address,
    )


class PeopleIndex:
    """The search index of one node's cards; safe to share between request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._epoch = -1
        self._seq = 0

    def refresh(self, store: NodeStore) -> None:
        """Take in the cards written since the last refresh (all of them after a new epoch)."""
        log = store.changelog
        with self._lock:
            if log.log.epoch != self._epoch:
                self._entries, self._epoch, self._seq = {}, log.log.epoch, 0
            head = log.head_seq
            if head == self._seq:
                return
            for record_id, data, retired, _seq in records_changed_since(
                store.db, "person", self._seq
            ):
                self._entries[record_id] = _entry(record_id, data, retired)
            # Everything written up to the head this store saw is in; a row written
            # since is read again next time, which does no harm.
            self._seq = head

    def groups(self) -> list[str]:
        found = {e.hit.group for e in self._entries.values() if e.hit.group}
        return sorted(found, key=lambda g: (len(g), g))

    def search(
        self, text: str, *, group: str = "", household: str = "", closed: bool = False
    ) -> list[PersonHit]:
        """Cards matching every criterion given, best matches first, at most MAX_RESULTS.

        ``text``: a name (or part of it), pinyin initials or full pinyin ("zhs",
        "zhangsan"), an ID number or its last digits (4 or more); ``household``: part of
        the address ("3组45号"); ``group``: the group number. ``closed`` includes cards
        that were closed.
        """
        text = text.strip()[:MAX_QUERY]
        household = household.strip()[:MAX_QUERY]
        if not (text or group or household):
            return []
        match = _matcher(text)
        scored = []
        for entry in list(self._entries.values()):
            if entry.hit.retired and not closed:
                continue
            if group and entry.hit.group != group:
                continue
            if household and household not in entry.address:
                continue
            score = match(entry) if text else 1
            if score:
                scored.append((-score, entry.hit.name, entry.hit.record_id, entry.hit))
        scored.sort(key=lambda s: s[:3])
        return [s[3] for s in scored[:MAX_RESULTS]]

    def name_of(self, record_id: str) -> str:
        found = self._entries.get(record_id)
        return found.hit.name if found else ""

    def household(self, address: str) -> list[PersonHit]:
        """The open cards registered at exactly ``address`` (one household), its head
        (户主) first."""
        hits = [
            e.hit
            for e in list(self._entries.values())
            if e.address == address and not e.hit.retired
        ]
        return sorted(hits, key=lambda h: (h.relation != HEAD, h.birth_year, h.record_id))

    def __len__(self) -> int:
        return len(self._entries)


def _matcher(text: str) -> Callable[[_Entry], int]:
    """A scoring function for ``text`` (0: no match; higher: better)."""
    upper = text.upper()
    if re.fullmatch(r"[0-9]{4,17}[0-9X]?", upper):
        return lambda e: 3 if e.id_number == upper else (2 if e.id_number.endswith(upper) else 0)
    if text.isascii() and text.isalpha():
        low = text.lower()
        return lambda e: (
            3 if low in e.initials else 2 if any(i.startswith(low) for i in e.initials)
            else 1 if any(s.startswith(low) for s in e.spelled) else 0
        )  # fmt: skip
    return lambda e: 3 if e.hit.name == text else (2 if text in e.hit.name else 0)
