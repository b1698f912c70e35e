# SPDX-License-Identifier: Apache-2.0
"""Issue 13, item 1: what a township keeps of its villages, and for how long.

A village seals each batch for the county, its township (which reviews its villages'
monthly changes, SPEC.md §6.3.1) and itself. The township used to keep every relayed
envelope for ever, openable with its key: a stolen township PC, with its passphrase, was
the plaintext history of all its villages. Now (SPEC.md §6.3.2) it keeps a batch as it
came only until the county acknowledges it; then it takes its own wrap out of its copy,
which stays, openable only by the county and the village, until it expires (so a county
restored from a backup can still get a revoked village's batch again); then only the
header stays.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.store.database import DB_NAME, connect
from node.store.holdings import Holdings
from node.store.store import NodeStore
from protocol import ProtocolError, decode_envelope, open_envelope
from protocol.envelope import MAX_LIFETIME_MS
from tests.node.sync.faults import copy_node, no_sleep, write
from tests.node.sync.network import County, SimClock, loopback_county

T = "440104001"
VILLAGES = ["440104001002", "440104001003"]
NAME, ID_NUMBER = "欧阳秀英", "440104199001011234"
TOWN_NAME, TOWN_ID_NUMBER = "司马慧敏", "440104198805052468"


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def county(tmp_path: Path, clock: SimClock) -> Iterator[County]:
    with loopback_county(tmp_path, {T: VILLAGES}, clock=clock) as c:
        yield c


def sync(county: County, code: str) -> object:
    return county.client(code, sleep=no_sleep).sync_round()


def readable(county: County) -> list[list[str]]:
    """What the township can open of what it keeps, with its own key (a thief who has
    its PC and its operator's passphrase): the names in each batch it opens."""
    town = county.towns[T].store
    kem = town.identity.kem
    opened = []
    for (raw,) in town.db.execute("SELECT raw FROM inbound").fetchall():
        try:
            entries = open_envelope(decode_envelope(bytes(raw)), {kem.public_key.key_id: kem})
        except ProtocolError:
            continue
        opened.append([e.payload.decode() for e in entries if e.payload])
    return opened


def data_dir_bytes(county: County, code: str) -> bytes:
    served = county.towns[code]
    served.stop()
    served.store.close()  # the last connection checkpoints the WAL into node.db
    return b"".join(p.read_bytes() for p in served.store.data_dir.rglob("*") if p.is_file())


def write_person(store: NodeStore, name: str, id_number: str) -> None:
    rid = store.new_id("person")
    store.write([store.upsert_op("person", rid, {"name": name, "id_number": id_number})])


def test_a_township_can_read_a_batch_only_until_the_county_confirms_it(county: County) -> None:
    """Both villages sync to the township: it can open their batches (it reviews them).
    Once it has forwarded them and the county acknowledged, it opens none of what it
    keeps, though it still keeps each copy (sealed for the county and the village) and
    its header, for the fork checks."""
    for code in VILLAGES:
        write(county.villages[code], 5, tag=code)
        sync(county, code)
    assert len(readable(county)) == 2  # one batch per village, both open for the township
    assert county.client(T, sleep=no_sleep).sync_round().forwarded_envelopes == 2
    assert readable(county) == []
    town = county.towns[T].store
    county_kem = county.county.store.identity.kem
    holdings = Holdings(town.db)
    for code in VILLAGES:
        log = county.villages[code].changelog.log
        ((raw,),) = town.db.execute("SELECT raw FROM inbound WHERE log = ?", [str(log)])
        entries = open_envelope(
            decode_envelope(bytes(raw)), {county_kem.public_key.key_id: county_kem}
        )
        assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]  # the county still can
        assert holdings.held_header(log, 6) is not None


def test_what_the_township_took_out_is_not_left_in_its_wal(county: County) -> None:
    """The round that takes the township's wraps out empties the WAL into the database
    file (where secure_delete zeroes the freed pages): the old frames, which held the
    batches with the wraps, are gone from the disk too."""
    write(county.villages[VILLAGES[0]], 3)
    sync(county, VILLAGES[0])
    wal = county.towns[T].store.data_dir / (DB_NAME + "-wal")
    assert wal.stat().st_size > 0  # the batch as it came, in the WAL's frames
    assert county.client(T, sleep=no_sleep).sync_round().unwrapped == 1
    assert wal.stat().st_size == 0


