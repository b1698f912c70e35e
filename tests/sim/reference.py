# SPDX-License-Identifier: Apache-2.0
"""A naive reference merge: slow, obviously correct, written from the rules, not the engine.

The invariants used to check the merge by comparing the engine with itself (merged
incrementally, rebuilt, and merged from the origins' logs: three runs of one engine). A
merge that, say, skipped seq 2 of every log passed all three. This module derives the
merged rows again from the merge rules as design.md and county_aggregator/ruleset.py
state them, in the plainest code that can state them, over the entries the ledger says
were written; the engine's ``merged_records`` must equal its rows.

The rules (design.md "Merge and conflicts at the county"; ruleset.py):

* A card is one node's record ``(origin node code, kind, local id)``; its fields have
  versions, one per entry that wrote them (the later op of one entry wins).
* A local id names one record only within the history that wrote it (issue 12): a log
  sees its own entries and, through its first entry's epoch op, the log it continues up
  to the seq named, and so on back. The writes of one card whose logs see the same
  oldest write of it are one record; a card whose logs do not see each other's writes is
  two records. Each is named by the epoch of that oldest write's log: the plain id when
  it is the epoch the id names (``.<epoch>`` at its end, else 1), else ``<id>@<epoch>``.
* A person card belongs to ``idn:<its current id number>``: the cards of one resident ID
  number from several places are one merged person.
* A card's *current* value of a field is its own latest version (by clock, then entry).
  A card *claims* the hukou place when its current ``hukou_code`` is its own origin, and
  the residence likewise with ``residence_code``.
* Each field group has a rule: ``hukou`` (authoritative from a card claiming the hukou
  place), ``residence`` (likewise), ``origin`` (always authoritative). Any other card's
  version is advisory.
* A field's merged value is that of its version ranked highest by (authority, clock,
  origin, entry): never the relaying node, never arrival order.
* The merged person is retired when every card of it is retired, with the reason of the
  latest retire (by clock, origin, entry); it is listed at its residence if that is a
  village of this county, else at its hukou, else at its first origin; its clock bounds
  are those of every version and retire of its cards.

Only what the simulation writes is modelled (person cards, upserts, non-erasing
retires): anything else raises, so the reference never agrees by leaving something out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from county_aggregator.ruleset import RULESETS
from protocol import EpochStart, LogId, Retire, Upsert, decode_payload

Row = tuple[str, str, Any, list[str], str, str | None, int, int]
"""``(kind, key, data, origins, village, retired, first_hlc, last_hlc)``, data parsed."""


@dataclass
class Card:
    origin: str
    kind: str
    rid: str
    # field -> {(log, seq): (op index, hlc, value)}
    versions: dict[str, dict[tuple[str, int], tuple[int, int, Any]]] = field(default_factory=dict)
    # (log, seq) -> (hlc, reason)
    retires: dict[tuple[str, int], tuple[int, str]] = field(default_factory=dict)

    def current(self, name: str) -> Any:
        versions = self.versions.get(name, {})
        if not versions:
            return None
        latest = max(versions, key=lambda vid: (versions[vid][1], vid))
        return versions[latest][2]

    def stamps(self) -> list[int]:
        return [hlc for vs in self.versions.values() for _, hlc, _ in vs.values()] + [
            hlc for hlc, _ in self.retires.values()
        ]


def _rule(ruleset: int, kind: str, name: str) -> str:
    for group in RULESETS[ruleset]:
        if group.kind == kind and name in group.fields:
            return group.rule
    raise ValueError(f"{kind}.{name} is in no group of ruleset {ruleset}")


def _authoritative(rule: str, card: Card) -> bool:
    if rule == "hukou":
        return card.current("hukou_code") == card.origin
    if rule == "residence":
        return card.current("residence_code") == card.origin
    return True


def reference_rows(
    entries: Iterable[tuple[str, int, int, int, bytes | None]], county: str
) -> list[Row]:
    """The merged rows of ``entries`` (``(log, seq, hlc, ruleset, payload)``, any order,
    duplicates allowed), sorted by kind and key."""
    cards: dict[tuple[str, str, str], Card] = {}
    rulesets: dict[tuple[str, int], int] = {}
    links: dict[str, tuple[str, int]] = {}
    for log, seq, hlc, ruleset, payload in entries:
        if (log, seq) in rulesets or payload is None:
            continue
        rulesets[(log, seq)] = ruleset
        origin = LogId.parse(log).node.code
        for i, op in enumerate(decode_payload(payload)):
            if isinstance(op, EpochStart):
                if seq == 1 and op.prev_epoch > 0:
                    node = log.rpartition("#")[0]
                    links[log] = (f"{node}#{op.prev_epoch}", op.prev_seq)
                continue
            if not isinstance(op, Upsert | Retire) or op.kind != "person":
                raise NotImplementedError(f"the reference merge does not model {op!r}")
            card = cards.setdefault((origin, op.kind, op.id), Card(origin, op.kind, op.id))
            if isinstance(op, Retire):
                if op.reason == "retention":
                    raise NotImplementedError("the reference merge does not model erasure")
                card.retires[(log, seq)] = (hlc, op.reason)
                continue
            for name, (value, _base) in op.fields.items():
                if name.endswith("_ref"):
                    raise NotImplementedError("the reference merge does not model references")
                held = card.versions.setdefault(name, {})
                if (log, seq) not in held or held[(log, seq)][0] < i:
                    held[(log, seq)] = (i, hlc, value)
    people: dict[str, list[Card]] = {}
    for card in [line for whole in cards.values() for line in _lines(whole, links)]:
        idn = card.current("id_number")
        key = f"idn:{idn}" if isinstance(idn, str) else f"{card.origin}/{card.rid}"
        people.setdefault(key, []).append(card)
    return sorted(_person(key, members, rulesets, county) for key, members in people.items())


def _lines(card: Card, links: dict[str, tuple[str, int]]) -> list[Card]:
    """The records a card is, as the logs that wrote it see each other (see above)."""
    first: dict[str, int] = {}
    for vids in [*card.versions.values(), card.retires]:
        for log, seq in vids:
            first[log] = min(seq, first.get(log, seq))
    oldest: dict[str, str] = {}
    for log in first:
        oldest[log] = log
        at, cut, seen = log, None, set()
        while at not in seen:
            seen.add(at)
            if at in first and (cut is None or first[at] <= cut):
                oldest[log] = at
            if at not in links:
                break
            at, cut = links[at]
    named = card.rid.rpartition(".")[2]
    issued = int(named) if "." in card.rid and named.isdigit() else 1
    out: dict[str, Card] = {}
    for log, root in oldest.items():
        epoch = int(root.rpartition("#")[2])
        name = card.rid if epoch == issued else f"{card.rid}@{epoch}"
        line = out.setdefault(name, Card(card.origin, card.kind, name))
        for field_name, versions in card.versions.items():
            for vid, version in versions.items():
                if vid[0] == log:
                    line.versions.setdefault(field_name, {})[vid] = version
        for vid, retire in card.retires.items():
            if vid[0] == log:
                line.retires[vid] = retire
    return list(out.values())


def _person(
    key: str, members: list[Card], rulesets: dict[tuple[str, int], int], county: str
) -> Row:
    data: dict[str, Any] = {}
    names = {name for card in members for name in card.versions}
    for name in sorted(names):
        best: tuple[Any, ...] | None = None
        for card in members:
            for vid, (_i, hlc, value) in card.versions.get(name, {}).items():
                rule = _rule(rulesets[vid], "person", name)
                rank = (2 if _authoritative(rule, card) else 1, hlc, card.origin, vid)
                if best is None or rank > best[0]:
                    best = (rank, value)
        assert best is not None
        data[name] = best[1]
    retired = None
    if all(card.retires for card in members):
        latest = max(
            (hlc, card.origin, vid, reason)
            for card in members
            for vid, (hlc, reason) in card.retires.items()
        )
        retired = latest[3]
    origins = sorted({card.origin for card in members})
    village = origins[0]
    for name in ("residence_code", "hukou_code"):
        code = data.get(name)
        if isinstance(code, str) and len(code) == 12 and code.startswith(county):
            village = code
            break
    stamps = [s for card in members for s in card.stamps()]
    return ("person", key, data, origins, village, retired, min(stamps), max(stamps))


def engine_rows(db: Any) -> list[Row]:
    """``merged_records`` of a merged database, data and origins parsed, sorted."""
    return sorted(
        (kind, key, json.loads(data), json.loads(origins), village, retired, lo, hi)
        for kind, key, data, origins, village, retired, lo, hi in db.execute(
            "SELECT kind, key, data, origins, village, retired, first_hlc, last_hlc"
            " FROM merged_records"
        )
    )


COLUMNS = ("kind", "key", "data", "origins", "village", "retired", "first_hlc", "last_hlc")


def differences(engine: list[Row], reference: list[Row]) -> list[str]:
    """What differs, per key and column (empty: the rows are equal)."""
    mine = {(r[0], r[1]): r for r in reference}
    theirs = {(r[0], r[1]): r for r in engine}
    out = []
    for k in sorted(mine.keys() | theirs.keys()):
        a, b = theirs.get(k), mine.get(k)
        if a is None:
            out.append(f"{k[0]} {k[1]}: missing from the engine's rows")
        elif b is None:
            out.append(f"{k[0]} {k[1]}: in the engine's rows, not in the reference's")
        elif a != b:
            cols = [c for c, x, y in zip(COLUMNS, a, b, strict=True) if x != y]
            detail = ""
            if "data" in cols:
                fields = sorted(n for n in a[2].keys() | b[2].keys() if a[2].get(n) != b[2].get(n))
                detail = f" (fields {fields})"
            out.append(f"{k[0]} {k[1]}: {', '.join(cols)} differ{detail}")
    return out
