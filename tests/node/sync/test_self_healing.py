# SPDX-License-Identifier: Apache-2.0
"""Issue 12 item 2: a relay that lost copies heals, on real servers on loopback.

A township that lost its stored copy of a village's batch (disk trouble, the PC put back
from a backup, or a county put back from a backup that asks again for what the
township already forwarded and let go) used to answer every round after with ``gap``
and never heal, while the village believed everything was sent. Now the township sets
its head back to where its copies stop running on from the county's, its state shows
the village what it lacks (its acknowledgement from the township reaches further), the
village sends it again, and the county ends with every entry exactly once.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from node.store.database import DB_NAME, connect
from node.store.store import NodeStore
from node.sync import client as client_module
from node.sync.delivery import DAY_MS
from protocol import decode_envelope
from tests.node.sync.faults import count, no_sleep, write
from tests.node.sync.network import County, SimClock, loopback_county

V1, T, C = "440104001002", "440104001", "440104"


@pytest.fixture
def county(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[County]:
    monkeypatch.setattr(client_module, "MAX_BATCH_ENTRIES", 10)
    with loopback_county(tmp_path, {T: [V1]}, clock=SimClock()) as c:
        yield c


def _round(county: County, code: str) -> client_module.RoundReport:
    return county.client(code, sleep=no_sleep).sync_round()


def _county_seqs(county: County) -> list[int]:
    rows = county.county.store.db.execute(
        "SELECT seq FROM received_entries WHERE log LIKE ? ORDER BY seq", [f"%:{V1}#%"]
    )
    return [int(seq) for (seq,) in rows]


def _lose(county: County, where: str) -> int:
    """The township's disk loses the kept copies ``where`` says (of the village's log)."""
    town = county.towns[T].store
    with town.db.atomic():
        gone = town.db.execute(f"DELETE FROM inbound WHERE {where}").rowcount
    return int(gone)


def _heals(county: County, entries: int) -> None:
    """A few ordinary rounds, then the county holds every entry once and all is idle."""
    for _ in range(2):
        _round(county, T)
        _round(county, V1)
    assert _county_seqs(county) == list(range(1, entries + 1))  # every entry, once each
    assert _round(county, T).idle
    assert _round(county, V1).idle


def test_a_township_that_lost_a_middle_batch_heals(county: County) -> None:
    village = county.villages[V1]
    write(village, 29)  # 30 entries: batches 1-10, 11-20, 21-30
    assert _round(county, V1).pushed_entries == 30
    assert _lose(county, "first_seq = 11") == 1
    town = _round(county, T)  # used to fail with `gap` at 21-30, every round after
    assert town.lost == [f"village:{V1}#1 11..30"], town
    assert _county_seqs(county) == list(range(1, 11))
    village_round = _round(county, V1)
    assert village_round.lost == [f"village:{V1}#1 11..30"], village_round
    assert village_round.pushed_entries == 20  # from the township's head, sent again
    _heals(county, 30)


def test_a_township_that_lost_every_copy_heals(county: County) -> None:
    write(county.villages[V1], 14)
    _round(county, V1)
    assert _lose(county, "1") == 2
    assert _round(county, T).lost == [f"village:{V1}#1 1..15"]
    assert count(county.towns[T].store, "frontier", "log LIKE ?", [f"%:{V1}#%"]) == 0
    assert _round(county, V1).pushed_entries == 15
    _heals(county, 15)


def _backup(store: NodeStore, dest: Path) -> Path:
    shutil.copytree(store.data_dir, dest, ignore=shutil.ignore_patterns(DB_NAME + "*"))
    target = connect(dest / DB_NAME, store.identity.db_key)  # encrypted, as node.db
    store.db.conn.backup(target)
    target.close()
    return dest


def test_a_county_put_back_gets_what_the_township_no_longer_keeps(
    county: County, tmp_path: Path
) -> None:
    """The township let go of copies the county acknowledged; the county is then put
    back from a backup older than them. Only the village still has them: it is told."""
    write(county.villages[V1], 9)
    _round(county, V1)
    _round(county, T)
    backup = _backup(county.county.store, tmp_path / "county-backup")
    write(county.villages[V1], 10)
    _round(county, V1)
    _round(county, T)
    assert _county_seqs(county) == list(range(1, 21))
    _lose(county, "forwarded_at IS NOT NULL")  # what a township's retention does

    def put_back() -> None:
        county.county.store.close()
        for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
            (county.county.store.data_dir / name).unlink(missing_ok=True)
        shutil.copy(backup / DB_NAME, county.county.store.data_dir / DB_NAME)

    county.restart(C, down=put_back)
    county.county.store = NodeStore.open(county.county.store.data_dir, clock=county.clock)
    assert _county_seqs(county) == list(range(1, 11))
    assert _round(county, T).lost == [f"village:{V1}#1 11..20"]
    _heals(county, 20)


class _Recording(requests.Session):
    """Keeps the envelopes the township posts to the county."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: list[bytes] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if url.endswith("/sync/v1/envelopes"):
            self.posted.append(bytes(kwargs.get("data") or b""))
        return super().request(method, url, *args, **kwargs)


def test_a_relay_never_hands_a_batch_on_later_than_its_origin_allowed(county: County) -> None:
    """SPEC §6.5: the township's expiry is never later than the village's."""
    write(county.villages[V1], 4)
    _round(county, V1)
    kept = county.towns[T].store.db.execute("SELECT raw FROM inbound").fetchone()[0]
    origin = decode_envelope(bytes(kept))
    county.sim_clock.advance(6 * DAY_MS)  # a township off for six days
    http = _Recording()
    county.client(T, sleep=no_sleep, http=http).sync_round()
    relayed = [decode_envelope(raw) for raw in http.posted]
    ours = [env for env in relayed if env.header.log == origin.header.log]
    assert ours and all(env.expires_ms <= origin.expires_ms for env in ours)
    assert _county_seqs(county) == list(range(1, 6))


def test_a_kept_copy_past_its_expiry_is_sent_again_by_the_village(county: County) -> None:
    """A township off for longer than the village's envelope lives does not re-sign it
    as fresh: it sets its head back, the village sends the range again, the county gets
    every entry once."""
    write(county.villages[V1], 4)
    _round(county, V1)
    county.sim_clock.advance(8 * DAY_MS)  # past the village's 7 days
    http = _Recording()
    report = county.client(T, sleep=no_sleep, http=http).sync_round()
    assert report.lost == [f"village:{V1}#1 1..5"], report
    assert _county_seqs(county) == []
    assert all(decode_envelope(raw).header.log.node.code != V1 for raw in http.posted)
    _heals(county, 5)