def test_a_batch_the_county_has_not_confirmed_is_readable_until_it_does(county: County) -> None:
    """The window: what the township has not yet forwarded (or the county not yet
    acknowledged) stays readable until its next round."""
    code = VILLAGES[0]
    write(county.villages[code], 2)
    sync(county, code)
    sync(county, T)
    write(county.villages[code], 1, tag="later")
    sync(county, code)
    (later,) = readable(county)
    assert any("人later0" in p for p in later)
    sync(county, T)
    assert readable(county) == []


def test_an_expired_copy_keeps_only_its_header(county: County, clock: SimClock) -> None:
    """Past its expiry a copy is never handed on (SPEC §6.5): the township cuts it to
    its hop fields, batch header and origin signature."""
    code = VILLAGES[0]
    village = county.villages[code]
    write(village, 3)
    sync(county, code)
    sync(county, T)
    clock.advance(MAX_LIFETIME_MS + 1)
    sync(county, T)
    town = county.towns[T].store
    ((raw, cut),) = town.db.execute("SELECT raw, cut_at FROM inbound").fetchall()
    assert cut is not None and len(bytes(raw)) < 65 + 128 + 2 + 5000
    with pytest.raises(ProtocolError):
        decode_envelope(bytes(raw))
    assert Holdings(town.db).held_header(village.changelog.log, 4) is not None


def test_a_stolen_township_pc_reveals_no_personal_data(county: County) -> None:
    """A township's files, taken without its operator's passphrase: a name and an ID
    number a village wrote and sent through it, and those of a woman the township
    office recorded itself, appear nowhere in them (the store is encrypted, the batch is
    sealed, SPEC §6.3.2). With the passphrase, what the county confirmed does not open
    either (the tests above)."""
    code = VILLAGES[0]
    write_person(county.villages[code], NAME, ID_NUMBER)
    write_person(county.towns[T].store, TOWN_NAME, TOWN_ID_NUMBER)
    sync(county, code)
    (held,) = readable(county)
    assert any(NAME in p and ID_NUMBER in p for p in held)  # it went through the township
    sync(county, T)
    files = data_dir_bytes(county, T)
    for secret in (NAME, ID_NUMBER, TOWN_NAME, TOWN_ID_NUMBER):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be", "gb18030"):
            assert secret.encode(encoding) not in files, (secret, encoding)


def test_deleted_bytes_are_zeroed_in_the_file(store: NodeStore) -> None:
    """SQLite's secure_delete is on for every node connection: a wrap taken out, an
    erased payload, leaves no free page with the old bytes for whoever has the key."""
    assert store.db.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_a_county_restored_from_an_old_backup_gets_the_batches_again_from_the_township(
    county: County, tmp_path: Path
) -> None:
    """The township took its wrap out of what the county acknowledged, but kept the
    copies: the county goes back to a copy from before it held them, and the township
    hands them up again (a revoked village could not; tests/sim/test_regressions.py
    seed 1168)."""
    code = VILLAGES[0]
    village = county.villages[code]
    county_store = county.county.store
    backup = copy_node(county_store, tmp_path / "county-backup")
    write(village, 4, tag="a")
    sync(county, code)
    sync(county, T)
    assert readable(county) == []
    for name in (DB_NAME + "-wal", DB_NAME + "-shm"):  # what a restore by copying does
        (county_store.data_dir / name).unlink(missing_ok=True)
    os.replace(backup / DB_NAME, county_store.data_dir / DB_NAME)
    sync(county, T)
    with connect(county_store.data_dir / DB_NAME, county_store.identity.db_key) as conn:
        held = conn.execute(
            "SELECT MAX(seq) FROM received_entries WHERE log = ?", [str(village.changelog.log)]
        ).fetchone()[0]
    assert held == village.changelog.head_seq
