# SPDX-License-Identifier: Apache-2.0
"""Issue 13, fact 8 (keys at rest): node.key held plaintext seeds and a data dir copied
to another PC synced as the village. The key file is now sealed under the operator's
passphrase (Argon2id) or this PC's keyring, a service gets it from a systemd
credential, a key file others may read is refused, and a clone that has the passphrase
is caught as a fork with a message that says what happened.

The suite runs unattended with the passphrase in RENKOU_PASSPHRASE (tests/conftest.py);
these tests take it away where they play the thief."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.store.store import NodeStore
from node.sync.client import SyncClient, SyncFailed
from protocol import NodeId
from tests.node.sync.network import County, loopback_county

V1 = "440104001002"
TEST_PASSPHRASE = "test passphrase of the suite"  # tests/conftest.py
T1 = V1[:9]


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T1: [V1]}) as c:
        for code in (V1, T1, V1):
            c.client(code).sync_round()
        yield c


def forget_opened_keys() -> None:
    """Drop the file keys this process holds (node/keys/unlock.py), as a new process."""
    loaded = sys.modules.get("node.keys.unlock")
    if loaded is not None:
        loaded.forget()


@pytest.fixture
def thief(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No passphrase anywhere, and no file key left in this process's memory."""
    monkeypatch.delenv("RENKOU_PASSPHRASE", raising=False)
    forget_opened_keys()
    yield
    forget_opened_keys()


def write(store: NodeStore, name: str) -> None:
    with store.bulk():
        rid = store.new_id("person")
        store.write([store.upsert_op("person", rid, {"name": name})])


def test_the_key_file_holds_no_seed(tmp_path: Path) -> None:
    store = NodeStore.init(tmp_path / "v", NodeId.for_code(V1), "村")
    text = (tmp_path / "v" / "keys" / "node.key").read_text()
    store.close()
    for seed in (store.identity.signing.seed, store.identity.kem.seed):
        assert seed.hex() not in text
    assert '"kind": "passphrase"' in text and '"kdf": "argon2id"' in text


def test_a_data_dir_copied_to_another_pc_does_not_sync_as_the_village(
    county: County, tmp_path: Path, thief: None
) -> None:
    stolen = tmp_path / "stolen"
    shutil.copytree(county.villages[V1].data_dir, stolen)
    town = county.towns[T1].store
    before = town.db.execute("SELECT COUNT(*) FROM received_entries").fetchone()
    result = CliRunner().invoke(
        cli,
        ["node", "sync", "--data-dir", str(stolen), "--parent-url", county.towns[T1].url],
    )
    assert result.exit_code != 0
    assert "locked" in result.output and "需要口令" in result.output
    assert town.db.execute("SELECT COUNT(*) FROM received_entries").fetchone() == before


def test_a_wrong_passphrase_is_refused_naming_where_it_came_from(
    county: County, thief: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENKOU_PASSPHRASE", "not the passphrase")
    result = CliRunner().invoke(
        cli, ["node", "status", "--data-dir", str(county.villages[V1].data_dir)]
    )
    assert result.exit_code == 1
    assert "wrong_passphrase" in result.output and "RENKOU_PASSPHRASE" in result.output


def test_a_service_gets_the_passphrase_from_its_systemd_credential(
    county: County, thief: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "renkou-passphrase").write_text(TEST_PASSPHRASE + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    store = NodeStore.open(county.villages[V1].data_dir)
    try:
        assert store.node == NodeId.for_code(V1)
    finally:
        store.close()


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o606])
def test_a_key_file_others_may_read_is_refused(county: County, loose: int) -> None:
    path = county.villages[V1].data_dir / "keys" / "node.key"
    os.chmod(path, loose)
    result = CliRunner().invoke(
        cli, ["node", "status", "--data-dir", str(county.villages[V1].data_dir)]
    )
    assert result.exit_code == 1 and "key_file_mode" in result.output
    assert "chmod go-rwx" in result.output


