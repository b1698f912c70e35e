# SPDX-License-Identifier: Apache-2.0
"""Protocol figures: seal+sign and open+verify throughput, and bytes on the wire.

"protocol.seal_sign" / "protocol.open_verify": entries per second over 1,000,000
realistic changes in batches of 5,000 (hybrid suite, three recipients), one core.
The open_verify headline is what the county does with an envelope before it stores it:
decode, verify hop and batch signatures, open, rebuild the chain, and check every
payload (``check_payload``); the bare figure without the payload check is beside it.
"protocol.wire": all envelope bytes per entry next to two baselines measured on the
same changes in the same run: the zlib-compressed CSV of the bare changes (the floor)
and the SQLite session extension's changeset (old and new values, zlib-compressed).
"deflate_levels" gives the deflated frames alone (no crypto) per entry at zlib levels 1,
4, 6 and 9 with the microseconds per entry each took: the level is the sender's choice
(SPEC.md §6.3), and this is the trade-off it chooses on.
"""

from __future__ import annotations

import csv
import io
import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import apsw

from protocol.batches import sign_batch
from protocol.crypto import Suite
from protocol.entries import ZERO_HASH, Entry, make_entry
from protocol.envelope import address, decode_envelope, open_envelope, seal_batch
from protocol.fast_payload import check_payload
from protocol.frames import deflate, frame_pieces
from protocol.ids import LogId
from protocol.ops import Upsert, decode_payload, encode_payload
from protocol.testing import NOW, ORIGIN_EXPIRES, ORIGIN_SENT, make_node
from tests.bench.changes import Change, generate
from tests.bench.report import TARGETS

COLUMNS = {
    "person": (
        "card_type id_number name sex birth_date hukou_code hukou_address residence_code "
        "residence_address marital_status floating_status phone"
    ).split(),
    "follow_up": ["person_ref", "visit_date", "method_in_use"],
    "supply_handout": ["person_ref", "item", "quantity", "handout_date"],
}


def build_entries(changes: Sequence[Change], log: LogId, suite: Suite) -> list[Entry]:
    entries, prev = [], ZERO_HASH
    for seq, ch in enumerate(changes, start=1):
        payload = encode_payload([Upsert(ch.kind, ch.record_id, ch.fields)])
        entry = make_entry(suite, log, seq, prev, (NOW + seq * 1000) << 16, 1, payload)
        entries.append(entry)
        prev = entry.hash
    return entries


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def csv_floor(changes: Sequence[Change]) -> int:
    """The bare changes as CSV, one row per change (changed columns filled), zlib -9."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for ch in changes:
        row = [ch.fields[c][0] if c in ch.fields else "" for c in COLUMNS[ch.kind]]
        writer.writerow((ch.kind, ch.record_id, *row))
    return len(zlib.compress(buf.getvalue().encode(), 9))


def changeset_bytes(changes: Sequence[Change], prior: Sequence[Change]) -> int:
    """zlib'd SQLite session changeset of ``changes`` on a table holding ``prior``."""
    db = apsw.Connection(":memory:")
    for kind, cols in COLUMNS.items():
        db.execute(f"CREATE TABLE {kind} (id TEXT PRIMARY KEY, {', '.join(cols)})")
    for ch in prior:
        _apply(db, ch)
    session = apsw.Session(db, "main")
    session.attach()
    with db:
        for ch in changes:
            _apply(db, ch)
    return len(zlib.compress(session.changeset(), 9))


def _apply(db: apsw.Connection, ch: Change) -> None:
    cols = list(ch.fields)
    values = [v for v, _ in ch.fields.values()]
    if ch.is_new:
        db.execute(
            f"INSERT INTO {ch.kind} (id, {', '.join(cols)}) VALUES (?{', ?' * len(cols)})",
            [ch.record_id, *values],
        )
    else:
        sets = ", ".join(f"{c} = ?" for c in cols)
        db.execute(f"UPDATE {ch.kind} SET {sets} WHERE id = ?", [*values, ch.record_id])


