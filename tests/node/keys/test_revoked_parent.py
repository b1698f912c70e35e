# SPDX-License-Identifier: Apache-2.0
"""Issue 13, fact 2: villages kept trusting a revoked township. The parent's certificate
was never checked against the list the village holds, and the list reached a village
only through that same parent, which can withhold it.

Here the township is revoked at the county and never passes the list down (it simply
does not sync with the county, as a thief holding it would): the village gets the
county's list from the county's published address, or from a file, and refuses its
parent, saying why."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.sync.client import SyncFailed
from node.sync.revocations import held_version
from node.sync.trust import install_revocations
from tests.node.sync.network import County, loopback_county

V1 = "440104001002"
T1 = V1[:9]


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T1: [V1]}) as c:
        for code in (V1, T1, V1):
            c.client(code).sync_round()
        yield c


def revoke_township(county: County) -> bytes:
    town = county.towns[T1].store
    valid = {town.changelog.log: town.changelog.head_seq}
    raw = county.admin.revoke_node(T1, "stolen", valid, time.time_ns() // 1_000_000)
    install_revocations(county.county.store.data_dir, raw)
    return raw


def test_a_village_holding_the_list_refuses_its_revoked_township(county: County) -> None:
    """The check itself: the parent's certificate against the list the village holds."""
    village = county.villages[V1]
    install_revocations(village.data_dir, revoke_township(county))
    with pytest.raises(SyncFailed) as refused:
        county.client(V1).sync_round()
    assert getattr(refused.value, "code", "") == "parent_revoked"
    assert held_version(village.data_dir) == 1


def test_a_village_fetches_the_countys_list_and_refuses_its_revoked_township(
    county: County,
) -> None:
    from node.keys.published import remember_county_url

    village = county.villages[V1]
    remember_county_url(village.data_dir, county.county.url)
    revoke_township(county)
    assert held_version(county.towns[T1].store.data_dir) == 0  # withheld by the township
    with pytest.raises(SyncFailed) as refused:
        county.client(V1).sync_round()
    assert refused.value.code == "parent_revoked"
    assert "township:440104001" in str(refused.value) and "stolen" in str(refused.value)
    assert "已被吊销" in refused.value.zh
    assert held_version(village.data_dir) == 1


def test_a_list_carried_on_a_stick_is_enough(county: County, tmp_path: Path) -> None:
    stick = tmp_path / "revocations.signed"
    stick.write_bytes(revoke_township(county))
    result = CliRunner().invoke(
        cli,
        [
            "node",
            "install-revocations",
            str(stick),
            "--data-dir",
            str(county.villages[V1].data_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "version 1" in result.output and "（2" in result.output  # a local date, not ms
    with pytest.raises(SyncFailed) as refused:
        county.client(V1).sync_round()
    assert refused.value.code == "parent_revoked"


def test_the_published_list_is_checked_at_most_hourly(county: County) -> None:
    """An idle round stays cheap: the county's address is asked once an hour, not at
    every round of every village."""
    from node.keys.published import remember_county_url

    village = county.villages[V1]
    remember_county_url(village.data_dir, county.county.url)
    first = county.client(V1).sync_round()
    assert any("publishes no revocation list" in n for n in first.notes), first.notes
    revoke_township(county)
    second = county.client(V1).sync_round()  # within the hour: not asked again
    assert not any("county" in n for n in second.notes)


def test_a_list_older_than_a_month_is_a_warning_in_status(county: County, english: None) -> None:
    from node.sync.revocations import MAX_LIST_AGE_MS, status_lines

    revoke_township(county)
    data_dir = county.county.store.data_dir
    issued = held_version(data_dir)
    assert issued == 1
    now = time.time_ns() // 1_000_000
    assert not any("WARNING" in line for line in status_lines(data_dir, now))
    old = status_lines(data_dir, now + MAX_LIST_AGE_MS + 86_400_000)
    assert any("WARNING" in line and "31 days" in line for line in old)
