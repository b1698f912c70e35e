# SPDX-License-Identifier: Apache-2.0
"""The engine's lines of each card: which local record a write of a local id joins, and
which record a reference names (county_aggregator/lines.py says why and by what rule).

:class:`CardLines` is the part of :class:`~county_aggregator.engine.Engine` that keeps
them: for nearly every write the card has one line and the writing log is in it, which
the engine checks inline; the rest comes here. When a write or an epoch link moves a
root (entries merged out of order, or an older epoch's entries arriving after a newer
one's), the card's lines are made again from every op they hold, the old lines' merged
keys re-derived and their stored rows deleted, so the result is the same whatever order
the entries came in.
"""

from __future__ import annotations

from sqlite_utils import Database

from county_aggregator import lines, store
from county_aggregator.local import LocalRecord, add_to
from county_aggregator.store import LocalRow

LocalId = tuple[str, str, str]
KindKey = tuple[str, str]


class CardLines:
    """Lines of cards and epoch links, on top of the engine's local records."""

    # The engine's state these methods read and change (engine.py sets them).
    db: Database
    complete: bool
    locals: dict[LocalId, LocalRecord]
    members: dict[KindKey, set[LocalRecord]]
    groups: dict[str, set[LocalRecord]]
    dependents: dict[LocalId, set[LocalRecord]]
    _origins: set[str]
    _dirty: set[LocalRecord]
    _stale: set[LocalRecord]

    def _init_lines(self) -> None:
        self.cards: dict[LocalId, list[LocalRecord]] = {}
        """The lines of each ``(origin, kind, local id)``: one, unless ids collided."""
        self.links: lines.Links = {}
        """Epoch links of the origins held."""
        self._linked: set[str] = set()
        self._seen_logs: set[str] = set()
        self._loaded: set[LocalId] = set()
        """Cards whose every line was loaded from the store."""
        self._buried: set[LocalId] = set()
        """Lines relined away in this run: their stored rows are stale until the chunk's
        write deletes them, and must not be loaded back."""

    def _reset_lines(self) -> None:
        self._gone: set[KindKey] = set()
        """Merged keys of lines split or joined away (re-derived at the flush)."""
        self._dropped: list[LocalId] = []
        """Stored local records of lines that no longer exist."""
        self._new_links: list[tuple[str, str, str, int]] = []

    def _adopt(self, row: LocalRow) -> LocalRecord | None:
        """Take a stored local record in (engine.py)."""
        raise NotImplementedError

    def _line(self, origin: str, log: str, seq: int, kind: str, card: str) -> LocalRecord:
        """The line of ``card`` that a write at ``(log, seq)`` belongs to: split or join
        the card's lines again first when that write moves a root (lines.py)."""
        ck = (origin, kind, card)
        held = self._card(origin, kind, card)
        if held:
            firsts = _firsts(held)
            if seq < firsts.get(log, seq + 1):
                firsts[log] = seq
            roots = lines.partition(firsts, self.links)
            if _moved(card, held, roots):
                self._reline(ck, held, roots)
            name = lines.line_name(card, roots[log])
            for rec in self.cards.get(ck, ()):
                if rec.rid == name:
                    return rec
        else:
            name = lines.line_name(card, log)  # a new card: its first write is its root
        rec = self.locals[(origin, kind, name)] = LocalRecord(origin, kind, name)
        self._buried.discard((origin, kind, name))
        self.cards.setdefault(ck, []).append(rec)
        return rec

    def _reline(self, ck: LocalId, held: list[LocalRecord], roots: dict[str, str]) -> None:
        """Make the lines of card ``ck`` again from every op they hold, each op in the
        line of its log's root; what pointed at the card is re-derived."""
        origin, kind, card = ck
        fresh: dict[str, LocalRecord] = {}
        for old in held:
            for op in old.replayed():
                vid = op[1][0]
                name = lines.line_name(card, roots.get(vid[0], vid[0]))
                rec = fresh.get(name)
                if rec is None:
                    rec = fresh[name] = LocalRecord(origin, kind, name)
                add_to(rec, op)
            self._drop(old)
        for name, rec in fresh.items():
            self.locals[(origin, kind, name)] = rec
            self._buried.discard((origin, kind, name))
            self._dirty.add(rec)
            for target in rec.ref_targets():
                self.dependents.setdefault(target, set()).add(rec)
        gone = [(origin, kind, old.rid) for old in held if old.rid not in fresh]
        self._dropped += gone
        self._buried.update(gone)
        self.cards[ck] = list(fresh.values())
        self._stale.update(self.dependents.get(ck, ()))

    def _drop(self, rec: LocalRecord) -> None:
        """Forget a line that :meth:`_reline` replaces."""
        self.locals.pop((rec.origin, rec.kind, rec.rid), None)
        if rec.key is not None:
            self.members[(rec.kind, rec.key)].discard(rec)
            self._gone.add((rec.kind, rec.key))
        if rec.sig is not None:
            group = self.groups.get(rec.sig, set())
            group.discard(rec)
            self._stale.update(group)
        for target in rec.ref_targets():
            self.dependents.get(target, set()).discard(rec)
        self._dirty.discard(rec)
        self._stale.discard(rec)

    def _link(self, origin: str, log: str, link: tuple[str, int]) -> None:
        """Log ``log`` continues ``link``: roots seen from it (and from the logs that
        continue it) may move to older logs."""
        if self.links.get(log) == link:
            return
        self.links[log] = link
        self._new_links.append((origin, log, *link))
        after = {x for x in self._seen_logs if any(c[0] == log for c in lines.chain(x, self.links))}
        if not after:
            return  # as merged in order: nothing of the log (or after it) lined yet
        # Writes of these logs were lined without the link (entries merged out of order):
        # line their cards again, and re-derive what refers from them.
        touched = [r for r in list(self.locals.values()) if r.origin == origin and r.logs & after]
        self._stale.update(touched)
        for ck in sorted({(origin, r.kind, r.card) for r in touched}):
            held = self.cards.get(ck, [])
            roots = lines.partition(_firsts(held), self.links)
            if _moved(ck[2], held, roots):
                self._reline(ck, held, roots)

    def _card(self, origin: str, kind: str, card: str) -> list[LocalRecord]:
        """The lines of a card, and its origin's epoch links (loaded if need be)."""
        ck = (origin, kind, card)
        if not self.complete and origin not in self._origins:
            self._load_links(origin)
            if ck not in self._loaded:
                for row in store.load_card(self.db, origin, kind, card):
                    self._adopt(row)
                self._loaded.add(ck)
        return self.cards.get(ck, [])

    def _load_links(self, origin: str) -> None:
        if not self.complete and origin not in self._linked:
            for log, prev, cut in store.links_of_origin(self.db, origin):
                self.links.setdefault(log, (prev, cut))
            self._linked.add(origin)

    def ref_key(self, origin: str, log: str, kind: str, card: str) -> str:
        """The merged key of the record ``card`` of ``origin`` as a write in ``log``
        names it: the line of its root there (lines.py), or, when the county holds no
        write of it that ``log`` sees, the local key of the line ``log`` would start."""
        held = self._card(origin, kind, card)
        if len(held) == 1 and log in held[0].logs:
            rec = held[0]
        else:
            found = lines.root(log, _firsts(held), self.links)
            name = lines.line_name(card, found if found is not None else log)
            seen = [line for line in held if found is not None and line.rid == name]
            if not seen:
                return f"{origin}/{name}"
            rec = seen[0]
        return rec.key if rec.key is not None else rec.lkey


def _firsts(held: list[LocalRecord]) -> dict[str, int]:
    """``{log: first seq}`` of the writes of a card's lines."""
    out: dict[str, int] = {}
    for rec in held:
        for log, first in rec.firsts().items():
            if first < out.get(log, first + 1):
                out[log] = first
    return out


def _moved(card: str, held: list[LocalRecord], roots: dict[str, str]) -> bool:
    """Is some log's write held in another line than its root names?"""
    return any(lines.line_name(card, roots[log]) != rec.rid for rec in held for log in rec.firsts())