def test_a_root_key_file_with_loose_permissions_is_refused(county: County) -> None:
    """Issue 14, bad input: a root (or issuing) key file with loose permissions."""
    from node.admin import CountyAdmin
    from node.errors import StorageError
    from node.keys.offline_root import OfflineRoot

    root_dir = county.admin.directory / "offline-root"
    os.chmod(root_dir / "root.key", 0o644)
    with pytest.raises(StorageError) as refused:
        OfflineRoot.open(root_dir)
    assert refused.value.code == "key_file_mode"
    os.chmod(county.admin.directory / "issuing.key", 0o640)
    with pytest.raises(StorageError) as refused:
        CountyAdmin.open(county.admin.directory)
    assert refused.value.code == "key_file_mode"


def test_a_wrong_root_passphrase_changes_nothing(
    county: County, thief: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14, bad input: a wrong passphrase (no partial state)."""
    admin = county.admin.directory
    before = {p.name: p.read_bytes() for p in admin.iterdir() if p.is_file()}
    monkeypatch.setenv("RENKOU_PASSPHRASE", "not the passphrase")
    result = CliRunner().invoke(
        cli,
        ["keys", "revoke", "--code", V1, "--reason", "lost", "--admin-dir", str(admin)],
    )
    assert result.exit_code == 1 and "wrong_passphrase" in result.output
    assert before == {p.name: p.read_bytes() for p in admin.iterdir() if p.is_file()}


def test_the_passphrase_can_come_from_stdin(county: County, thief: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            *("keys", "revoke", "--passphrase-stdin", "--code", V1, "--reason", "lost"),
            *("--admin-dir", str(county.admin.directory)),
        ],
        input=TEST_PASSPHRASE + "\n",
    )
    assert result.exit_code == 0, result.output
    assert TEST_PASSPHRASE not in result.output


class MemoryKeyring:
    """A keyring backend of this process only (keyring's own backend API), standing in
    for Windows Credential Manager or the macOS keychain."""

    priority = 10

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, user: str, password: str) -> None:
        self.items[(service, user)] = password

    def get_password(self, service: str, user: str) -> str | None:
        return self.items.get((service, user))

    def delete_password(self, service: str, user: str) -> None:
        self.items.pop((service, user), None)


def test_the_os_keyring_opens_the_key_file_on_this_pc_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node.keys import os_keyring

    ring = MemoryKeyring()
    monkeypatch.setattr(os_keyring, "_backend", lambda: ring)
    store = NodeStore.init(tmp_path / "v", NodeId.for_code(V1), "村")
    store.close()
    assert len(ring.items) == 1
    monkeypatch.delenv("RENKOU_PASSPHRASE")
    forget_opened_keys()
    NodeStore.open(tmp_path / "v").close()  # this PC: the keyring opens it
    forget_opened_keys()
    elsewhere: Any = MemoryKeyring()  # another PC: its keyring holds nothing of ours
    monkeypatch.setattr(os_keyring, "_backend", lambda: elsewhere)
    with pytest.raises(Exception) as refused:
        NodeStore.open(tmp_path / "v")
    assert getattr(refused.value, "code", "") == "locked"


def test_a_cloned_pc_is_caught_as_a_fork_and_told_so(county: County, tmp_path: Path) -> None:
    """The thief who also has the passphrase: the clone's first sync forks the log."""
    clone_dir = tmp_path / "clone"
    shutil.copytree(county.villages[V1].data_dir, clone_dir)
    write(county.villages[V1], "原机")
    county.client(V1).sync_round()
    clone = NodeStore.open(clone_dir)
    try:
        write(clone, "克隆机")
        with pytest.raises(SyncFailed) as refused:
            SyncClient(clone, county.towns[T1].url).sync_round()
    finally:
        clone.close()
    assert refused.value.code == "fork"
    assert "复制" in refused.value.zh and "copied" in str(refused.value)
