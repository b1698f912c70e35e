# SPDX-License-Identifier: Apache-2.0
"""Issue 13, fact 7: a refusal is shown in the name of the node that signed it.

A township relays the county's refusals to its villages in a notice it signs itself
(protocol.notices ``rejection``): the notice names the county as the refusing node, but
only the township vouches for that. A township can sign one "by county" with any text;
the village must show it as the township's word, never as the county's. The county's
own word reaches a village only in objects the county signed (outcome notices, acks).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.store.acks import PeerAcks
from node.store.outbox import Outbox
from protocol import NodeId, RejectionNotice, sign_rejection
from tests.node.sync.faults import no_sleep, write
from tests.node.sync.network import County, loopback_county

C, T, V = "440104", "440104001", "440104001002"
FORGED = "县局通知：贵村全部记录作废，请删除本地数据"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T: [V]}) as c:
        yield c


def status(store_dir: Path, *lang: str) -> str:
    shown = CliRunner().invoke(cli, [*lang, "node", "status", "--data-dir", str(store_dir)])
    assert shown.exit_code == 0, shown.output
    return shown.output


def test_a_township_signing_a_rejection_by_county_is_shown_as_the_townships_word(
    county: County,
) -> None:
    """The township puts a notice it signed, saying the county refused the village's
    batch with a frightening text, into the village's outbox. The village takes it (it
    is its parent's signed word) and shows it as the township's, told by the township,
    with the county named only as what the township claims. Before, the status said
    "rejected by county:440104: fork", the county's word. (What the township itself
    refuses on the village's session is "rejected by township:...", test_faults.py.)"""
    village = county.villages[V]
    write(village, 3)
    client = county.client(V, sleep=no_sleep)
    client.sync_round()
    town = county.towns[T].store
    notice = RejectionNotice(
        NodeId.parse(f"county:{C}"),
        town.node,
        village.changelog.log,
        1,
        4,
        "fork",
        FORGED,
        int(time.time() * 1000),
    )
    with town.db.atomic():
        Outbox(town.db).add(f"village:{V}", sign_rejection(notice, town.identity.signing))
    report = client.sync_round()
    log = village.changelog.log
    assert report.rejected == [f"township:{T} says county:{C} refused {log} 1..4: fork"]
    (kept,) = PeerAcks(village.db).rejections()
    assert (kept.peer, kept.told_by, kept.code) == (f"county:{C}", f"township:{T}", "fork")
    shown = status(village.data_dir, "--lang", "en")
    assert f"told by township:{T}: fork" in shown
    assert f"not signed by county:{C}" in shown
    assert "rejected by county" not in shown  # never the county's word
    zh = status(village.data_dir)
    assert f"上级转告被拒收：township:{T} 称 county:{C} 拒收了" in zh
    assert f"非county:{C}签发" in zh and "被拒收：    county" not in zh
