# SPDX-License-Identifier: Apache-2.0
"""Advisories travel down and are applied (issue 5, item 4), over real HTTP on loopback.

Two villages of two townships keep cards of one floating woman and both change her
phone without seeing each other's change: the county queues a conflict. The county
resolves it; the advisory travels county -> township -> village sealed for the village
alone; the village records the chosen value as its own change; once that change is
merged, the conflict is settled.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from county_aggregator.advised import pending_advisories
from county_aggregator.advisories import issue_pending, issued_to
from county_aggregator.conflicts import list_conflicts, resolve, show
from county_aggregator.merge import merge_new
from county_aggregator.store import init_merged
from node.advisories import counts
from node.store.store import NodeStore
from node.sync.status import status_lines
from protocol import (
    OutboxItem,
    UnknownRecipientError,
    address,
    decode_envelope,
    open_envelope,
    seal_batch,
    sign_batch,
)
from tests.county_aggregator.scenario import card, id_number
from tests.node.sync.network import County, loopback_county

H, R = "440104001002", "440104002001"
T1, T2 = H[:9], R[:9]
BIRTH = "1990-03-04"
IDN = id_number(BIRTH, 7)


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T1: [H], T2: [R]}) as c:
        yield c


@dataclass
class Conflict:
    merged: Database
    id: str
    chosen: Any  # the value of side a
    village: str  # the node on side b, which the advisory goes to
    record: str  # its record id there


def write(store: NodeStore, rid: str, fields: dict[str, object]) -> None:
    store.write([store.upsert_op("person", rid, fields)])


def run(county: County, *codes: str) -> list[str]:
    notes: list[str] = []
    for code in codes:
        notes += county.client(code).sync_round().notes
    return notes


def merge(county: County, merged: Database) -> None:
    merge_new(county.county.store.db, merged)


def phone_conflict(county: County) -> Conflict:
    """Both villages think themselves authoritative on her phone and change it."""
    h, r = county.villages[H], county.villages[R]
    write(h, "P1", card(IDN, "王芳", BIRTH, H, H, hukou_address="上村1号"))
    write(r, "P7", card(IDN, "王芳", BIRTH, H, R, residence_address="下村9号"))
    write(h, "P1", {"phone": "13700000000"})
    write(r, "P7", {"phone": "13600000000"})
    run(county, H, R, T1, T2)
    merged = init_merged(Database(memory=True))
    merge(county, merged)
    item = next(i for i in list_conflicts(merged) if "phone" in i["fields"])
    detail = show(merged, item["id"])
    chosen = next(f["a"] for f in detail["fields"] if f["field"] == "phone")
    return Conflict(merged, item["id"], chosen, detail["b"]["origin"], detail["b"]["record"])


def outbox(store: NodeStore, child: str) -> list[bytes]:
    rows = store.db.execute("SELECT raw FROM outbox WHERE child = ? ORDER BY n", [child])
    return [bytes(r[0]) for r in rows]


def test_advisory_reaches_the_node_is_applied_once_and_settles(
    county: County, english: None
) -> None:
    c = phone_conflict(county)
    village, town = county.villages[c.village], c.village[:9]
    county_store = county.county.store
    before = len(outbox(county_store, f"township:{town}"))

    entry = resolve(c.merged, county_store, c.id, "a")
    assert show(c.merged, c.id)["status"] == "advised"
    assert issued_to(county_store.db, str(entry.log), entry.seq) == [f"township:{town}"]
    assert len(outbox(county_store, f"township:{town}")) == before + 1
    # Re-resolving the same way, or re-running the issue step, sends nothing twice.
    assert resolve(c.merged, county_store, c.id, "a").seq == entry.seq
    assert issue_pending(c.merged, county_store, 0).sent == 0
    assert len(outbox(county_store, f"township:{town}")) == before + 1

    # The township passes it on unopened, and could not open it.
    notes = run(county, town)
    assert any("passed the county's advisory" in n for n in notes)
    (item,) = [
        r
        for r in outbox(county.towns[town].store, f"village:{c.village}")
        if OutboxItem(1, r).is_envelope
    ]
    env = decode_envelope(item)
    town_kem = county.towns[town].store.identity.kem
    with pytest.raises(UnknownRecipientError):
        open_envelope(env, {town_kem.public_key.key_id: town_kem})
    assert len(env.wraps) == 1  # sealed for the advised village alone

    # The village records the chosen value as its own change, audited.
    head = village.changelog.head_seq
    notes = run(county, c.village)
    assert any("applied the county's advisory" in n for n in notes), notes
    assert village.changelog.head_seq == head + 1
    assert village.record("person", c.record)["phone"] == c.chosen
    assert counts(village.db) == {"received": 1, "applied": 1, "refused": 0}
    assert any("1 applied" in line for line in status_lines(village.db, village.data_dir))
    audit = village.db.execute("SELECT action, record_id FROM audit").fetchall()
    assert ("apply_advisory", c.record) in audit

    # Delivered again (sent anew, as after a township lost its copy): taken once.
    assert issue_pending(c.merged, county_store, county_store.clock(), again=True).sent == 1
    notes = run(county, town, c.village)  # the village's sync also pushes its change
    assert any("was taken before" in n for n in notes), notes
    assert village.changelog.head_seq == head + 1
    assert counts(village.db)["applied"] == 1

    # The township forwards the change; the county's merge then settles the item.
    run(county, town)
    merge(county, c.merged)
    assert show(c.merged, c.id)["status"] == "settled"
    assert not pending_advisories(c.merged)


def test_an_advisory_on_a_retired_record_is_refused_and_shown(
    county: County, english: None
) -> None:
    c = phone_conflict(county)
    village, town = county.villages[c.village], c.village[:9]
    village.write([village.retire_op("person", c.record, "moved_out")])
    resolve(c.merged, county.county.store, c.id, "a")
    head = village.changelog.head_seq
    notes = run(county, town, c.village)
    assert any("refused the county's advisory" in n and "retired" in n for n in notes), notes
    assert village.changelog.head_seq == head  # nothing written
    assert counts(village.db) == {"received": 1, "applied": 0, "refused": 1}
    lines = status_lines(village.db, village.data_dir)
    assert any(line.startswith("advisory refused:") and "retired" in line for line in lines)
    assert not any(str(c.chosen) in line for line in lines)  # no personal data shown


def test_an_advisory_that_fails_validation_writes_nothing(county: County) -> None:
    c = phone_conflict(county)
    county_store = county.county.store
    # An advisory whose value the village's rules refuse (a phone of letters).
    from protocol import Note

    body = {
        "conflict": c.id,
        "kind": "person",
        "key": f"idn:{IDN}",
        "field": "phone",
        "value": "not a phone",
        "for_node": f"village:{c.village}",
        "record": c.record,
    }
    entry = county_store.write([Note("advisory", body)])
    merge(county, c.merged)
    assert issue_pending(c.merged, county_store, county_store.clock()).sent == 1
    village = county.villages[c.village]
    head = village.changelog.head_seq
    notes = run(county, c.village[:9], c.village)
    assert any("refused" in n and "invalid" in n for n in notes), notes
    assert village.changelog.head_seq == head
    row = village.db.execute(
        "SELECT outcome, code FROM advisories_taken WHERE seq = ?", [entry.seq]
    ).fetchone()
    assert row == ("refused", "invalid")


def test_forged_and_tampered_advisories_are_ignored_with_a_note(county: County) -> None:
    c = phone_conflict(county)
    county_store, town = county.county.store, c.village[:9]
    entry = resolve(c.merged, county_store, c.id, "a")
    # Tamper with the real item in the county's outbox (one byte of ciphertext).
    n, raw = county_store.db.execute(
        "SELECT n, raw FROM outbox WHERE child = ? ORDER BY n DESC LIMIT 1", [f"township:{town}"]
    ).fetchone()
    bad = bytearray(raw)
    bad[len(bad) // 2] ^= 0x01
    county_store.db.execute(
        "UPDATE outbox SET raw = ? WHERE child = ? AND n = ?",
        [bytes(bad), f"township:{town}", n],
    )
    county_store.db.conn.commit()
    notes = run(county, town)
    assert any("does not verify" in n for n in notes), notes
    passed = outbox(county.towns[town].store, f"village:{c.village}")
    assert not [r for r in passed if OutboxItem(1, r).is_envelope]  # not passed down

    # The township forges one of its own: the county's entry, signed with its key.
    t_store = county.towns[town].store
    village = county.villages[c.village]
    header, sig = sign_batch([entry], t_store.identity.signing, 1, sent_ms=1, expires_ms=2)
    sealed = seal_batch([entry], header, sig, [village.identity.kem.public_key])
    forged = address(sealed, t_store.identity.signing, county_store.node, village.node, 1, 2)
    with t_store.db.atomic():
        from node.store.outbox import Outbox

        Outbox(t_store.db).add(str(village.node), forged)
    head = village.changelog.head_seq
    notes = run(county, c.village)
    assert any("does not verify" in n for n in notes), notes
    assert village.changelog.head_seq == head
    assert counts(village.db)["received"] == 0
