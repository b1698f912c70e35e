# SPDX-License-Identifier: Apache-2.0
"""Sign-off and late data (issue 5 item 6): signed snapshots, approval, revisions."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from county_aggregator.reports import (
    Snapshot,
    SnapshotClosed,
    approve,
    build_report,
    check_late_data,
    list_snapshots,
    submit_snapshot,
    verify_snapshot,
)
from node.errors import NotFoundError, ValidationError
from protocol import SignatureError, SigningKey, Suite, decode_signed
from tests.county_aggregator.reports.fixtures import COUNTY, T1, B, P, hlc

NOW = datetime(2026, 4, 12, 2, 0, tzinfo=UTC)


def submit(db: sqlite3.Connection, key: SigningKey, name: str = "王统计") -> Snapshot:
    report = build_report(db, "table2", period="2026H1")
    return submit_snapshot(db, report, statistician=name, key=key, now=NOW)


def late_birth(db: sqlite3.Connection) -> None:
    """A birth of 2026-03-28 that reached the county in May."""
    data = {"mother_ref": P("b2"), "birth_date": "2026-03-28", "birth_order": 2, "child_sex": "M"}
    db.execute(
        "INSERT INTO merged_records VALUES ('birth', 'late1', ?, ?, ?, NULL, ?, ?)",
        (json.dumps(data), json.dumps([B]), B, hlc("2026-05-06"), hlc("2026-05-06")),
    )


def test_submit_signs_the_figures(merged: sqlite3.Connection, node_key: SigningKey) -> None:
    snap = submit(merged, node_key)
    assert (snap.version, snap.status, snap.approved_at) == (1, "submitted", None)
    verify_snapshot(snap, node_key.verify_key)
    signed = decode_signed(snap.raw, expect_type="report_snapshot")
    assert signed.body["statistician"] == "王统计" and signed.body["period"] == "2026H1"
    assert signed.body["columns"][0] == "pop_start"
    assert signed.body["rows"][0] == [COUNTY, 15, 2, 1, 1, 0, 1, 1, 0, 0, 0, 2, 1, 0, 1, 14]
    assert signed.body["submitted_at"] == "2026-04-12T02:00:00Z"


def test_a_changed_byte_or_another_key_fails(
    merged: sqlite3.Connection, node_key: SigningKey
) -> None:
    snap = submit(merged, node_key)
    other = SigningKey(Suite.HYBRID, bytes(64))
    with pytest.raises(SignatureError):
        verify_snapshot(snap, other.verify_key)
    tampered = snap.raw.replace("王统计".encode(), "李统计".encode())  # same length
    assert tampered != snap.raw
    with pytest.raises(SignatureError):
        verify_snapshot(tampered, node_key.verify_key)
    forged = bytearray(snap.raw)
    forged[-1] ^= 1
    with pytest.raises(SignatureError):
        verify_snapshot(bytes(forged), node_key.verify_key)


def test_resubmission_before_approval_replaces(
    merged: sqlite3.Connection, node_key: SigningKey
) -> None:
    submit(merged, node_key)
    snap = submit(merged, node_key, name="李统计")
    assert snap.version == 1 and snap.body["statistician"] == "李统计"
    assert len(list_snapshots(merged, "table2", "2026H1")) == 1


def test_approval_adds_the_head_and_closes(
    merged: sqlite3.Connection, node_key: SigningKey
) -> None:
    submit(merged, node_key)
    snap = approve(merged, "table2", "2026H1", head="张局长", key=node_key, now=NOW)
    assert snap.status == "approved" and snap.approved_at == "2026-04-12T02:00:00Z"
    verify_snapshot(snap, node_key.verify_key)
    assert (snap.body["statistician"], snap.body["approver"]) == ("王统计", "张局长")
    with pytest.raises(SnapshotClosed) as caught:
        submit(merged, node_key)
    assert caught.value.code == "report_closed" and "已审核" in caught.value.zh
    with pytest.raises(NotFoundError):
        approve(merged, "table2", "2026H1", head="张局长", key=node_key, now=NOW)


def test_approved_rows_are_immutable_in_the_database(
    merged: sqlite3.Connection, node_key: SigningKey
) -> None:
    """Whatever code runs, SQLite refuses to change or delete an approved snapshot."""
    submit(merged, node_key)
    approve(merged, "table2", "2026H1", head="张局长", key=node_key, now=NOW)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        merged.execute("UPDATE report_snapshots SET raw = x'00'")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        merged.execute("DELETE FROM report_snapshots")
    with pytest.raises(sqlite3.IntegrityError):
        merged.execute(
            "INSERT OR REPLACE INTO report_snapshots VALUES "
            "('table2', '2026H1', 1, x'00', NULL, 'submitted', NULL)"
        )


def test_the_head_is_not_the_statistician(merged: sqlite3.Connection, node_key: SigningKey) -> None:
    submit(merged, node_key)
    with pytest.raises(ValidationError) as caught:
        approve(merged, "table2", "2026H1", head="王统计", key=node_key, now=NOW)
    assert caught.value.problems[0].code == "report.same_person"
    with pytest.raises(ValidationError):
        approve(merged, "table2", "2026H1", head=" ", key=node_key, now=NOW)


def test_late_data_opens_a_revision(merged: sqlite3.Connection, node_key: SigningKey) -> None:
    submit(merged, node_key)
    approved = approve(merged, "table2", "2026H1", head="张局长", key=node_key, now=NOW)
    assert check_late_data(merged, "table2", "2026H1") is None  # nothing new yet
    late_birth(merged)
    revision = check_late_data(merged, "table2", "2026H1")
    assert revision is not None
    assert (revision.version, revision.status) == (2, "revision_open")
    changed = {(c["row"], c["column"]): (c["was"], c["now"]) for c in revision.changes}
    for row in (COUNTY, T1, B):
        assert changed[(row, "births")][1] == changed[(row, "births")][0] + 1
        assert (row, "b2_m") in changed and (row, "pop_end") in changed
    assert len(changed) == 3 * 4  # births, births_m, b2_m, pop_end in B, T1, county
    # The approved version is untouched, byte for byte.
    first = list_snapshots(merged, "table2", "2026H1")[0]
    assert first.raw == approved.raw and first.status == "approved"
    # Checking again changes nothing; the revision is then submitted and approved.
    assert check_late_data(merged, "table2", "2026H1") == revision
    resubmitted = submit(merged, node_key)
    assert (resubmitted.version, resubmitted.status) == (2, "submitted")
    assert resubmitted.body["revises"] == 1 and resubmitted.body["changes"] == revision.changes
    second = approve(merged, "table2", "2026H1", head="张局长", key=node_key, now=NOW)
    assert second.version == 2 and second.body["rows"][0][2] == 3  # births now 3
    assert check_late_data(merged, "table2", "2026H1") is None


def test_more_late_data_updates_the_open_revision(
    merged: sqlite3.Connection, node_key: SigningKey
) -> None:
    submit(merged, node_key)
    approve(merged, "table2", "2026H1", head="张局长", key=node_key, now=NOW)
    late_birth(merged)
    check_late_data(merged, "table2", "2026H1")
    merged.execute("UPDATE merged_records SET retired = 'entered_in_error' WHERE key = 'mv4'")
    revision = check_late_data(merged, "table2", "2026H1")
    assert revision is not None and revision.version == 2
    assert ("440104002001", "moved_out") in {(c["row"], c["column"]) for c in revision.changes}
    assert len(list_snapshots(merged, "table2", "2026H1")) == 2


def test_an_open_period_has_no_revision(merged: sqlite3.Connection, node_key: SigningKey) -> None:
    assert check_late_data(merged, "table2", "2026H1") is None
    submit(merged, node_key)
    late_birth(merged)
    assert check_late_data(merged, "table2", "2026H1") is None  # resubmit instead
