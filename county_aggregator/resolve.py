# SPDX-License-Identifier: Apache-2.0
"""The merged row of one key and its conflict items, from the local records in it.

Pure: given the same local records this returns the same row and the same conflicts,
whatever order the versions arrived in, so every reader of the same logs derives the
same table and the same queue (design.md, "Merge and conflicts at the county").

Rules, numbered as in anchors/protocols.md 9.8:

1. Each version of a field is ranked ``(authority, hlc, origin, entry)``: a total order
   that never looks at the relaying node or at arrival order. The highest wins.
2. Each version of a field is paired with the first version each other place wrote
   after it (by hlc). If the later one is not written on top of the earlier, the two
   values differ, and the value the later one replaced at its own place was not the
   earlier one's (else that place changed it knowingly), the pair is a conflict item:
   ``concurrent`` (equal authority), ``same_event`` (the same event recorded by two
   places) or ``authority`` (edits at two places of different authority; a new card
   meeting the other's is simply superseded by the authority). A version of less
   authority written after the authority's last one, with another value, is an
   ``authority`` item too: the authority should review it. The provisional winner is
   the highest-ranked version. Items are formed so that one, once derived, is derived
   again after any later merge (:func:`_field_conflicts`).
3. A retire and an update of the same merged record from another log that is later
   than the retire are a ``retire`` item: the update stays visible in the queue.

A conflict id is ``sha256("<entry a> <entry b>")`` over the two entry ids
(``"<log>/<seq>"``) sorted (a review item's: the later entry and ``review:<authority's
place>``); its rows are one per field.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Any

from county_aggregator.local import LocalRecord, Vid, dumps, vid_text
from county_aggregator.ruleset import (
    CLOSING_REASONS,
    REF_FIELDS,
    REF_KINDS,
    RULES,
    SAME_EVENT,
    UNIFORM_RANKS,
)

REF_TARGETS = {kind: dict(pairs) for kind, pairs in REF_FIELDS.items()}
_NO_REFS: dict[str, str] = {}

RefKey = Callable[[str, str, str, str], str]
"""``(origin, log, kind, local id) -> merged key`` of a record a ``*_ref`` field names in
an entry of ``log`` (county_aggregator/lines.py: a local id names the record that log
sees)."""

MergedRow = tuple[str, str, str, str, str, str | None, int, int]
ConflictRow = tuple[Any, ...]
RETIRED_FIELD = "_retired"

# A candidate: ((authority, hlc, origin, vid), value, base, record).
_Cand = tuple[tuple[int, int, str, Vid], Any, Vid | None, LocalRecord]


def conflict_id(a: str, b: str) -> str:
    """The id every reader derives for the pair of entries ``a`` and ``b``."""
    first, second = sorted((a, b))
    return hashlib.sha256(f"{first} {second}".encode()).hexdigest()


def merge_record(
    kind: str, key: str, members: Iterable[LocalRecord], ref_key: RefKey, county: str
) -> tuple[MergedRow, list[ConflictRow]]:
    """The ``merged_records`` row of ``(kind, key)`` and its conflict rows."""
    recs = list(members)
    if len(recs) == 1 and len(recs[0].logs) <= 1 and UNIFORM_RANKS:
        return _single(kind, key, recs[0], ref_key, county), []
    recs.sort(key=lambda r: r.lkey)
    claims = {id(r): r.claims() for r in recs}
    event = kind in SAME_EVENT
    names = sorted({name for r in recs for name in r.fields})
    data: dict[str, Any] = {}
    conflicts: list[ConflictRow] = []
    for name in names:
        cands = _candidates(kind, name, recs, claims, ref_key)
        if len(cands) == 1:
            data[name] = cands[0][1]
            continue
        data[name] = max(cands, key=lambda c: c[0])[1]
        conflicts += _field_conflicts(kind, key, name, cands, event)
    retired = _retired(recs)
    conflicts += _retire_conflicts(kind, key, recs, ref_key, retired is not None)
    bounds = [r.hlc_bounds() for r in recs]
    origins = sorted({r.origin for r in recs})
    row: MergedRow = (
        kind,
        key,
        dumps(data),
        dumps(origins),
        _village(kind, data, recs, origins, county),
        retired,
        min(b[0] for b in bounds),
        max(b[1] for b in bounds),
    )
    return row, conflicts


def _single(kind: str, key: str, rec: LocalRecord, ref_key: RefKey, county: str) -> MergedRow:
    """The row of a record written by one log alone: the same result as the general path
    (one rank per field, a log never conflicts with itself), without ranking candidates."""
    refs = REF_TARGETS.get(kind, _NO_REFS)
    data: dict[str, Any] = {}
    stamps: list[int] = [r[0] for r in rec.retires.values()]
    logs: dict[str, str] = {}
    for name, versions in rec.fields.items():
        if len(versions) == 1:
            version = versions[0]
            stamps.append(version[0])
        else:
            version = max(versions)
            stamps += [v[0] for v in versions]
        data[name] = version[3]
        if name in refs:
            logs[name] = version[1]
    for name, target in refs.items():
        value = data.get(name)
        if type(value) is str:
            data[name] = ref_key(rec.origin, logs[name], target, value)
    state = rec.retired()
    return (
        kind,
        key,
        dumps(data),
        f'["{rec.origin}"]',
        _village(kind, data, [rec], [rec.origin], county),
        None if state is None else state[1],
        min(stamps),
        max(stamps),
    )


def _candidates(
    kind: str,
    name: str,
    recs: list[LocalRecord],
    claims: dict[int, tuple[bool, bool]],
    ref_key: RefKey,
) -> list[_Cand]:
    is_ref = name.endswith("_ref")
    target = REF_KINDS.get(name, "person")
    out: list[_Cand] = []
    for rec in recs:
        versions = rec.fields.get(name)
        if not versions:
            continue
        hukou, residence = claims[id(rec)]
        for hlc, log, seq, value, base, ruleset in versions:
            vid = (log, seq)
            if is_ref and type(value) is str:
                value = ref_key(rec.origin, log, target, value)
            rank = RULES[ruleset].rank(kind, name, hukou, residence)
            out.append(((rank, hlc, rec.origin, vid), value, base, rec))
    return out


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _when(c: _Cand) -> tuple[int, str, Vid]:
    """When a version was written: (hlc, origin, entry), a total order."""
    return c[0][1], c[0][2], c[0][3]


def _field_conflicts(
    kind: str, key: str, name: str, cands: list[_Cand], event: bool
) -> list[ConflictRow]:
    """Rule 2: each version against the first version every other place wrote after it,
    and a version of less authority also against the authority's last one before it.

    Logs arrive whole and in order (only contiguous entries apply), and a log's clock
    only grows, so once a place's first version after ``x`` is here it stays the first:
    such an item, once derived, is derived again after every later merge, whatever
    order the logs arrive in. So an id a village is told names an item the county can
    show, and a field edited at two places is queued whichever of them merged first.
    """
    lines: dict[str, list[_Cand]] = {}
    for c in cands:
        lines.setdefault(c[0][2], []).append(c)
    whens: dict[str, list[tuple[int, str, Vid]]] = {}
    for origin, line in lines.items():
        line.sort(key=_when)
        whens[origin] = [_when(c) for c in line]
    out: dict[tuple[str, str], ConflictRow] = {}
    for x in cands:
        for origin, line in lines.items():
            if origin == x[0][2]:
                continue  # one place's versions follow each other (its epochs too)
            at = bisect_right(whens[origin], _when(x))
            before = line[at - 1] if at else None
            if at < len(line):
                rule = _pair_rule(x, line[at], before, event)
                _add(out, kind, key, name, rule, x, line[at])
            review = _review(x, line[:at])
            if review is not None:
                row = _conflict(kind, key, name, "authority", x, review)
                rid = conflict_id(vid_text(x[0][3]), f"review:{origin}")
                out.setdefault((rid, name), (rid, *row[1:]))
    return list(out.values())


def _add(
    out: dict[tuple[str, str], ConflictRow],
    kind: str,
    key: str,
    name: str,
    rule: str | None,
    x: _Cand,
    y: _Cand,
) -> None:
    if rule is not None:
        low, high = sorted((x, y), key=lambda c: c[0])
        row = _conflict(kind, key, name, rule, low, high)
        out.setdefault((row[0], name), row)


def _pair_rule(x: _Cand, y: _Cand, before: _Cand | None, event: bool) -> str | None:
    """The rule of ``x`` and ``y``, the first version another place wrote after ``x``
    (``before``: the version ``y`` replaced at its place)."""
    if _same(x[1], y[1]) or y[2] == x[0][3]:
        return None  # equal, or written on top of it
    if before is not None and _same(before[1], x[1]):
        return None  # that place held x's value too and changed it knowingly
    if x[0][0] == y[0][0]:
        return "same_event" if event and x[3] is not y[3] else "concurrent"
    if _created(x) or _created(y):
        return None  # a card written afresh meets the other's: the authority's stands
    return "authority"


def _review(later: _Cand, earlier: list[_Cand]) -> _Cand | None:
    """A place of less authority wrote ``later`` after the authority's last version
    (in ``earlier``, that place's versions before it) with another value: the
    authority's value stays, and an item asks the authority to review it.

    Its id names ``later`` and the authority's place, not the authority's entry, so a
    version of the authority that arrives late (its log lagging) changes what the item
    shows, not which item it is. Known limit: if that late version holds ``later``'s
    own value, nobody disagrees any more and the item goes.
    """
    if not earlier or earlier[-1][0][0] <= later[0][0]:
        return None
    last = earlier[-1]
    if _same(last[1], later[1]) or later[2] == last[0][3]:
        return None
    return last


def _created(c: _Cand) -> bool:
    """Was this version written by the entry that created its record (a new card)?"""
    return c[0][1] == c[3].hlc_bounds()[0]


def _conflict(kind: str, key: str, name: str, rule: str, prev: _Cand, cur: _Cand) -> ConflictRow:
    sides = sorted(
        [(vid_text(c[0][3]), c[1], c[0][2], c[0][1], c[3].rid, c is cur) for c in (prev, cur)]
    )
    return _row(kind, key, name, rule, sides)


def _row(kind: str, key: str, name: str, rule: str, sides: list[tuple[Any, ...]]) -> ConflictRow:
    (ae, av, ao, ah, ar, awin), (be, bv, bo, bh, br, _bwin) = sides
    return (
        conflict_id(ae, be),
        kind,
        key,
        name,
        rule,
        ae,
        be,
        dumps(av),
        dumps(bv),
        ao,
        bo,
        ah,
        bh,
        ar,
        br,
        "a" if awin else "b",
    )


def _retired(recs: list[LocalRecord]) -> str | None:
    """The latest retire's reason if every card of the record is retired, else None."""
    states = [r.retired() for r in recs]
    if any(s is None for s in states):
        return None
    return max(s for s in states if s is not None)[1]


def _retire_conflicts(
    kind: str, key: str, recs: list[LocalRecord], ref_key: RefKey, retired: bool
) -> list[ConflictRow]:
    out: list[ConflictRow] = []
    for rec in recs:
        for rvid, (rhlc, reason, _base, _rs) in rec.retires.items():
            if reason in CLOSING_REASONS:
                continue  # one village closed its card; others may go on writing of her
            later: dict[Vid, tuple[LocalRecord, int, dict[str, Any]]] = {}
            for other in recs:
                for name, versions in other.fields.items():
                    for hlc, log, seq, value, _b, _r in versions:
                        vid = (log, seq)
                        if vid[0] != rvid[0] and hlc > rhlc:
                            if name.endswith("_ref") and type(value) is str:
                                target = REF_KINDS.get(name, "person")
                                value = ref_key(other.origin, log, target, value)
                            later.setdefault(vid, (other, hlc, {}))[2][name] = value
            for vid, (other, hlc, fields) in later.items():
                sides = sorted(
                    [
                        (vid_text(rvid), {"retire": reason}, rec.origin, rhlc, rec.rid, retired),
                        (
                            vid_text(vid),
                            {"update": fields},
                            other.origin,
                            hlc,
                            other.rid,
                            not retired,
                        ),
                    ]
                )
                out.append(_row(kind, key, RETIRED_FIELD, "retire", sides))
    return out


def _ours(code: Any, county: str) -> bool:
    return type(code) is str and len(code) == 12 and code.startswith(county)


def _village(
    kind: str, data: dict[str, Any], recs: list[LocalRecord], origins: list[str], county: str
) -> str:
    """Where the record is listed: a person's residence if ours, else hukou, else origin."""
    if kind == "person":
        for name in ("residence_code", "hukou_code"):
            if _ours(data.get(name), county):
                return str(data[name])
        return origins[0]
    return recs[0].origin
