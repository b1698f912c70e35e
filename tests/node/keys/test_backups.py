# SPDX-License-Identifier: Apache-2.0
"""Issue 13, fact 3: a backup on a USB stick was plain SQLite, and an entry appended on
the stick restored silently, was pushed upstream under the village's signature and
merged by the county. A backup is now sealed for the node and the county's escrow key
and carries the node's signed checkpoint of its log head (node/keys/backup_file.py)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from node.errors import StorageError
from node.keys import backup_file
from node.store.backup import backup, export_database, restore
from node.store.database import connect
from node.store.store import NodeStore
from protocol import NodeId, SigningKey
from tests.node.sync.network import County, loopback_county

V1, T1 = "440104001002", "440104001"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {T1: [V1]}) as c:
        yield c


def add_people(store: NodeStore, *names: str) -> None:
    for name in names:
        rid = store.new_id("person")
        store.write([store.upsert_op("person", rid, {"name": name})])


def plain_copy_with_an_entry_appended(store: NodeStore, tmp_path: Path) -> Path:
    """What a thief can make without the node's keys: a copy of the node's database with
    one more entry, chained by hash exactly as the node would (entries are hashed, and
    signed only per batch when they are sent)."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "keys").symlink_to(store.data_dir / "keys")
    with closing(connect(scratch / "node.db", store.identity.db_key)) as dest:
        store.db.conn.backup(dest)
    forged = NodeStore.open(scratch)
    add_people(forged, "凭空多出的人")
    forged.close()
    stick = tmp_path / "stick.db"
    export_database(scratch / "node.db", store.identity.db_key, stick, b"")
    return stick


def test_an_entry_appended_on_the_stick_is_refused(county: County, tmp_path: Path) -> None:
    village = county.villages[V1]
    add_people(village, "甲", "乙")
    backup(village, tmp_path / "real.db")
    stick = plain_copy_with_an_entry_appended(village, tmp_path)
    data_dir, head = village.data_dir, village.changelog.head_seq
    village.close()
    with pytest.raises(StorageError) as refused:
        restore(data_dir, stick)
    assert refused.value.code == "backup_unsealed"
    assert "nothing was changed" in refused.value.en and "未做任何更改" in refused.value.zh
    county.villages[V1] = again = NodeStore.open(data_dir)
    assert (again.changelog.log.epoch, again.changelog.head_seq) == (1, head)


def test_a_sealed_backup_changed_on_the_stick_is_refused(store: NodeStore, tmp_path: Path) -> None:
    """The thief re-seals a changed database for the node's public key (anyone can: the
    key is in its certificate) under the node's own checkpoint, or under one he signed:
    neither restores."""
    add_people(store, "甲")
    backup(store, tmp_path / "b.db")
    raw = (tmp_path / "b.db").read_bytes()
    database, checkpoint = backup_file.open_backup(
        raw, store.identity.kem, store.identity.signing.verify_key
    )
    own = [store.identity.kem.public_key]
    changed = database.replace(b"\xe7\x94\xb2", b"\xe4\xb9\x99")  # 甲 -> 乙
    assert changed != database
    resealed = backup_file.seal_backup(changed, checkpoint.signed.raw, own)
    thief = SigningKey.generate(store.identity.suite)
    body = {k: v for k, v in checkpoint.signed.body.items() if k not in ("v", "type")}
    body["database"] = hashlib.sha256(changed).hexdigest()
    forged = backup_file.seal_backup(changed, backup_file.sign_checkpoint(thief, body), own)
    flipped = bytearray(raw)
    flipped[-20] ^= 1
    data_dir = store.data_dir
    store.close()
    for bad, code in (
        (resealed, "backup_tampered"),
        (forged, "backup_tampered"),
        (bytes(flipped), "backup_invalid"),
    ):
        (tmp_path / "bad.db").write_bytes(bad)
        with pytest.raises(StorageError) as refused:
            restore(data_dir, tmp_path / "bad.db")
        assert refused.value.code == code
    assert not (data_dir / "restoring").exists()


def test_a_backup_reads_as_nothing_and_the_county_can_open_it(
    county: County, tmp_path: Path
) -> None:
    village = county.villages[V1]
    add_people(village, "王秀英")
    backup(village, tmp_path / "b.db")
    raw = (tmp_path / "b.db").read_bytes()
    assert "王秀英".encode() not in raw and b"SQLite format" not in raw
    county_kem = county.county.store.identity.kem  # the escrow key: a dead PC's way back
    database, checkpoint = backup_file.open_backup(
        raw, county_kem, village.identity.signing.verify_key
    )
    assert "王秀英".encode() in database
    assert (checkpoint.node, checkpoint.seq) == (f"village:{V1}", village.changelog.head_seq)


def test_a_backup_of_another_node_is_refused_as_such(tmp_path: Path) -> None:
    mine = NodeStore.init(tmp_path / "a", NodeId.for_code(V1), "村")
    other = NodeStore.init(tmp_path / "b", NodeId.for_code("440104001003"), "别村")
    backup(other, tmp_path / "other.db")
    other.close()
    mine.close()
    shutil.rmtree(tmp_path / "b")
    with pytest.raises(StorageError) as refused:
        restore(tmp_path / "a", tmp_path / "other.db")
    assert refused.value.code == "backup_other_node"
