# SPDX-License-Identifier: Apache-2.0
"""One node's record as the county holds it: every version of every field, from every log.

A *local record* is ``(origin node code, kind, local id)``: what one village wrote about
one of its records. A local id names one record only within the history it was written
in: two logs of one village (epochs) can each have written the same id about another
person (a PC restored by an earlier release, a copy put back by hand), so the county
splits a card into *lines* (county_aggregator/lines.py), each a local record of its own,
named ``<local id>`` or ``<local id>@<epoch>``; ``card`` keeps the id as written.

Everything stored about a local record is a set keyed by the entry that wrote it
(``(log, seq)``), so adding the same entry twice, or entries in any order, ends in the
same state; every derived value (current value, claims, the JSON kept in the merged
database) is a function of that set alone. That is what makes the merge commutative
and idempotent without trusting arrival order.

In memory a field's versions are a short list of ``(hlc, log, seq, value, base,
ruleset)``; bases are version ids ``(log, seq)`` (``0`` is None, a bare seq names an
entry of the writer's own log, protocol/ops.py). Stored, a record keeps each upsert's
``fields`` object exactly as its payload spelled it (canonical JSON, so the text is
copied, never re-encoded): that is most of what a rebuild writes.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from county_aggregator.decode import canonical_text
from county_aggregator.ruleset import ERASING_REASONS, REF_KINDS

try:  # pragma: no branch - a dependency; the canonical encoder stands in without it
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]  # None means: use the canonical encoder

Vid = tuple[str, int]
"""A version id: the entry ``(log, seq)`` that wrote it."""

Version = tuple[int, str, int, Any, Vid | None, int]
"""``(hlc, log, seq, value, base, ruleset)``: one field version."""

RetireVersion = tuple[int, str, Vid | None, int]
"""``(hlc, reason, base, ruleset)``."""


def dumps(obj: Any) -> str:
    """Compact JSON with sorted keys: the one text form of everything the county stores.

    orjson spells what the county stores (strings, integers, booleans, null, lists and
    objects of them: the protocol has no floats) exactly as the canonical encoder does,
    about five times faster (the protocol's fast path relies on the same identity, and
    its tests hold the two equal); whatever orjson refuses (an integer past 64 bits, a
    lone surrogate, a key that is not a string) goes to the canonical encoder. Only
    values of the protocol's types may come here: a float (or a date, which orjson
    would spell and the canonical encoder refuse) would be stored differently on a
    county without orjson.
    """
    if orjson is not None:
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:
            pass
    return canonical_text(obj)


def base_vid(log: str, base: Any) -> Vid | None:
    """Normalise a base version (0, a seq of ``log``, or ``"log/seq"``) to a version id."""
    if type(base) is int:
        return (log, base) if base else None
    other, _, seq = str(base).rpartition("/")
    return (other, int(seq))


def vid_text(vid: Vid) -> str:
    """The entry id ``"<log>/<seq>"``, the spelling a cross-log base uses."""
    return f"{vid[0]}/{vid[1]}"


class LocalRecord:
    """Every version one origin wrote of one record, and what follows from them."""

    __slots__ = (
        "origin", "kind", "rid", "card", "lkey", "fields", "ops", "retires", "key", "sig",
        "logs", "cut",
    )  # fmt: skip

    def __init__(self, origin: str, kind: str, rid: str) -> None:
        self.origin = origin
        # One string object per kind (each payload's parse makes its own): comparing
        # (kind, key) pairs, in sets, dicts and sorts, then stops at identity.
        self.kind = sys.intern(kind)
        self.rid = rid
        """The line's name: the local id, or ``<local id>@<epoch>`` (lines.py)."""
        self.card = rid.partition("@")[0]
        """The local id as the origin wrote it."""
        self.lkey = f"{origin}/{rid}"
        self.fields: dict[str, list[Version]] = {}
        self.ops: dict[tuple[Vid, int], tuple[int, int, str]] = {}
        """``(vid, op index) -> (hlc, ruleset, fields text)`` of every upsert kept."""
        self.retires: dict[Vid, RetireVersion] = {}
        self.key: str | None = None
        """The merged key this record currently belongs to (None until first keyed)."""
        self.sig: str | None = None
        """The same-event signature (births), None for other kinds or when incomplete."""
        self.logs: set[str] = set()
        """The logs that wrote versions or retires of it (one, unless it spans epochs)."""
        self.cut: tuple[int, Vid] | None = None
        """``(hlc, vid)`` of the latest erasing retire: versions up to it are not kept."""

    # -- adding versions ----------------------------------------------------------------

    def add_fields(
        self, vid: Vid, i: int, hlc: int, ruleset: int, fields: dict[str, Any], text: str
    ) -> None:
        """Add op ``i`` of entry ``vid`` (``text`` is its fields object as canonical JSON).

        The ops of an entry are applied in order and an op already held is skipped, so a
        later op of the same entry overrides an earlier one, however often it arrives.
        """
        op = (vid, i)
        ops = self.ops
        if op in ops or (self.cut is not None and (hlc, vid) <= self.cut):
            return
        ops[op] = (hlc, ruleset, text)
        log, seq = vid
        self.logs.add(log)
        mine = self.fields
        for name, (value, base) in fields.items():
            if type(base) is int:
                version = (hlc, log, seq, value, (log, base) if base else None, ruleset)
            else:
                version = (hlc, log, seq, value, base_vid(log, base), ruleset)
            versions = mine.get(name)
            if versions is None:
                mine[name] = [version]
                continue
            for j, held in enumerate(versions):
                if held[2] == seq and held[1] == log:
                    versions[j] = version
                    break
            else:
                versions.append(version)

    def add_retire(self, vid: Vid, hlc: int, ruleset: int, reason: str, base: Any) -> None:
        self.logs.add(vid[0])
        self.retires[vid] = (hlc, reason, base_vid(vid[0], base), ruleset)
        if reason in ERASING_REASONS and (self.cut is None or (hlc, vid) > self.cut):
            self.cut = cut = (hlc, vid)
            self.ops = {k: op for k, op in self.ops.items() if (op[0], k[0]) > cut}
            for name in list(self.fields):
                kept = [v for v in self.fields[name] if (v[0], (v[1], v[2])) > cut]
                if kept:
                    self.fields[name] = kept
                else:
                    del self.fields[name]

    # -- derived values -----------------------------------------------------------------

    def current(self, name: str) -> Any:
        """This origin's own latest value of ``name`` (by clock, then entry), or None."""
        versions = self.fields.get(name)
        if not versions:
            return None
        return (versions[0] if len(versions) == 1 else max(versions))[3]

    def current_version(self, name: str) -> Version | None:
        """The version :meth:`current` reads, or None."""
        versions = self.fields.get(name)
        if not versions:
            return None
        return versions[0] if len(versions) == 1 else max(versions)

    def firsts(self) -> dict[str, int]:
        """``{log: first seq}`` of the entries held that wrote this record (lines.py).

        From what is held: versions up to an erasing retire are not kept, so a line
        whose only visible write an erasure removed starts at the retire (a known limit:
        erasure comes years after the writes, long after any epoch split is merged).
        """
        out: dict[str, int] = {}
        for log, seq in [vid for vid, _i in self.ops] + list(self.retires):
            if seq < out.get(log, seq + 1):
                out[log] = seq
        return out

    def replayed(self) -> list[tuple[str, Any]]:
        """Every op held, to add again to a new record (:func:`add_to`), in a fixed order:
        retires first (an erasure's cut then skips what it erased), then upserts."""
        out: list[tuple[str, Any]] = []
        for vid, (hlc, reason, base, ruleset) in sorted(self.retires.items()):
            out.append(("r", (vid, hlc, ruleset, reason, 0 if base is None else vid_text(base))))
        for (vid, i), (hlc, ruleset, text) in sorted(self.ops.items()):
            out.append(("u", (vid, i, hlc, ruleset, json.loads(text), text)))
        return out

    def claims(self) -> tuple[bool, bool]:
        """Whether this card names its own origin as the hukou place, and as the residence."""
        if self.kind != "person":
            return (False, False)
        return (
            self.current("hukou_code") == self.origin,
            self.current("residence_code") == self.origin,
        )

    def retired(self) -> tuple[tuple[int, str, Vid], str] | None:
        """``((hlc, origin, vid), reason)`` of this record's latest retire, if retired."""
        if not self.retires:
            return None
        vid = max(self.retires, key=lambda v: (self.retires[v][0], v))
        return ((self.retires[vid][0], self.origin, vid), self.retires[vid][1])

    def hlc_bounds(self) -> tuple[int, int]:
        stamps = [v[0] for versions in self.fields.values() for v in versions]
        stamps += [r[0] for r in self.retires.values()]
        return (min(stamps), max(stamps))

    def ref_targets(self) -> set[tuple[str, str, str]]:
        """Local records this one points at through any version of a ``*_ref`` field."""
        out = set()
        for name, versions in self.fields.items():
            if name.endswith("_ref"):
                target = REF_KINDS.get(name, "person")
                for v in versions:
                    if type(v[3]) is str:
                        out.add((self.origin, target, v[3]))
        return out

    # -- stored form --------------------------------------------------------------------

    def to_json(self) -> str:
        """The stored versions, sorted, each log named once::

            {"l": [log, ...],
             "o": [[log index, seq, op index, hlc, ruleset, {field: [value, base]}], ...],
             "r": [[log index, seq, hlc, reason, base, ruleset], ...]}

        ``base`` is spelled as in the payload: 0 or null for none, a seq of the version's
        own log, or ``"<log>/<seq>"``. The ``versions`` view expands it to one row per
        field version.
        """
        if len(self.ops) == 1 and not self.retires and len(self.logs) == 1:
            # Two records in three: written by one op (so its log is the one log).
            for (vid, i), (hlc, ruleset, text) in self.ops.items():
                return f'{{"l":["{vid[0]}"],"o":[[0,{vid[1]},{i},{hlc},{ruleset},{text}]],"r":[]}}'
        logs = sorted(self.logs) if len(self.logs) > 1 else list(self.logs)
        items = sorted(self.ops.items()) if len(self.ops) > 1 else self.ops.items()
        if len(logs) == 1:
            # Nearly every record: one log, index 0 (no lookup per op).
            ops = ",".join(
                f"[0,{vid[1]},{i},{hlc},{ruleset},{text}]"
                for (vid, i), (hlc, ruleset, text) in items
            )
        else:
            index = {log: n for n, log in enumerate(logs)}
            ops = ",".join(
                f"[{index[vid[0]]},{vid[1]},{i},{hlc},{ruleset},{text}]"
                for (vid, i), (hlc, ruleset, text) in items
            )
        retires = "[]"
        if self.retires:
            where = {log: n for n, log in enumerate(logs)}
            retires = canonical_text(
                [
                    [where[vid[0]], vid[1], r[0], r[1], _spell(vid, r[2]), r[3]]
                    for vid, r in sorted(self.retires.items())
                ]
            )
        # Log ids are ASCII with nothing to escape (protocol's LogId grammar, checked
        # before any entry of theirs is applied): their canonical JSON is spelled here.
        names = '","'.join(logs)
        return f'{{"l":["{names}"],"o":[{ops}],"r":{retires}}}'

    @classmethod
    def from_row(
        cls, origin: str, kind: str, rid: str, key: str, sig: str | None, versions: str
    ) -> LocalRecord:
        rec = cls(origin, kind, rid)
        body = json.loads(versions)
        logs = body["l"]
        for li, seq, hlc, reason, base, ruleset in body["r"]:
            rec.add_retire((logs[li], seq), hlc, ruleset, reason, base or 0)
        for li, seq, i, hlc, ruleset, fields in body["o"]:
            rec.add_fields((logs[li], seq), i, hlc, ruleset, fields, canonical_text(fields))
        rec.key, rec.sig = key, sig
        return rec


def _spell(vid: Vid, base: Vid | None) -> int | str | None:
    if base is None:
        return None
    return base[1] if base[0] == vid[0] else vid_text(base)


def add_to(rec: LocalRecord, op: tuple[str, Any]) -> None:
    """Add one op of :meth:`LocalRecord.replayed` to ``rec``."""
    if op[0] == "r":
        rec.add_retire(*op[1])
    else:
        rec.add_fields(*op[1])
