# SPDX-License-Identifier: Apache-2.0
"""Bug H (issue 12, seed 615), on real servers on loopback: a township that cannot hand
a village's batch on hands it back to the village instead of dropping it.

The township acknowledged the batch and was then cut off from the county for longer
than the batch lives (7 days); meanwhile the village PC died and was restored from a
backup older than the batch. The township used to drop its expired copy and wait for
the village to send the range again, which the restored PC could not: acknowledged
changes were lost, and nobody was told. Now the copy goes back down to the village
through its outbox (the village is a recipient: the escrow wrap), the village checks it
is its own and sends it again again, under a fresh hop; the county ends with
every entry once, in the log it was written in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.store.backup import backup, restore
from node.store.holdings import Holdings
from node.store.outbox import Outbox
from node.store.store import NodeStore
from node.sync import client as client_module
from node.sync import returned
from node.sync.delivery import DAY_MS
from node.sync.relay_returns import ALERT_DAYS, status_lines
from protocol import Head, LogId, decode_envelope
from tests.node.sync.faults import no_sleep, write
from tests.node.sync.network import County, small_batch_county

V1, T = "440104001002", "440104001"


@pytest.fixture
def county(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[County]:
    yield from small_batch_county(tmp_path, monkeypatch, T, V1)


def _round(county: County, code: str) -> client_module.RoundReport:
    return county.client(code, sleep=no_sleep).sync_round()


def _county_log(county: County, epoch: int) -> list[tuple[int, bytes]]:
    return county.county_log(f"village:{V1}#{epoch}")


def _restored(county: County, tmp_path: Path) -> tuple[NodeStore, list[tuple[int, bytes]]]:
    """The village writes 1..4, sends them, backs up, writes 5..9 and sends them (the
    township acknowledges); the township is cut off from the county for 8 days; then
    the PC dies and is restored from the backup. Returns the restored store and the
    entries of epoch 1 as the lost PC wrote them."""
    village = county.villages[V1]
    write(village, 3)
    _round(county, V1)
    _round(county, T)  # the county holds 1..4
    backup(village, tmp_path / "monday.rkb", county.sim_clock())
    write(village, 5)
    assert _round(county, V1).pushed_entries == 5  # acknowledged by the township
    written = [(e.seq, e.hash) for e in village.entries(1, 9)]
    county.sim_clock.advance(8 * DAY_MS)  # past the village's 7 days
    data_dir = village.data_dir
    village.close()
    restore(data_dir, tmp_path / "monday.rkb")
    county.villages[V1] = restored = NodeStore.open(data_dir, clock=county.clock)
    assert restored.changelog.log.epoch == 2 and restored.changelog.closed_heads()[1][0] == 4
    return restored, written


def test_a_restored_pc_sends_again_what_its_township_held_past_expiry(
    county: County, tmp_path: Path
) -> None:
    restored, written = _restored(county, tmp_path)
    town = county.towns[T].store
    report = _round(county, T)
    assert report.lost == [f"village:{V1}#1 5..9"], report
    [item] = [decode_envelope(raw) for raw in Outbox(town.db).items(f"village:{V1}")
              if raw[:4] == b"RKV3"]  # fmt: skip
    assert (item.header.first_seq, item.header.last_seq, item.sender) == (5, 9, restored.node)
    assert _county_log(county, 1) == written[:4]
    _round(county, V1)  # takes the batch back
    assert [r[1:3] for r in Holdings(restored.db).returned_ranges()] == [(5, 9)]
    shown = status_lines(restored.db, restored.data_dir, county.sim_clock())
    assert any(f"village:{V1}#1 第 5-9 条" in line for line in shown), shown
    for _ in range(2):
        _round(county, V1)
        _round(county, T)
    assert _county_log(county, 1) == written  # every entry once, as the lost PC wrote it
    assert Holdings(restored.db).returned_ranges() == []
    assert Holdings(town.db).returned_ranges() == []
    assert _round(county, T).idle and _round(county, V1).idle
    # The restored PC's own log is untouched: epoch 1 ends where the backup did.
    assert restored.changelog.closed_heads()[1][0] == 4


def test_a_village_that_still_holds_the_entries_keeps_no_copy(county: County) -> None:
    """Not restored: the village pushes from the township's head as always, and the
    copy handed back is not kept."""
    village = county.villages[V1]
    write(village, 4)
    _round(county, V1)
    county.sim_clock.advance(8 * DAY_MS)
    assert _round(county, T).lost == [f"village:{V1}#1 1..5"]
    _round(county, V1)
    _round(county, V1)
    assert Holdings(village.db).returned_ranges() == []
    _round(county, T)
    assert len(_county_log(county, 1)) == 5
    assert Holdings(county.towns[T].store.db).returned_ranges() == []


def _hand_back(county: County, raw: bytes) -> None:
    town = county.towns[T].store
    with town.db.atomic():
        Outbox(town.db).add(f"village:{V1}", raw)


@pytest.mark.parametrize("damage", ["origin_signature", "ciphertext"])
def test_a_returned_batch_that_is_not_what_the_village_signed_is_not_sent(
    county: County, tmp_path: Path, damage: str
) -> None:
    """A township cannot make the village renew what it did not sign: the origin
    signature must verify under the village's own certificate, and the batch must open
    with its escrow key and chain to the signed head."""
    restored, _written = _restored(county, tmp_path)
    town = county.towns[T].store  # its genuine copy is still as it came
    raw = bytearray(Holdings(town.db).envelopes_after(LogId.parse(f"village:{V1}#1"), 4)[0][3])
    env = decode_envelope(bytes(raw))
    if damage == "origin_signature":
        at = raw.index(env.batch_sig)
    else:
        at = raw.index(env.ciphertext) + len(env.ciphertext) // 2
    raw[at] ^= 0x01
    _hand_back(county, bytes(raw))
    report = _round(county, V1)
    assert any("does not verify" in note for note in report.notes), report.notes
    assert Holdings(restored.db).returned_ranges() == []


def test_the_township_alerts_when_the_village_never_sends_it_again(
    county: County, tmp_path: Path
) -> None:
    _restored(county, tmp_path)
    town = county.towns[T].store
    _round(county, T)
    now = county.sim_clock()
    shown = status_lines(town.db, town.data_dir, now)
    assert any(f"village:{V1}#1 第 5-9 条" in line and "已退还" in line for line in shown), shown
    assert not any("警报" in line for line in shown)
    later = now + (ALERT_DAYS + 1) * DAY_MS
    assert any("警报" in line for line in status_lines(town.db, town.data_dir, later))


def test_a_returned_batch_overlapping_what_the_pc_sent_again_is_sent_from_there(
    county: County, tmp_path: Path
) -> None:
    """Slow seed 3814: the restored PC first sends its own closed epoch (1..4) from the
    township's head, so a copy handed back across that head (3..9) overlaps what the
    township now holds. Only its part beyond the head (5..9) can go, and it must: it is
    the only copy left of entries the township acknowledged. Before, such a copy was
    never due, the village's round was never idle, and 5..9 never reached the county."""
    village = county.villages[V1]
    write(village, 1)
    assert _round(county, V1).pushed_entries == 2  # 1..2, acknowledged by the township
    write(village, 2)
    backup(village, tmp_path / "monday.rkb", county.sim_clock())  # holds 1..4
    write(village, 5)
    assert _round(county, V1).pushed_entries == 7  # 3..9 in one batch
    written = [(e.seq, e.hash) for e in village.entries(1, 9)]
    county.sim_clock.advance(8 * DAY_MS)  # the township never reached the county in time
    data_dir = village.data_dir
    village.close()
    restore(data_dir, tmp_path / "monday.rkb")
    county.villages[V1] = restored = NodeStore.open(data_dir, clock=county.clock)
    town = county.towns[T].store
    assert _round(county, T).lost == [f"village:{V1}#1 1..9"]
    _round(county, V1)  # sends 1..4 from its own log, takes the copies 1..2 and 3..9 back
    assert [r[1:3] for r in Holdings(restored.db).returned_ranges()] == [(1, 2), (3, 9)]
    for _ in range(2):
        _round(county, V1)
        _round(county, T)
    assert _county_log(county, 1) == written  # every entry once, as the lost PC wrote it
    assert Holdings(restored.db).returned_ranges() == []
    assert Holdings(town.db).returned_ranges() == []  # no false alert in 35 days
    assert _round(county, V1).idle and _round(county, T).idle


