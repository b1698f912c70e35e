# SPDX-License-Identifier: Apache-2.0
"""Torn writes, enumerated: the writer process dies before each SQL statement in turn.

The power-cut loop (test_store.py) kills a writer at random wall-clock moments, so
whether it lands between two statements of one write is luck: splitting an entry and
its record into two transactions was caught in 3 runs of 8. Here a forked child opens
the store, counts every statement SQLite begins (``set_trace_callback``) and calls
``os._exit`` just before statement *k*: no rollback, no cleanup, exactly what a killed
process leaves. *k* runs over every statement of the write, so each gap between two
statements is a crash point, every time. Reopened, the store must verify, its records
must equal a replay of its log, and the write must be there entirely or not at all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from node.store.store import NodeStore
from protocol import NodeId

VILLAGE = NodeId.for_code("440104001002")
KILLED = 77  # the child's exit status when it died on purpose

Write = Callable[[NodeStore], None]


def _new_card(store: NodeStore) -> None:
    rid = store.new_id("person")
    store.write([store.upsert_op("person", rid, {"name": "甲", "n": 1})])


def _update(store: NodeStore) -> None:
    store.write([store.upsert_op("person", "P1", {"name": "乙", "phone": "1"})])


def _retire(store: NodeStore) -> None:
    store.write([store.retire_op("person", "P1", "moved")])


def _two_ops(store: NodeStore) -> None:
    rid = store.new_id("person")
    store.write(
        [
            store.upsert_op("person", rid, {"name": "丙"}),
            store.upsert_op("person", "P1", {"marital_status": "married"}),
        ]
    )


def _bulk(store: NodeStore) -> None:
    with store.bulk():
        for i in range(3):
            store.write([store.upsert_op("person", "P1", {"n": i})])


def _new_epoch(store: NodeStore) -> None:
    store.start_epoch("restore")


WRITES: dict[str, Write] = {
    "new_card": _new_card,
    "update": _update,
    "retire": _retire,
    "two_ops": _two_ops,
    "bulk": _bulk,
    "new_epoch": _new_epoch,
}


@dataclass(frozen=True)
class State:
    epoch: int
    head: int
    records: str


def _state(data_dir: Path) -> State:
    """Open the store as a restarted process would; it must verify and replay."""
    store = NodeStore.open(data_dir)
    try:
        head = store.verify_log()
        records = store.records_hash()
        assert records == store.rebuild_hash(), "records differ from a replay of the log"
        return State(store.changelog.log.epoch, head, records)
    finally:
        store.close()


def _run_child(data_dir: Path, write: Write, kill_at: int | None) -> tuple[int, list[str]]:
    """Fork; the child writes and dies just before statement ``kill_at`` (1-based).

    Returns the child's exit status and the statements it began."""
    read, send = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(read)
            store = NodeStore.open(data_dir)
            seen: list[str] = []

            def trace(sql: str) -> None:
                seen.append(" ".join(sql.split())[:120])
                if len(seen) == kill_at:
                    os.write(send, "\n".join(seen).encode())
                    os._exit(KILLED)

            store.db.conn.set_trace_callback(trace)
            write(store)
            store.db.conn.set_trace_callback(None)
            os.write(send, "\n".join(seen).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(send)
    with os.fdopen(read, "rb") as pipe:
        statements = pipe.read().decode().splitlines()
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status), statements


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """On tmpfs when there is one: every commit is an fsync (synchronous=FULL), which
    tmpfs makes free; what a killed process leaves behind is the same."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(prefix="renkou-torn-", dir=shm) as d:
            yield Path(d)
    else:
        yield tmp_path


@pytest.fixture
def template(scratch: Path) -> Path:
    """A village store with two cards, closed cleanly."""
    store = NodeStore.init(scratch / "template", VILLAGE, "测试村")
    for name in ("甲", "乙"):
        rid = store.new_id("person")
        store.write([store.upsert_op("person", rid, {"name": name, "sex": "F"})])
    store.close()
    return scratch / "template"


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_write_killed_between_any_two_statements_is_all_or_nothing(
    template: Path, scratch: Path, name: str
) -> None:
    write = WRITES[name]
    before = _state(_copy(template, scratch / "before"))
    whole = _copy(template, scratch / "whole")
    code, statements = _run_child(whole, write, None)
    assert code == 0, f"the write {name} failed without a crash"
    after = _state(whole)
    assert after != before
    assert any(s.upper().startswith("COMMIT") for s in statements), statements
    for k in range(1, len(statements) + 1):
        data_dir = _copy(template, scratch / f"kill{k}")
        code, seen = _run_child(data_dir, write, k)
        assert code == KILLED, f"{name}: the child did not reach statement {k}"
        where = f"{name} killed before statement {k} of {len(statements)} ({seen[-1]!r})"
        try:
            state = _state(data_dir)
        except Exception as exc:  # noqa: BLE001 - any failure to reopen is the finding
            raise AssertionError(f"{where}: the store does not reopen cleanly: {exc}") from exc
        assert state in (before, after), f"{where}: half a write survived: {state}"
        shutil.rmtree(data_dir)


def _copy(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest
