# SPDX-License-Identifier: Apache-2.0
"""The node store: one transaction per write, tables rebuildable from the log, no half writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.errors import StorageError
from node.store.store import NodeStore
from protocol import NodeId, Retire

VILLAGE = NodeId.for_code("440104001002")
ROOT = Path(__file__).parents[3]


def test_init_writes_epoch_start(store: NodeStore) -> None:
    """design.md: a new epoch starts at install; its first entry says so."""
    assert store.changelog.head_seq == 1
    assert store.verify_log() == 1


def test_init_twice_refused(store: NodeStore) -> None:
    with pytest.raises(StorageError) as exc:
        NodeStore.init(store.data_dir, VILLAGE, "x")
    assert exc.value.code == "store_exists"


def test_the_node_data_is_private_to_its_user(tmp_path: Path) -> None:
    """The database of people's cards and its WAL: 0600 in a 0700 directory, even when
    the installer made the directory 0755 beforehand."""
    data_dir = tmp_path / "v"
    data_dir.mkdir(mode=0o755)
    opened = NodeStore.init(data_dir, VILLAGE, "测试村")
    try:
        assert data_dir.stat().st_mode & 0o777 == 0o700
        for name in ("node.db", "node.db-wal"):
            assert (data_dir / name).stat().st_mode & 0o777 == 0o600, name
        assert (data_dir / "keys").stat().st_mode & 0o777 == 0o700
    finally:
        opened.close()


def test_text_is_written_in_nfc(store: NodeStore) -> None:
    """U+F900 (a compatibility ideograph an input method may type) is stored as U+8C48;
    the canonical form of the protocol admits NFC only, so this is where it must happen."""
    rid = store.new_id("person")
    store.write([store.upsert_op("person", rid, {"name": "\uf900芳", "tags": ["\uf900"]})])
    data = store.db.execute("SELECT data FROM records WHERE id = ?", [rid]).fetchone()[0]
    assert "\u8c48芳" in data and "\uf900" not in data
    assert store.rebuild_hash() == store.records_hash()


def test_open_missing_store(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as exc:
        NodeStore.open(tmp_path / "nothing")
    assert exc.value.code == "store_missing"
    assert "renkou node init" in exc.value.en


ops_strategy = st.lists(
    st.tuples(
        st.sampled_from(["upsert", "upsert", "upsert", "retire"]),
        st.integers(0, 7),
        st.dictionaries(
            st.sampled_from(["name", "phone", "status", "n"]),
            st.one_of(st.text(max_size=8), st.integers(-5, 5), st.none()),
            min_size=1,
            max_size=3,
        ),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(ops_strategy)
def test_tables_are_a_view_of_the_log(tmp_path_factory: pytest.TempPathFactory, script) -> None:  # type: ignore[no-untyped-def]
    """Issue 3: no code path writes a row without its log entry: rebuild equals live."""
    store = NodeStore.init(tmp_path_factory.mktemp("v") / "v", VILLAGE, "测试村")
    ids: list[str] = []
    for action, pick, fields in script:
        if action == "retire" and ids:
            rid = ids[pick % len(ids)]
            store.write([store.retire_op("person", rid, "entered_in_error")])
        elif pick < len(ids):
            store.write([store.upsert_op("person", ids[pick], fields)])
        else:
            rid = store.new_id("person")
            ids.append(rid)
            store.write([store.upsert_op("person", rid, fields)])
    assert store.records_hash() == store.rebuild_hash()
    assert store.verify_log() == store.changelog.head_seq
    store.close()


def test_base_versions_name_the_version_seen(store: NodeStore) -> None:
    """design.md: each field carries the version the writer saw (0 when new)."""
    rid = store.new_id("person")
    first = store.write([store.upsert_op("person", rid, {"name": "甲"})])
    op = store.upsert_op("person", rid, {"name": "乙", "phone": "1"})
    assert op.fields == {"name": ("乙", first.seq), "phone": ("1", 0)}


def test_retention_retire_erases_fields(store: NodeStore) -> None:
    """Issue 3: deletion at the end of retention is a signed retire entry, not a DELETE."""
    rid = store.new_id("person")
    store.write([store.upsert_op("person", rid, {"name": "甲"})])
    entry = store.write([store.retire_op("person", rid, "retention")])
    assert store.record("person", rid) == {"_retired": "retention"}
    assert entry.seq == store.changelog.head_seq
    assert store.records_hash() == store.rebuild_hash()


def test_retire_unknown_record(store: NodeStore) -> None:
    with pytest.raises(Exception) as exc:
        store.retire_op("person", "P999", "x")
    assert "P999" in str(exc.value)
    assert isinstance(store.retire_op, object) and Retire


def test_disk_full_leaves_nothing_half_written(store: NodeStore) -> None:
    """Issue 3: disk full gives a clear error and no corruption."""
    rid = store.new_id("person")
    store.write([store.upsert_op("person", rid, {"name": "甲"})])
    before = (store.records_hash(), store.changelog.head_seq)
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageError) as exc:
        for i in range(200):
            store.write([store.upsert_op("person", rid, {"name": "乙" * 2000, "n": i})])
    assert exc.value.code == "disk_full"
    assert "磁盘已满" in exc.value.zh
    store.db.execute(f"PRAGMA max_page_count = {pages * 100}")
    assert store.records_hash() == store.rebuild_hash()
    assert store.verify_log() == store.changelog.head_seq >= before[1]
    store.write([store.upsert_op("person", rid, {"name": "丙"})])
    assert store.verify_log() == store.changelog.head_seq


def test_read_only_database(store: NodeStore) -> None:
    """Issue 3: a read-only database gives a clear error, nothing written."""
    before = store.changelog.head_seq
    store.db.execute("PRAGMA query_only = ON")
    with pytest.raises(StorageError) as exc:
        store.write([store.upsert_op("person", "P1", {"name": "甲"})])
    assert exc.value.code == "read_only"
    store.db.execute("PRAGMA query_only = OFF")
    assert store.changelog.head_seq == before == store.verify_log()


def test_reads_are_audited(store: NodeStore) -> None:
    """domain.md 5: every read of a person's card is audited."""
    rid = store.new_id("person")
    store.write([store.upsert_op("person", rid, {"name": "甲"})])
    store.read("person", rid, actor="officer-1", purpose="follow-up visit")
    rows = store.db.execute("SELECT actor, action, record_id, purpose FROM audit").fetchall()
    assert rows == [("officer-1", "read", rid, "follow-up visit")]


def _crash_round(data_dir: Path, rng: random.Random) -> set[int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.node.store.crash_writer", str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    acked: set[int] = set()
    deadline = time.monotonic() + rng.uniform(0.3, 1.2)
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked.add(int(line.split()[1]))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return acked


@pytest.mark.parametrize("rounds", [4])
def test_power_cut_loop(tmp_path: Path, rounds: int) -> None:
    """Issue 3: kill -9 the writer mid-write; store and log stay consistent, acks survive."""
    store = NodeStore.init(tmp_path / "v", VILLAGE, "测试村")
    store.close()
    rng = random.Random(3)
    all_acked: set[int] = set()
    for _ in range(rounds):
        all_acked |= _crash_round(tmp_path / "v", rng)
        store = NodeStore.open(tmp_path / "v")
        head = store.verify_log()
        assert all_acked and max(all_acked) <= head
        assert store.records_hash() == store.rebuild_hash()
        store.close()
