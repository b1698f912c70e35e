# SPDX-License-Identifier: Apache-2.0
"""Signed holiday schedules (issue 14 item 5): the administrator signs a year from the
official notice, installs it at the county node, and every node takes it with its next
sync, over real HTTP on loopback; no file is carried to a village. An older schedule
never replaces a newer one; one signed by another key is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from node.calendar_store import held_schedules_raw, install_schedule, node_calendar
from node.deadlines import load_schedule
from node.deadlines.schedule import schedule_from_chinese_calendar
from node.errors import ValidationError
from node.keys.schedule_file import parse_schedule_file
from protocol import sign_object
from protocol.testing import make_node
from tests.node.deadlines.sample import body_2027
from tests.node.sync.network import County, loopback_county

V1, V2 = "440104001002", "440104001003"
T1 = V1[:9]
EXAMPLE = Path(__file__).parents[3] / "deploy" / "schedules" / "holidays-2026.txt"
FILE_2027 = """\
来源 测试用（虚构）2027年节假日安排
放假 2027-01-01..2027-01-03  # 元旦
holiday 2027-02-22
上班 2027-02-20
"""


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path / "net", {T1: [V1, V2]}) as c:
        for code in (V1, V2, T1):
            c.client(code).sync_round()
        yield c


def test_the_2026_example_file_is_the_official_schedule() -> None:
    """The documented example is the real 2026 notice, as the holiday package has it."""
    body = parse_schedule_file(EXAMPLE.read_text(encoding="utf-8"), 2026, date(2025, 11, 4))
    ours, package = load_schedule(body), schedule_from_chinese_calendar(2026)
    assert (package.holidays, package.workdays) == (ours.holidays, ours.workdays)
    assert ours.source == "国务院办公厅关于2026年部分节假日安排的通知"


@pytest.mark.parametrize(
    ("text", "field", "code"),
    [
        ("来源 x\n放假 2027-13-01\n", "line 2", "schedule_file.not_a_date"),
        ("来源 x\n放假 2026-12-31\n", "line 2", "schedule_file.outside_year"),
        ("来源 x\nholidays 2027-01-01\n", "line 2", "schedule_file.unknown_line"),
        ("来源 x\n上班 2027-01-02..2027-01-03\n", "line 2", "schedule_file.bad_dates"),
        ("来源 x\n放假 2027-01-05..2027-01-01\n", "line 2", "schedule_file.bad_range"),
        ("放假 2027-01-01\n", "line 0", "schedule_file.source"),
    ],
)
def test_a_bad_line_is_named(text: str, field: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_schedule_file(text, 2027, date(2026, 11, 20))
    assert (field, code) in [(p.field, p.code) for p in info.value.problems]


def _sign(renkou: Callable[..., str], county: County, tmp: Path, *extra: str) -> str:
    source = tmp / "holidays-2027.txt"
    source.write_text(FILE_2027, encoding="utf-8")
    return renkou(
        "keys", "sign-schedule", "--year", "2027", "--file", str(source),
        "--admin-dir", str(county.admin.directory), *extra,
    )  # fmt: skip


def test_a_signed_schedule_reaches_every_node_through_sync(
    county: County, renkou: Callable[..., str], tmp_path: Path
) -> None:
    out = _sign(
        renkou, county, tmp_path, "--published", "2026-11-20",
        "--county-data-dir", str(county.county.store.data_dir),
    )  # fmt: skip
    assert "signed the 2027 schedule (4 holidays, 1 make-up" in out
    assert "installed at the county node" in out
    village = county.villages[V1].data_dir
    assert held_schedules_raw(village) == []

    notes = county.client(T1).sync_round().notes
    assert any("installed the 2027 holiday schedule published 2026-11-20" in n for n in notes)
    report = county.client(V1).sync_round()
    assert any("installed the 2027 holiday schedule" in n for n in report.notes), report.notes
    assert not node_calendar(village).is_workday(date(2027, 2, 22)).workday  # a Monday off
    assert node_calendar(village).is_workday(date(2027, 2, 20)).workday  # a Saturday on

    client = county.client(V2)
    client.sync_round()  # takes it too, and the set's digest is remembered
    idle = client.sync_round()
    assert idle.idle and idle.requests == 1  # idle again: one request


def test_an_older_schedule_never_replaces_a_newer_one(
    county: County, renkou: Callable[..., str], tmp_path: Path
) -> None:
    """The village holds a correction (published later) imported by hand; its township
    then offers the first schedule of the year: it is reported and not installed."""
    root = county.admin.signing
    newer = sign_object(body_2027(published="2026-12-01"), root)
    village = county.villages[V1].data_dir
    install_schedule(village, newer)
    _sign(
        renkou, county, tmp_path, "--published", "2026-11-20",
        "--county-data-dir", str(county.county.store.data_dir),
    )  # fmt: skip
    county.client(T1).sync_round()
    notes = county.client(V1).sync_round().notes
    assert any("schedule.older" in n for n in notes), notes
    assert held_schedules_raw(village) == [newer]
    with pytest.raises(ValidationError) as info:  # by hand neither
        install_schedule(village, held_schedules_raw(county.county.store.data_dir)[0])
    assert [p.code for p in info.value.problems] == ["schedule.older"]
    assert county.client(V1).sync_round().idle  # reported once, then idle


def test_a_schedule_signed_by_another_key_is_refused_everywhere(
    county: County, tmp_path: Path
) -> None:
    """A county node key is certified by the root, but only the root signs schedules;
    a township that somehow holds such a file cannot pass it on."""
    forged = sign_object(body_2027(), make_node("440104", None).signing)
    by_node = sign_object(body_2027(), county.county.store.identity.signing)
    tampered = bytearray(sign_object(body_2027(), county.admin.signing))
    tampered[-1] ^= 1  # the issuing key's id, a signature that is not its
    for raw in (forged, by_node, bytes(tampered)):
        with pytest.raises(ValidationError) as info:
            install_schedule(county.county.store.data_dir, raw)
        assert [p.code for p in info.value.problems] == ["schedule.bad_signature"]
    town = county.towns[T1].store.data_dir
    (town / "metadata").mkdir(exist_ok=True)
    (town / "metadata" / "holidays-2027.signed").write_bytes(forged)  # behind our back
    notes = county.client(V1).sync_round().notes
    assert any("schedule.bad_signature" in n for n in notes), notes
    assert held_schedules_raw(county.villages[V1].data_dir) == []


def test_a_correction_must_be_published_later(
    county: County, tmp_path: Path, runner: CliRunner
) -> None:
    from deploy.cli import cli

    args = ["keys", "sign-schedule", "--year", "2027", "--file", str(tmp_path / "h.txt")]
    args += ["--admin-dir", str(county.admin.directory), "--published", "2026-11-20"]
    (tmp_path / "h.txt").write_text(FILE_2027, encoding="utf-8")
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 1 and "not_later" in again.output
    (tmp_path / "h.txt").write_text("来源 x\n放假 2027-02-30\n", encoding="utf-8")
    bad = runner.invoke(cli, args[:-1] + ["2026-12-01"])
    assert bad.exit_code == 1 and "line 2" in bad.output and "not a date" in bad.output
