# SPDX-License-Identifier: Apache-2.0
"""What a relay does with the version-2 envelopes it kept when it is upgraded to envelope
version 3 (SPEC.md §6.8): they go, and the children send the range again as version 3.

Loopback network, real servers and stores (tests/node/sync/network.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.store.holdings import Holdings
from node.store.schema import m017_envelopes_of_version_3
from node.store.store import NodeStore
from tests.node.sync.faults import count, write
from tests.node.sync.network import County, SimClock, loopback_county
from tests.node.sync.test_defences import sync

T, V1 = "440104001", "440104001001"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V1]}, clock=SimClock()) as c:
        yield c


def _as_version_2(town: NodeStore) -> None:
    """The township's kept copies as a release before envelope version 3 kept them (the
    magic is what the upgrade reads)."""
    rows = town.db.execute("SELECT message_id, raw FROM inbound").fetchall()
    with town.db.atomic():
        for message_id, raw in rows:
            town.db.execute(
                "UPDATE inbound SET raw = ? WHERE message_id = ?",
                [b"RKV2" + bytes(raw)[4:], message_id],
            )


def _upgrade_alerts(town: NodeStore) -> list[tuple[str, str]]:
    return town.db.execute(
        "SELECT log, detail FROM alerts WHERE kind = 'upgrade_dropped'"
    ).fetchall()


def test_a_relays_version_2_copies_are_sent_again_as_version_3(county: County) -> None:
    """The upgrade drops the township's version-2 copies (no parent takes them, no
    decoder reads them), with an alert naming the range the county had not acknowledged;
    its next round takes its head back where its copies stop, the village sends the
    range again as version 3, and the county gets every entry once."""
    village, town = county.villages[V1], county.towns[T].store
    write(village, 3)
    assert sync(county, V1).pushed_entries == 4
    _as_version_2(town)
    with town.db.atomic():
        m017_envelopes_of_version_3(town.db)
    assert count(town, "inbound") == 0
    log = village.changelog.log
    ((alerted, detail),) = _upgrade_alerts(town)
    assert alerted == str(log) and '"first_seq": 1, "last_seq": 4' in detail
    report = sync(county, T)
    assert report.forwarded_envelopes == 0 and report.lost, report
    assert Holdings(town.db).head(log) is None  # back to the county's head: nothing
    assert sync(county, V1).pushed_entries == 4
    assert sync(county, T).forwarded_envelopes == 1
    head = Holdings(county.county.store.db).head(log)
    assert head is not None and head.seq == 4
    kept = [bytes(r[:4]) for (r,) in town.db.execute("SELECT raw FROM inbound")]
    assert kept == [b"RKV3"]


def test_the_upgrade_keeps_version_3_copies(county: County) -> None:
    """Only version 2 goes: a copy of this version stays, and is handed on."""
    write(county.villages[V1], 2)
    assert sync(county, V1).pushed_entries == 3
    town = county.towns[T].store
    with town.db.atomic():
        m017_envelopes_of_version_3(town.db)
    assert count(town, "inbound") == 1
    assert sync(county, T).forwarded_envelopes == 1


def test_copies_the_county_acknowledged_go_without_an_alert(county: County) -> None:
    """A version-2 copy the county had acknowledged is held by the county: dropped at
    the upgrade without an alert, and nothing has to be sent again."""
    write(county.villages[V1], 2)
    assert sync(county, V1).pushed_entries == 3
    assert sync(county, T).forwarded_envelopes == 1  # the county acknowledged 1..3
    town = county.towns[T].store
    _as_version_2(town)
    with town.db.atomic():
        m017_envelopes_of_version_3(town.db)
    assert count(town, "inbound") == 0 and _upgrade_alerts(town) == []
    report = sync(county, T)
    assert report.forwarded_envelopes == 0 and not report.lost, report
