# SPDX-License-Identifier: Apache-2.0
"""Issue 12 item 5, end to end on loopback: a field edited at both the hukou and the
residence village, merged one after the other, is queued, and every queue item a
village's status names (``superseded ... queue item <id>``) is one that `renkou county
conflicts show <id>` finds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.store.store import NodeStore
from node.sync.status import status_lines
from tests.county_aggregator.scenario import card, id_number
from tests.node.sync.network import County, loopback_county

H, R = "440104001002", "440104002001"
T1, T2 = H[:9], R[:9]
IDN = id_number("1990-03-04", 7)


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T1: [H], T2: [R]}) as c:
        yield c


def _write(store: NodeStore, rid: str, fields: dict[str, object]) -> None:
    store.write([store.upsert_op("person", rid, fields)])


def _county(county: County, *args: str) -> str:
    data_dir = str(county.county.store.data_dir)
    done = CliRunner().invoke(cli, ["county", *args, "--data-dir", data_dir])
    assert done.exit_code == 0, done.output
    return done.output


def _round(county: County, *codes: str) -> None:
    """The villages push, the townships forward, the county merges and tells, and the
    notices travel down."""
    for code in (*codes, T1, T2):
        county.client(code).sync_round()
    _county(county, "merge")
    for code in (T1, T2, H, R):
        county.client(code).sync_round()


@pytest.mark.parametrize("first", [H, R])
def test_edits_at_both_places_are_queued_and_every_told_item_is_shown(
    county: County, first: str, english: None
) -> None:
    h, r = county.villages[H], county.villages[R]
    _write(h, "P1", card(IDN, "王芳", "1990-03-04", H, R))
    _write(r, "P7", card(IDN, "王芳", "1990-03-04", H, R, floating_status="flowed_in"))
    _round(county, H, R)
    _write(h, "P1", {"residence_address": "上村3号"})  # neither sees the other's edit
    _write(r, "P7", {"residence_address": "下村8号"})
    second = R if first == H else H
    _round(county, first)  # one village's edit is merged a round before the other's
    _round(county, second)
    listed = _county(county, "conflicts", "list")
    assert "residence_address" in listed
    told = {
        m.group(1)
        for store in (h, r)
        for line in status_lines(store.db)
        for m in [re.search(r"queue item ([0-9a-f]+)", line)]
        if m is not None
    }
    assert told  # the hukou village's address gave way to the residence village's
    for cid in told:
        assert cid in _county(county, "conflicts", "show", cid)