def test_a_returned_copy_of_a_whole_epoch_is_sent_again(county: County, tmp_path: Path) -> None:
    """Slow seed 3664: a PC restored twice from the same backup. What it wrote in the
    epoch between (#2) reached only the township, whose copy expired; handed back, it
    starts the log at seq 1, its first entry chaining from the epoch before (another
    log). It was never due (its ``prev_hash`` is not the empty head), so the village
    round was never idle and #2 never reached the county."""
    restored, written = _restored(county, tmp_path)
    write(restored, 2)
    assert _round(county, V1).pushed_entries >= 2  # #2, acknowledged by the township
    second = [(e.seq, e.hash) for e in restored.entries(1, None, epoch=2)]
    county.sim_clock.advance(8 * DAY_MS)
    data_dir = restored.data_dir
    restored.close()
    restore(data_dir, tmp_path / "monday.rkb")
    county.villages[V1] = again = NodeStore.open(data_dir, clock=county.clock)
    assert again.changelog.log.epoch == 3
    report = _round(county, T)
    assert f"village:{V1}#2 1..{len(second)}" in report.lost, report
    for _ in range(3):
        _round(county, V1)
        _round(county, T)
    assert _county_log(county, 1) == written
    assert _county_log(county, 2) == second  # the epoch between, once, as it was written
    assert Holdings(again.db).returned_ranges() == []
    assert _round(county, V1).idle


