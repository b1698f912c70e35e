# SPDX-License-Identifier: Apache-2.0
"""The merge engine: entries in, local records and merged rows out, one chunk at a time.

:meth:`Engine.apply` checks and decodes entries and adds their versions to local
records in memory; :meth:`Engine.flush` re-derives what those versions change (which
merged key each touched record belongs to, the merged rows and conflicts of every key
affected) and writes it, with the cursor, through ``store.write_chunk``. The caller
wraps apply + flush in one transaction, so a chunk is merged whole or not at all.

State lives in memory for the run. Starting from an empty database (a rebuild) the
engine knows it holds everything (``complete``) and never reads back; otherwise it
loads what a chunk needs on demand: a whole origin before applying its entries (its
records point at each other), the records of a merged key before re-deriving it, the
births of a same-event signature before re-grouping them.

Identity (design.md): a person is ``idn:<id number>``; a birth that another place
recorded too (same mother, date, sex and order) takes the smallest local key of its
group; anything else is ``<origin>/<local id>``. A local id is one record only within the
history that wrote it: the writes of one id whose logs do not see each other are split
into lines, each its own local record (county_aggregator/lines.py, :meth:`Engine._line`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from sqlite_utils import Database

from county_aggregator import lines, store
from county_aggregator.cards import CardLines, KindKey, LocalId
from county_aggregator.decode import decode_ops
from county_aggregator.local import LocalRecord, dumps
from county_aggregator.rejected import Rejected
from county_aggregator.resolve import merge_record
from county_aggregator.ruleset import REF_FIELDS, RULES, SAME_EVENT
from county_aggregator.store import EntryRow, LocalRow
from protocol import LogId, ProtocolError, Role

WRITE_BATCH = 50_000
"""Rows per ``write_chunk`` call when a complete engine writes a whole rebuild at once."""


class Engine(CardLines):
    """Merge state of one run against one merged database."""

    def __init__(
        self,
        db: Database,
        county: str,
        *,
        limits: dict[str, int] | None = None,
        complete: bool = False,
    ) -> None:
        self.db = db
        self.county = county
        self.limits = limits or {}
        self.complete = complete
        self.locals: dict[LocalId, LocalRecord] = {}
        """Local records by ``(origin, kind, line name)``."""
        self._init_lines()
        self.members: dict[KindKey, set[LocalRecord]] = {}
        self.groups: dict[str, set[LocalRecord]] = {}
        self.dependents: dict[LocalId, set[LocalRecord]] = {}
        self._origins: set[str] = set()
        self._keys: set[KindKey] = set()
        self._sigs: set[str] = set()
        self._logs: dict[str, tuple[str, bool]] = {}
        self._conflicted: set[KindKey] = set()
        self._reset_chunk()
        self.applied = 0
        self.rejected = 0

    def _reset_chunk(self) -> None:
        self._dirty: set[LocalRecord] = set()
        """Records with new versions: re-keyed, re-derived and stored again."""
        self._stale: set[LocalRecord] = set()
        """Records only to re-key and re-derive (:meth:`refresh`): stored again only if
        their merged key or same-event signature changes."""
        self._rejected: list[tuple[str, int, str, str]] = []
        self._advisories: list[tuple[Any, ...]] = []
        self._upto: dict[str, int] = {}
        self._reset_lines()

    # -- applying entries ----------------------------------------------------------------

    def apply(self, rows: Iterable[EntryRow]) -> None:
        """Add the versions of ``rows``; rejected entries are noted, never applied."""
        for row in rows:
            self._apply_entry(row)

    def _apply_entry(self, row: EntryRow) -> None:
        log, seq = row[0], row[1]
        if self._upto.get(log, 0) < seq:
            self._upto[log] = seq
        try:
            origin, own = self._log(log)
            ops = self._check(row)
        except Rejected as exc:
            self._rejected.append((log, seq, exc.code, str(exc)[:500]))
            self.rejected += 1
            return
        if ops is None:
            return
        if not self.complete and origin not in self._origins:
            self._load_origin(origin)
        vid, hlc, ruleset = (log, seq), row[2], row[3]
        cards = self.cards
        self._seen_logs.add(log)
        for i, op in enumerate(ops):
            tag = op[0]
            if tag == "u" or tag == "r":
                kind, rid = op[1], op[2]
                held = cards.get((origin, kind, rid))
                if held is not None and len(held) == 1 and log in held[0].logs:
                    rec = held[0]  # nearly always: one line, and this log already in it
                else:
                    rec = self._line(origin, log, seq, kind, rid)
                self._dirty.add(rec)
                if tag == "r":
                    rec.add_retire(vid, hlc, ruleset, op[3], op[4])
                    continue
                fields = op[3]
                rec.add_fields(vid, i, hlc, ruleset, fields, op[4])
                for name, target_kind in REF_FIELDS.get(kind, ()):
                    pair = fields.get(name)
                    if pair is not None and type(pair[0]) is str:
                        self.dependents.setdefault((origin, target_kind, pair[0]), set()).add(rec)
            elif tag == "n" and own and op[1] == "advisory":
                self._advisories.append(_advisory_row(log, seq, i, hlc, op[2]))
            elif tag == "e" and seq == 1 and len(op) == 3 and op[1] > 0:
                self._link(origin, log, lines.link_of(log, op[1], op[2]))
        self.applied += 1

    def _log(self, log: str) -> tuple[str, bool]:
        info = self._logs.get(log)
        if info is None:
            try:
                node = LogId.parse(log).node
            except ProtocolError as exc:
                raise Rejected("log", f"log id is not valid: {exc}") from None
            info = (node.code, node.role is Role.COUNTY and node.code == self.county)
            self._logs[log] = info
        return info

    def _check(self, row: EntryRow) -> list[tuple[Any, ...]] | None:
        log, seq, _hlc, ruleset, _flags, payload, payload_hash = row
        rules = RULES.get(ruleset)
        if rules is None:
            raise Rejected("ruleset", f"ruleset {ruleset} is not known to this county")
        limit = self.limits.get(log)
        if limit is not None and seq > limit:
            raise Rejected(
                "revoked", f"the certificate of {log} was revoked; valid only through seq {limit}"
            )
        if payload is None:
            return None
        payload = bytes(payload)
        if hashlib.sha256(payload).digest() != bytes(payload_hash):
            raise Rejected("hash", "payload does not match its hash")
        try:
            ops = decode_ops(payload)
        except ProtocolError as exc:
            raise Rejected("decode", str(exc)) from None
        for op in ops:
            if op[0] in ("u", "r"):
                known = rules.kinds.get(op[1])
                if known is None:
                    raise Rejected("kind", f"kind {op[1]!r} is not in ruleset {ruleset}")
                if op[0] == "u" and not known.issuperset(op[3]):
                    extra = sorted(set(op[3]) - known)
                    raise Rejected(
                        "field", f"{op[1]} field {extra[0]!r} is not in ruleset {ruleset}"
                    )
        return ops

    # -- local records and lazy loading --------------------------------------------------

    def _adopt(self, row: LocalRow) -> LocalRecord | None:
        lid = (row[0], row[1], row[2])
        held = self.locals.get(lid)
        if held is not None or lid in self._buried:
            return held
        rec = self.locals[lid] = LocalRecord.from_row(*row)
        assert rec.key is not None
        self.cards.setdefault((rec.origin, rec.kind, rec.card), []).append(rec)
        self._seen_logs |= rec.logs
        self.members.setdefault((rec.kind, rec.key), set()).add(rec)
        if rec.sig is not None:
            self.groups.setdefault(rec.sig, set()).add(rec)
        for target in rec.ref_targets():
            self.dependents.setdefault(target, set()).add(rec)
        return rec

    def _load_origin(self, origin: str) -> None:
        if self.complete or origin in self._origins:
            return
        for row in store.locals_of_origin(self.db, origin):
            self._adopt(row)
        self._load_links(origin)
        self._origins.add(origin)

    def _load_key(self, kk: KindKey) -> None:
        if not self.complete and kk not in self._keys:
            for row in store.locals_by_key(self.db, *kk):
                self._adopt(row)
            self._keys.add(kk)

    def _load_sig(self, sig: str) -> None:
        if not self.complete and sig not in self._sigs:
            for row in store.locals_by_sig(self.db, sig):
                self._adopt(row)
            self._sigs.add(sig)

    def refresh(self, keys: Iterable[KindKey], sigs: Iterable[str]) -> None:
        """Re-derive these merged keys and same-event groups at the next flush.

        For results merged apart (a parallel rebuild's workers each saw part of a key).
        """
        for kk in keys:
            self._load_key(kk)
            self._stale.update(m for m in self.members.get(kk, ()) if m.key == kk[1])
        for sig in sigs:
            self._load_sig(sig)
            self._stale.update(self.groups.get(sig, ()))

    def held_keys(self) -> list[KindKey]:
        """Every merged key that a record this engine holds belongs to."""
        return [kk for kk, members in self.members.items() if members]

    def held_sigs(self) -> list[str]:
        """Every same-event signature of a record this engine holds."""
        return [sig for sig, group in self.groups.items() if group]

    # -- flushing: re-key, re-derive, write ------------------------------------------------

    def flush(self) -> None:
        """Derive and write everything this chunk changed (inside the caller's transaction)."""
        self.write(self.chunks())

    def write(self, chunks: Iterable[store.Chunk]) -> None:
        """Write derived chunks (inside the caller's transaction)."""
        for chunk in chunks:
            store.write_chunk(self.db, chunk)

    def chunks(self) -> Iterator[store.Chunk]:
        """Re-key what this chunk changed, then derive its rows, one write at a time.

        Lazy, so that :meth:`flush` writes each slice as it is derived; a parallel
        rebuild's worker takes them all first (``list``) and holds SQLite's write lock
        only to write them (parallel.py).
        """
        self._affected: set[KindKey] = set(self._gone)
        self._changed: set[LocalRecord] = set(self._dirty)
        self._queue: list[LocalRecord] = []
        work = self._dirty | self._stale
        # Persons first, so that births group under their mothers' merged keys at once
        # (any order gives the same keys: a person re-keyed later re-queues her births).
        for rec in [r for r in work if r.kind == "person"]:
            self._rekey(rec)
        for rec in [r for r in work if r.kind != "person"]:
            self._rekey(rec)
        while self._queue:
            self._rekey(self._queue.pop())
        yield from self._derived()
        self._reset_chunk()

    def _rekey(self, rec: LocalRecord) -> None:
        if rec.kind in SAME_EVENT:
            self._regroup(rec)
        elif rec.kind == "person":
            idn = rec.current("id_number")
            self._set_key(rec, f"idn:{idn}" if type(idn) is str and idn else rec.lkey)
        else:
            self._set_key(rec, rec.lkey)
        assert rec.key is not None
        self._affected.add((rec.kind, rec.key))

    def _regroup(self, rec: LocalRecord) -> None:
        ref_field, names = SAME_EVENT[rec.kind]
        mother, values = rec.current(ref_field), [rec.current(n) for n in names]
        sig = None
        if type(mother) is str and all(v is not None for v in values):
            log = rec.current_version(ref_field)[1]  # type: ignore[index]  # mother is set
            sig = dumps([rec.kind, self.ref_key(rec.origin, log, "person", mother), *values])
        touched = {rec}
        for s in {rec.sig, sig} - {None}:
            assert s is not None
            self._load_sig(s)
            touched |= self.groups.get(s, set())
        if sig != rec.sig:
            if rec.sig is not None:
                self.groups[rec.sig].discard(rec)
            if sig is not None:
                self.groups.setdefault(sig, set()).add(rec)
            rec.sig = sig
            self._changed.add(rec)
        for member in touched:
            group = self.groups.get(member.sig) if member.sig is not None else None
            self._set_key(member, min(m.lkey for m in group) if group else member.lkey)

    def _set_key(self, rec: LocalRecord, key: str) -> None:
        old = rec.key
        if old == key:
            return
        if old is not None:
            self.members[(rec.kind, old)].discard(rec)
            self._affected.add((rec.kind, old))
        rec.key = key
        kk = (rec.kind, key)
        members = self.members.get(kk)
        if members is None:
            self.members[kk] = {rec}
        else:
            members.add(rec)
        self._affected.add(kk)
        self._changed.add(rec)
        # Records pointing at this one show its merged key (or its local key while it was
        # unknown): re-derive them, and re-group births whose mother it is.
        self._load_origin(rec.origin)
        for dep in self.dependents.get((rec.origin, rec.kind, rec.card), ()):
            if dep.key is not None:
                self._affected.add((dep.kind, dep.key))
            if dep.kind in SAME_EVENT:
                self._queue.append(dep)

    def _derived(self) -> Iterator[store.Chunk]:
        """The rows of what :meth:`chunks` re-keyed, for ``store.write_chunk``.

        A complete engine may flush a whole rebuild at once (``merge_logs(defer=True)``):
        then rows go in slices of :data:`WRITE_BATCH`, each slice in primary-key order,
        so memory for derived rows stays bounded and SQLite fills its b-trees in order
        rather than touching every page again on every chunk (the merged database is
        larger than SQLite's page cache, and random inserts made each chunk's commit
        rewrite most of ``merged_records``). Same rows, same transaction, same bytes.
        """
        affected = sorted(self._affected, key=_key_order)
        changed = [r for r in self._changed if r.key is not None]
        n = max(len(affected), len(changed))
        step = n or 1
        if self.complete:
            changed.sort(key=_primary_key_order)
            step = WRITE_BATCH
        for lo in range(0, n or 1, step):
            last = lo + step >= n
            merged, deletes, clears, conflicts = self._derive(affected[lo : lo + step])
            yield store.Chunk(
                [
                    (r.origin, r.kind, r.rid, r.key, r.sig, *r.claims(), r.to_json())
                    for r in changed[lo : lo + step]
                ],
                merged,
                deletes,
                clears,
                conflicts,
                self._rejected if last else [],
                self._advisories if last else [],
                self._upto if last else {},
                self._dropped if last else [],
                self._new_links if last else [],
            )

    def _derive(
        self, keys: list[KindKey]
    ) -> tuple[list[Any], list[KindKey], list[KindKey], list[Any]]:
        """``(merged rows, keys to delete, keys whose conflicts to clear, conflict rows)``."""
        merged: list[Any] = []
        deletes: list[KindKey] = []
        clears: list[KindKey] = []
        conflicts: list[Any] = []
        # The hot loop of a rebuild (once per merged key): attributes read once.
        complete, held, conflicted = self.complete, self.members, self._conflicted
        ref_key, county = self.ref_key, self.county
        for kk in keys:
            kind, key = kk
            if not complete:
                self._load_key(kk)
                clears.append(kk)
            elif kk in conflicted:
                clears.append(kk)
            members = [m for m in held.get(kk, ()) if m.key == key]
            if not members:
                deletes.append(kk)
                conflicted.discard(kk)
                continue
            row, items = merge_record(kind, key, members, ref_key, county)
            merged.append(row)
            if items:
                conflicts += items
                conflicted.add(kk)
            else:
                conflicted.discard(kk)
        return merged, deletes, clears, conflicts


# Sort keys in the order of the tuples they spell, cheaper to sort than tuples (one
# contiguous string each rather than two or three scattered ones). Exact: every part but
# the last (kinds are lower-case names, origins digits) is free of the NUL that ends it,
# and the last part's own characters compare as they would in the tuple.


def _key_order(kk: KindKey) -> str:
    """``(kind, key)`` order."""
    return f"{kk[0]}\x00{kk[1]}"


def _primary_key_order(rec: LocalRecord) -> str:
    """``local_records`` primary-key order: ``(origin, kind, rid)``."""
    return f"{rec.origin}\x00{rec.kind}\x00{rec.rid}"


def _advisory_row(log: str, seq: int, i: int, hlc: int, body: dict[str, Any]) -> tuple[Any, ...]:
    def text(name: str) -> str:
        value = body.get(name)
        return value if isinstance(value, str) else ""

    return (
        log,
        seq,
        i,
        text("conflict"),
        text("kind"),
        text("key"),
        text("field"),
        dumps(body.get("value")),
        text("for_node"),
        text("record"),
        hlc,
    )
