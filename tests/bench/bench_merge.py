# SPDX-License-Identifier: Apache-2.0
"""County merge figures: apply throughput against a plain-insert baseline, and a rebuild.

"merge.apply": entries per second merged into an empty merged database (strict payload
decoding, identity resolution, field ranking, conflict detection, the merged rows and
the stored versions, one transaction per 50,000 entries), next to a baseline in the
same run: the same payloads decoded by the same decoder and their field versions
inserted with a plain ``executemany`` into one WITHOUT ROWID table, in the same chunks
(and, for reference, the same baseline decoding with ``protocol.decode_payload``), and
the floor under both: hashing and decoding the payloads alone.
"merge.rebuild_county": seconds for ``rebuild()`` of a county node holding
about 1,000,000 entries from 300 village logs (50,000 with ``quick``), read from the
node's ``received_entries`` and written to a merged database file, with one worker
process per CPU (county_aggregator/parallel.py); the single-process rebuild's seconds
and whether both wrote the same bytes are reported beside it.

Entries are made directly with ``protocol.make_entry`` from tests/bench/changes.py's mix
(new cards, card updates, services), plus births and floating women whose cards are
kept by two villages, so that identity resolution and conflicts do real work.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from county_aggregator.decode import decode_ops
from county_aggregator.engine import Engine
from county_aggregator.local import dumps
from county_aggregator.merge import content_hash, gc_paused, rebuild
from county_aggregator.store import EntryRow, open_merged
from node.store.store import NodeStore
from protocol import LogId, NodeId, Suite, Upsert, decode_payload, make_entry
from protocol.entries import ZERO_HASH
from tests.bench.changes import VILLAGE, generate

COUNTY = "440104"
T0 = 1_780_000_000_000
CHUNK = 50_000
Row = tuple[str, int, int, int, int, bytes, bytes, bytes]


def _code(i: int) -> str:
    return f"{COUNTY}{1 + i // 20:03d}{1 + i % 20:03d}"


def _payload(kind: str, rid: str, fields: dict[str, tuple[Any, int]]) -> bytes:
    op = {
        "fields": {k: [v, b] for k, (v, b) in fields.items()},
        "id": rid,
        "kind": kind,
        "op": "upsert",
    }
    return json.dumps(
        {"ops": [op], "v": 1}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()


def county_rows(total: int, villages: int = 300, seed: int = 1) -> Iterator[Row]:
    """``received_entries`` rows of ``villages`` logs, ``total`` entries in all."""
    rng = random.Random(seed)
    floating: list[tuple[str, dict[str, Any]]] = []
    per = max(total // villages, 60)
    for i in range(villages):
        code = _code(i)
        log = LogId(NodeId.for_code(code), 1)
        text = str(log)
        prev, births = ZERO_HASH, 0
        for seq, ch in enumerate(generate(per, seed=seed * 1000 + i), start=1):
            kind, rid, fields = ch.kind, ch.record_id, dict(ch.fields)
            if kind == "person" and ch.is_new:
                fields = {k: ((code if v == VILLAGE else v), b) for k, (v, b) in fields.items()}
                if floating and rng.random() < 0.05:
                    home, card = rng.choice(floating)
                    fields.update({k: (card[k], 0) for k in ("id_number", "name", "birth_date")})
                    fields["hukou_code"] = (home, 0)
                    fields["floating_status"] = ("flowed_in", 0)
                elif len(floating) < 5000 and rng.random() < 0.1:
                    floating.append((code, {k: v for k, (v, _b) in fields.items()}))
            elif kind == "supply_handout" and rng.random() < 0.2:
                births += 1
                kind, rid = "birth", f"B{births}"
                fields = {
                    "mother_ref": fields["person_ref"],
                    "child_sex": (rng.choice("FM"), 0),
                    "birth_date": (f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", 0),
                    "birth_order": (rng.randint(1, 3), 0),
                    "birth_place": ("县医院", 0),
                }
            payload = _payload(kind, rid, fields)
            hlc = (T0 + seq * 60_000 + i) << 16
            entry = make_entry(Suite.CLASSIC, log, seq, prev, hlc, 1, payload)
            prev = entry.hash
            yield (text, seq, hlc, 1, 0, payload, entry.payload_hash, prev)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _county_node(root: Path, total: int) -> NodeStore:
    county = NodeStore.init(root / "county", NodeId.for_code(COUNTY), "县", Suite.CLASSIC)
    rows = county_rows(total)
    db = county.db
    db.execute("PRAGMA synchronous = OFF")
    while True:
        chunk = [r for _, r in zip(range(CHUNK), rows, strict=False)]
        if not chunk:
            break
        with db.atomic():
            db.conn.executemany(
                "INSERT INTO received_entries (log, seq, hlc, ruleset, flags, payload,"
                " payload_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                chunk,
            )
    return county


def _apply(path: Path, rows: list[EntryRow]) -> float:
    db = open_merged(path)
    t0 = time.perf_counter()
    with gc_paused():
        engine = Engine(db, COUNTY, complete=True)
        for i in range(0, len(rows), CHUNK):
            with db.atomic():
                engine.apply(rows[i : i + CHUNK])
                engine.flush()
        del engine
    seconds = time.perf_counter() - t0
    db.close()
    return seconds


def _decoded_fast(payload: bytes) -> Iterator[tuple[str, str, str, Any, Any]]:
    for op in decode_ops(payload):
        if op[0] == "u":
            for name, (value, base) in op[3].items():
                yield op[1], op[2], name, value, base


def _decoded_strict(payload: bytes) -> Iterator[tuple[str, str, str, Any, Any]]:
    for op in decode_payload(payload):
        if isinstance(op, Upsert):
            for name, (value, base) in op.fields.items():
                yield op.kind, op.id, name, value, base


def _baseline(path: Path, rows: list[EntryRow], decode: Any) -> tuple[float, int]:
    """Decode + one ``executemany`` per chunk: the floor any merge sits on.

    Values are spelled with the merge's own JSON encoder (``dumps``: the C encoder, built
    once), not ``json.dumps`` (which builds an encoder per call and used to be half of
    the baseline's time), and the cyclic collector is paused as the merge pauses it, so
    the ratio compares the merge with a fair floor rather than with a slow one.
    """
    with gc_paused():
        return _baseline_run(path, rows, decode)


def _baseline_run(path: Path, rows: list[EntryRow], decode: Any) -> tuple[float, int]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE versions (kind TEXT, id TEXT, field TEXT, log TEXT, seq INTEGER,"
        " value TEXT, hlc INTEGER, base TEXT, PRIMARY KEY (log, seq, kind, id, field))"
        " WITHOUT ROWID"
    )
    t0, n = time.perf_counter(), 0
    for i in range(0, len(rows), CHUNK):
        out = [
            (kind, rid, name, log, seq, dumps(value), hlc, str(base))
            for log, seq, hlc, _rs, _fl, payload, _ph in rows[i : i + CHUNK]
            for kind, rid, name, value, base in decode(payload or b"")
        ]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", out)
        conn.execute("COMMIT")
        n += len(out)
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds, n


def _decode_only(rows: list[EntryRow]) -> float:
    """Seconds to check every payload's hash and decode it as the merge does: the floor
    under ``merge.apply`` (every entry must be checked, whatever the merge does next)."""
    with gc_paused():
        t0 = time.perf_counter()
        for row in rows:
            payload = row[5] or b""
            if hashlib.sha256(payload).digest() == row[6]:
                decode_ops(payload)
        return time.perf_counter() - t0


def run(quick: bool = False) -> Iterator[dict[str, Any]]:
    apply_n = 20_000 if quick else 200_000
    county_n = 50_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [r[:7] for r in county_rows(apply_n, villages=60)]
        merge_s = _apply(root / "apply.db", rows)  # type: ignore[arg-type]
        base_s, versions = _baseline(root / "base.db", rows, _decoded_fast)  # type: ignore[arg-type]
        strict_s, _ = _baseline(root / "strict.db", rows, _decoded_strict)  # type: ignore[arg-type]
        decode_s = _decode_only(rows)  # type: ignore[arg-type]
        yield {
            "name": "merge.apply",
            "ops_per_s": round(len(rows) / merge_s),
            "baseline_ops_per_s": round(len(rows) / base_s),
            "ratio_to_baseline": round(base_s / merge_s, 3),
            "baseline_strict_ops_per_s": round(len(rows) / strict_s),
            "decode_only_ops_per_s": round(len(rows) / decode_s),
            "entries": len(rows),
            "field_versions": versions,
            "baseline": "the merge's decoder + executemany of the field versions, values "
            "spelled by the merge's C encoder, collector paused (strict: "
            "protocol.decode_payload instead)",
            "note": "checking the payloads alone (hash + the fast-path decode, orjson) runs "
            "at decode_only_ops_per_s; the merge also resolves identities, ranks every field, "
            "derives merged rows and conflicts and writes them: about 30 us per entry in "
            "one CPython process, so the 100,000/s target is out of its reach; "
            "ratio_to_baseline (>= 0.5) is the figure to track",
        }
        t0 = time.perf_counter()
        county = _county_node(root, county_n)
        generate_s = time.perf_counter() - t0
        entries = county.db.execute("SELECT count(*) FROM received_entries").fetchone()[0]
        workers = _cpus()
        key = county.identity.db_key  # merged.db encrypted at rest, as in production
        merged = open_merged(root / "merged.db", key=key)
        t0 = time.perf_counter()
        stats = rebuild(county.db, merged, workers=workers)
        seconds = time.perf_counter() - t0
        alone = open_merged(root / "sequential.db", key=key)
        t0 = time.perf_counter()
        rebuild(county.db, alone)
        sequential = time.perf_counter() - t0
        same = content_hash(alone) == content_hash(merged)
        alone.close()
        counts = dict(merged.execute("SELECT kind, count(*) FROM merged_records GROUP BY kind"))
        n_conflicts = merged.execute("SELECT count(DISTINCT id) FROM conflicts").fetchone()[0]
        merged.close()
        county.close()
        yield {
            "name": "merge.rebuild_county",
            "seconds": round(seconds, 2),
            "entries": entries,
            "applied": stats.applied,
            "entries_per_s": round(entries / seconds),
            "workers": workers,
            "encrypted": bool(key),
            "sequential_seconds": round(sequential, 2),
            "same_bytes": same,
            "logs": 300,
            "persons": counts.get("person", 0),
            "births": counts.get("birth", 0),
            "conflicts": n_conflicts,
            "generate_seconds": round(generate_s, 1),
            "note": "two worker processes derive their shares at once and write them in "
            "turn (SQLite takes one writer), then the keys both hold are re-derived; 30 s "
            "needs both cores free, and this machine is shared, so seconds swing between runs",
        }