def test_only_a_copy_that_continues_the_parents_head_is_cut_there(county: County) -> None:
    """``beyond`` sends the part after the parent's head only when the parent's entry
    there is the copy's: a copy that does not continue what the parent holds would be
    refused as a fork, so it is not sent at all."""
    village = county.villages[V1]
    write(village, 8)
    copy = list(village.entries(3, 9))
    assert returned.beyond(copy, Head(4, copy[1].hash)) == copy[2:]
    assert returned.beyond(copy, Head(4, bytes(32))) is None
    assert returned.beyond(copy, Head(9, copy[-1].hash)) == copy  # a fresh copy, for an ack
    assert returned.beyond(copy, Head(2, village.entries(2, 2).__next__().hash)) == copy


def test_the_township_alerts_at_once_when_a_new_pc_cannot_open_the_copy(
    county: County, tmp_path: Path
) -> None:
    """Seeds 5156 and 5468: the township acknowledged 5..9 and was cut off past their
    expiry; the village PC then died with the only key that could open and renew the
    copy. A replacement PC, enrolled with keys of its own, cannot send it again, yet the
    township's alert waited 35 days. Once the new PC has introduced its certificate,
    the copy is sealed for none of its keys, and the alert is up at once."""
    from tests.node.sync.test_recover_upstream import _new_pc

    village = county.villages[V1]
    write(village, 3)
    _round(county, V1)
    _round(county, T)
    write(village, 5)
    assert _round(county, V1).pushed_entries == 5
    county.sim_clock.advance(8 * DAY_MS)  # past the village's 7 days
    village.close()  # the PC dies with its keys
    town = county.towns[T].store
    assert _round(county, T).lost == [f"village:{V1}#1 5..9"]
    now = county.sim_clock()
    assert not any("警报" in line for line in status_lines(town.db, town.data_dir, now))
    new = _new_pc(county, V1, tmp_path / "new-pc")
    try:
        with pytest.raises(client_module.SyncFailed):  # its own log #1 is not the village's
            client_module.SyncClient(new, county.towns[T].url, now_ms=county.clock).sync_round()
        shown = status_lines(town.db, town.data_dir, county.sim_clock())
        assert any("警报" in line and "电脑已被更换" in line for line in shown), shown
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(village.data_dir, clock=county.clock)


def test_the_township_sync_status_page_lists_that_alert(county: County, tmp_path: Path) -> None:
    """The same story seen by the township's officer, who opens the sync status page
    rather than running `renkou node status`: the alert is among the page's alerts."""
    from node.pages.accounts import add_operator
    from node.server import create_app
    from node.store.accounts import OperatorStore
    from tests.node.pages.helpers import ACCOUNTS, PASSWORD, START_MS, sign_in
    from tests.node.sync.test_recover_upstream import _new_pc

    village = county.villages[V1]
    write(village, 3)
    _round(county, V1)
    _round(county, T)
    write(village, 5)
    _round(county, V1)
    county.sim_clock.advance(8 * DAY_MS)
    village.close()
    _round(county, T)
    new = _new_pc(county, V1, tmp_path / "new-pc")
    try:
        with pytest.raises(client_module.SyncFailed):
            client_module.SyncClient(new, county.towns[T].url, now_ms=county.clock).sync_round()
        town = county.towns[T].store
        add_operator(OperatorStore(town.db), ACCOUNTS["township_reviewer"], "township_reviewer",
                     PASSWORD, START_MS)  # fmt: skip
        app = create_app({"RENKOU_DATA_DIR": str(town.data_dir)})
        client = app.test_client()
        sign_in(client, "township_reviewer")
        html = client.get("/sync-status").get_data(as_text=True)
        alerts = html[html.index('id="alerts"') :]
        assert "副本无人重发" in alerts and "电脑已被更换" in alerts, alerts
        assert f"village:{V1}#1" in alerts
    finally:
        new.close()
        county.villages[V1] = NodeStore.open(village.data_dir, clock=county.clock)
