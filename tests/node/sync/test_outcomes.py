# SPDX-License-Identifier: Apache-2.0
"""The county's outcome of each entry travels back to the village (issue 4, item 5).

Two villages of two townships keep cards of one floating woman; each thinks itself the
authority on one address. After the county merges, each village hears, through its
township, which of its values gave way and to which queue item, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from county_aggregator.merge import merge_new
from county_aggregator.notices import send_notices
from county_aggregator.store import init_merged
from node.store.store import NodeStore
from node.sync.outcomes import summary
from node.sync.status import status_lines
from protocol import sign_object
from tests.county_aggregator.scenario import card, id_number
from tests.node.sync.network import County, loopback_county

H, R = "440104001002", "440104002001"
T1, T2 = H[:9], R[:9]
IDN = id_number("1990-03-04", 7)


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T1: [H], T2: [R]}) as c:
        yield c


def write_card(store: NodeStore, rid: str, fields: dict[str, object]) -> None:
    store.write([store.upsert_op("person", rid, fields)])


def sync_all(county: County) -> None:
    for code in (H, R, T1, T2):
        county.client(code).sync_round()


def test_each_village_hears_which_of_its_values_gave_way(county: County, english: None) -> None:
    h, r = county.villages[H], county.villages[R]
    write_card(h, "P1", card(IDN, "王芳", "1990-03-04", H, R, hukou_address="上村1号"))
    write_card(r, "P7", card(IDN, "王芳", "1990-03-04", H, R, hukou_address="?"))
    sync_all(county)
    merged = init_merged(Database(memory=True))
    county_store = county.county.store
    merge_new(county_store.db, merged)
    assert send_notices(merged, county_store, 0) >= 2
    assert send_notices(merged, county_store, 0) == 0  # told once per range
    for code in (T1, T2, H, R):  # townships pull and pass down, then villages pull
        county.client(code).sync_round()
    theirs = summary(r)
    assert [s["log"] for s in theirs] == [f"village:{R}#1"]
    (item,) = theirs[0]["not_applied"]
    assert (item["outcome"], item["field"], item["record"]) == (
        "superseded",
        "hukou_address",
        "P7",
    )
    assert item["code"] == "authority"  # (a queue item too when R's value was the newer)
    assert any("county superseded" in line for line in status_lines(r.db))
    mine = summary(h)  # the hukou village's values all stand
    assert mine[0]["not_applied"] == [] and mine[0]["merged_through"] == h.changelog.head_seq


def test_a_notice_not_signed_by_the_county_is_ignored(county: County) -> None:
    """A township (or anyone with a township key) cannot tell a village its entries were
    rejected: the notice must verify under the county's key."""
    h = county.villages[H]
    write_card(h, "P1", {"name": "王芳"})
    sync_all(county)
    town = county.towns[T1].store
    body = {
        "v": 1,
        "type": "outcome",
        "by": "440104",
        "log": f"village:{H}#1",
        "first_seq": 1,
        "last_seq": 2,
        "applied": 0,
        "listed": [{"seq": 2, "outcome": "rejected", "code": "revoked"}],
        "more": 0,
        "at": 0,
    }
    from node.store.outbox import Outbox

    with town.db.atomic():
        Outbox(town.db).add(f"village:{H}", sign_object(body, town.identity.signing))
    report = county.client(H).sync_round()
    assert any("does not verify" in note for note in report.notes), report.notes
    assert summary(h) == []
