# SPDX-License-Identifier: Apache-2.0
"""Issue 13 item 2 (the county's part): merged.db encrypted at rest like node.db.

merged.db holds every card of the county. It is encrypted with SQLCipher under the
county node's database key, which exists only inside the sealed keys/node.key
(county_aggregator/store.py open_merged, node/store/database.py): a copied county data
dir, without the operator's passphrase, shows no name and no ID number; the county's
commands keep working with the passphrase; a plain merged.db of an older version is
encrypted in place the first time a command opens it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from county_aggregator.merge import merge_new
from county_aggregator.store import open_merged
from deploy.cli import cli
from node.errors import StorageError
from node.identity import load_identity
from node.store.database import is_plain
from node.store.store import NodeStore
from tests.county_aggregator.scenario import Villages, county_db
from tests.county_aggregator.test_rules import IDN, two_cards

NAME = "王芳"


@pytest.fixture
def county_dir(villages: Villages, tmp_path: Path) -> Path:
    two_cards(villages)
    store = county_db(tmp_path, villages.entries(), villages.clock)
    store.close()
    return store.data_dir


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["--lang", "en", "county", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def files_of(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def test_a_copied_county_data_dir_reveals_no_personal_data(county_dir: Path) -> None:
    """After a merge, the county's files (merged.db, its WAL, node.db, the keys) hold
    neither the name nor the ID number; with the passphrase (the key file's database
    key) merged.db reads, and under another key it does not open."""
    run("merge", "--data-dir", str(county_dir))
    merged = county_dir / "merged.db"
    raw = files_of(county_dir)
    for secret in (NAME, IDN):
        assert secret.encode() not in raw and secret.encode("utf-16-le") not in raw
    assert not is_plain(merged)
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(merged).execute("SELECT * FROM merged_records").fetchall()
    db = open_merged(merged, key=load_identity(county_dir).db_key)
    try:
        assert db.execute("SELECT COUNT(*) FROM merged_records").fetchone()[0] >= 1
    finally:
        db.close()
    with pytest.raises(StorageError) as refused:
        open_merged(merged, key=bytes(32))
    assert refused.value.code == "store_key"


def test_the_county_commands_work_on_the_encrypted_store(county_dir: Path, tmp_path: Path) -> None:
    """Merge, quality, conflicts and a report all open merged.db with the passphrase
    (RENKOU_PASSPHRASE here, the prompt or the keyring at a desk) as node commands do."""
    d = ["--data-dir", str(county_dir)]
    run("merge", *d)
    run("rebuild", *d)
    assert isinstance(json.loads(run("quality", *d, "--json")), list)
    assert isinstance(json.loads(run("conflicts", "list", *d, "--json")), list)
    out = tmp_path / "月报.csv"
    merged = county_dir / "merged.db"
    run("report", "monthly", "--period", "2026-03", "--format", "csv", "--merged", str(merged),
        "--out", str(out))  # fmt: skip
    assert out.exists()


def test_a_plain_merged_db_is_encrypted_the_first_time_it_is_opened(
    county_dir: Path,
) -> None:
    """A merged.db of a version that kept it plain: a report reads it as it is, and the
    next county command that opens it encrypts it in place, its rows kept."""
    merged = county_dir / "merged.db"
    node = NodeStore.open(county_dir)
    old = open_merged(merged, key=b"")  # as the older version wrote it
    try:
        merge_new(node.db, old)
        counted = old.execute("SELECT COUNT(*) FROM merged_records").fetchone()[0]
    finally:
        old.close()  # the last connection checkpoints its WAL into the file
        node.close()
    assert counted >= 1 and is_plain(merged) and NAME.encode() in merged.read_bytes()
    run("merge", "--data-dir", str(county_dir))
    assert not is_plain(merged)
    assert NAME.encode() not in files_of(county_dir)
    db = open_merged(merged, key=load_identity(county_dir).db_key)
    try:
        assert db.execute("SELECT COUNT(*) FROM merged_records").fetchone()[0] == counted
    finally:
        db.close()