def run(quick: bool = False) -> Iterator[dict[str, Any]]:
    total = 50_000 if quick else 1_000_000
    root = make_node("440104")
    town = make_node("440104001", root)
    village = make_node("440104001002", root)
    log = LogId(village.node, 1)
    changes = list(generate(total))
    entries = build_entries(changes, log, village.signing.suite)
    recipients = [root.kem.public_key, town.kem.public_key, village.kem.public_key]

    def seal_all(size: int, batch_entries: Sequence[Entry]) -> list[bytes]:
        out = []
        for chunk in chunks(batch_entries, size):
            header, sig = sign_batch(
                chunk,
                village.signing,
                village.cert.serial,
                sent_ms=ORIGIN_SENT,
                expires_ms=ORIGIN_EXPIRES,
            )
            sealed = seal_batch(chunk, header, sig, recipients)
            out.append(address(sealed, village.signing, village.node, town.node, NOW, NOW + 10**7))
        return out

    t0 = time.perf_counter()
    envelopes = seal_all(5000, entries)
    seal_s = time.perf_counter() - t0
    yield {
        "name": "protocol.seal_sign",
        "ops_per_s": round(total / seal_s),
        "entries": total,
        "batch": 5000,
        "suite": "hybrid",
        "recipients": 3,
    }

    keys = {root.kem.public_key.key_id: root.kem}
    vkey = village.signing.verify_key
    # CPU time of this process, not wall time: the work is one core's, and on a shared
    # machine wall time also counts the time other processes held the core.
    t0 = time.process_time()
    opened: list[Entry] = []
    for raw in envelopes:
        env = decode_envelope(raw)
        env.verify_hop(vkey, NOW)
        env.verify_batch(vkey)
        opened.extend(open_envelope(env, keys))
    open_s = time.process_time() - t0
    assert len(opened) == total and opened[-1].hash == entries[-1].hash
    t0 = time.process_time()
    for e in opened:
        check_payload(e.payload or b"")
    decode_s = time.process_time() - t0
    sample = opened[:100_000]
    t0 = time.process_time()
    for e in sample:
        decode_payload(e.payload or b"")
    strict_s = time.process_time() - t0
    yield {
        "name": "protocol.open_verify",
        **_to_meet_open_goal(total / (open_s + decode_s), total / open_s, total / decode_s),
        "ops_per_s": round(total / (open_s + decode_s)),
        "entries": total,
        "bare_ops_per_s": round(total / open_s),
        "payload_check_ops_per_s": round(total / decode_s),
        "strict_decode_ops_per_s": round(len(sample) / strict_s),
        "clock": "process CPU time",
        "note": "the headline includes check_payload on every entry, the county's check at "
        "receipt (the fast path, the strict decoder for what it declines); bare is decode, "
        "verify and open alone; strict_decode is decode_payload alone on every payload",
    }

    yield from wire_figures(changes, entries, envelopes, seal_all)


def _to_meet_open_goal(ops_per_s: float, bare: float, check: float) -> dict[str, str]:
    """What the payload check must reach for the headline to meet the goal, if it does not."""
    goal = TARGETS["protocol.open_verify"][2]
    if ops_per_s >= goal:
        return {}
    if bare <= goal:
        return {"to_meet_goal": f"opening alone runs at {bare:,.0f}/s, below {goal:,.0f}/s"}
    need = 1 / (1 / goal - 1 / bare)
    return {
        "to_meet_goal": f"the payload check must run at {need:,.0f}/s (it runs at "
        f"{check:,.0f}/s, {need / check:.1f}x faster), or on the second core beside the "
        f"opening, which alone runs at {bare:,.0f}/s"
    }


def wire_figures(changes, entries, envelopes, seal_all) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    sample = min(len(changes), 100_000)
    for size in (5000, 500):
        batches = envelopes[: sample // 5000] if size == 5000 else seal_all(size, entries[:sample])
        wire = sum(len(b) for b in batches)
        floor = sum(csv_floor(c) for c in chunks(changes[:sample], size))
        changeset = 0
        for i, c in enumerate(chunks(changes[:sample], size)):
            changeset += changeset_bytes(c, [ch for ch in changes[: i * size] if ch.is_new])
        env = decode_envelope(batches[0])
        overhead = len(env.raw) - len(env.ciphertext)
        levels = []
        pieces = [frame_pieces(c) for c in chunks(entries[:sample], size)]
        for level in (1, 4, 6, 9):
            t0 = time.perf_counter()
            deflated = sum(len(deflate(p, level)) for p in pieces)
            took = (time.perf_counter() - t0) / sample * 1e6
            levels.append(f"{level}: {deflated / sample:.2f} B {took:.2f} us")
        name = "protocol.wire" if size == 5000 else "protocol.wire_500"
        yield {
            "name": name,
            "batch": size,
            "entries": sample,
            "bytes_per_op": round(wire / sample, 2),
            "floor_bytes_per_op": round(floor / sample, 2),
            "changeset_bytes_per_op": round(changeset / sample, 2),
            "ratio_to_floor": round(wire / floor, 3),
            "batch_overhead_bytes": overhead,
            "deflate_levels": "; ".join(levels),
            "suite": "hybrid",
            "recipients": 3,
        }
