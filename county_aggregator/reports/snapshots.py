# SPDX-License-Identifier: Apache-2.0
"""Sign-off of a report and late data: signed snapshots, approval, revisions.

A report for a period is filed as a snapshot: the canonical JSON of its figures with the
names of the statistician (填报人) and, once approved, of the approving head (审核人),
signed with the county node's key (``protocol.sign_object``, type ``report_snapshot``).
An approved snapshot is what went to the city; it never changes: SQLite triggers refuse
to update or delete it, whatever code runs. Data that reaches the county later for a
closed period changes the recomputed figures; :func:`check_late_data` then opens a
revision (version + 1, status ``revision_open``, listing the changed cells) which the
statistician submits and the head approves like the first version.

Statuses: ``revision_open`` -> ``submitted`` -> ``approved``. Only the newest version of
a (report, period) can be open or submitted.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from county_aggregator.reports.build import build_report
from county_aggregator.reports.model import Report
from county_aggregator.reports.periods import parse_period
from node.errors import FieldProblem, NodeError, NotFoundError, ValidationError
from protocol import SigningKey, VerifyKey, canonical, decode_signed, sign_object

SNAPSHOT_TYPE = "report_snapshot"
DDL = (
    """
    CREATE TABLE IF NOT EXISTS report_snapshots (
        name TEXT NOT NULL, period TEXT NOT NULL, version INTEGER NOT NULL,
        raw BLOB NOT NULL, approved_at TEXT, status TEXT NOT NULL, changes TEXT,
        PRIMARY KEY (name, period, version)
    )
    """,
    """
    CREATE TRIGGER IF NOT EXISTS report_snapshots_approved_update
    BEFORE UPDATE ON report_snapshots WHEN OLD.status = 'approved'
    BEGIN SELECT RAISE(ABORT, 'an approved report snapshot is immutable'); END
    """,
    # INSERT OR REPLACE deletes the old row without firing delete triggers (unless
    # recursive triggers are on), so a replacement is refused before it happens.
    """
    CREATE TRIGGER IF NOT EXISTS report_snapshots_approved_replace
    BEFORE INSERT ON report_snapshots WHEN EXISTS (
        SELECT 1 FROM report_snapshots WHERE name = NEW.name AND period = NEW.period
        AND version = NEW.version AND status = 'approved')
    BEGIN SELECT RAISE(ABORT, 'an approved report snapshot is immutable'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS report_snapshots_approved_delete
    BEFORE DELETE ON report_snapshots WHEN OLD.status = 'approved'
    BEGIN SELECT RAISE(ABORT, 'an approved report snapshot is immutable'); END
    """,
)

_UPSERT = (
    "INSERT INTO report_snapshots VALUES (?, ?, ?, ?, NULL, ?, ?)"
    " ON CONFLICT (name, period, version) DO UPDATE SET raw = excluded.raw,"
    " status = excluded.status, approved_at = NULL, changes = excluded.changes"
)


class SnapshotClosed(NodeError):
    """The period's report was approved; only a revision can change its figures."""

    code = "report_closed"
    status = 409


@dataclass(frozen=True)
class Snapshot:
    """One filed version; ``body`` is the decoded canonical JSON (figures, names)."""

    name: str
    period: str
    version: int
    status: str
    raw: bytes
    approved_at: str | None
    changes: list[dict[str, Any]]
    body: dict[str, Any]


def ensure_snapshot_table(db: Any) -> sqlite3.Connection:
    """Create ``report_snapshots`` and its immutability triggers if missing."""
    conn: sqlite3.Connection = getattr(db, "conn", db)
    for ddl in DDL:
        conn.execute(ddl)
    return conn


def list_snapshots(db: Any, name: str, period: str) -> list[Snapshot]:
    """Every filed version of a report for a period, oldest first."""
    conn = ensure_snapshot_table(db)
    rows = conn.execute(
        "SELECT name, period, version, status, raw, approved_at, changes FROM report_snapshots"
        " WHERE name = ? AND period = ? ORDER BY version",
        (name, period),
    )
    return [_snapshot(r) for r in rows]


def _snapshot(r: Any) -> Snapshot:
    raw = bytes(r[4])
    body = canonical.decode(raw) if r[3] == "revision_open" else decode_signed(raw).body
    return Snapshot(r[0], r[1], r[2], r[3], raw, r[5], json.loads(r[6] or "[]"), body)


def verify_snapshot(snapshot: Snapshot | bytes, key: VerifyKey) -> None:
    """Return None if ``key`` signed this snapshot, else raise.

    Raises:
        protocol.SignatureError: a wrong key or a changed byte.
        protocol.MalformedError: not a signed report snapshot (an open revision is not
            signed yet).
    """
    raw = snapshot.raw if isinstance(snapshot, Snapshot) else snapshot
    decode_signed(raw, expect_type=SNAPSHOT_TYPE).verify(key)


def submit_snapshot(
    db: Any, report: Report, *, statistician: str, key: SigningKey, now: datetime
) -> Snapshot:
    """File ``report`` as a signed snapshot by ``statistician`` (status ``submitted``).

    The first submission is version 1. Before approval it may be resubmitted (same
    version, replaced); an open revision is submitted under its own version.

    Raises:
        SnapshotClosed: the newest version is approved (late data opens a revision).
        ValidationError: no statistician named.
    """
    statistician = _need_name("statistician", statistician)
    conn = ensure_snapshot_table(db)
    filed = list_snapshots(conn, report.name, report.period.text)
    latest = filed[-1] if filed else None
    if latest is not None and latest.status == "approved":
        raise SnapshotClosed(
            f"{report.name} {report.period.text} 已审核，不能再修改；迟到数据请开启修订",
            f"{report.name} {report.period.text} is approved and closed; "
            "late data opens a revision (check_late_data).",
        )
    version = latest.version if latest is not None else 1
    body = {
        "v": 1,
        "type": SNAPSHOT_TYPE,
        "name": report.name,
        "period": report.period.text,
        "version": version,
        "title": report.title,
        **report.figures(),
        "statistician": statistician,
        "submitted_at": _stamp(now),
    }
    changes = latest.changes if latest is not None else []
    if changes:
        body["revises"] = version - 1
        body["changes"] = changes
    raw = sign_object(body, key)
    conn.execute(
        _UPSERT,
        (
            report.name,
            report.period.text,
            version,
            raw,
            "submitted",
            json.dumps(changes, ensure_ascii=False),
        ),
    )
    conn.commit()
    return list_snapshots(conn, report.name, report.period.text)[-1]


def approve(
    db: Any, name: str, period: str, *, head: str, key: SigningKey, now: datetime
) -> Snapshot:
    """Approve the submitted snapshot: add the head's name, sign again, close it.

    Raises:
        NotFoundError: nothing submitted for that report and period.
        ValidationError: no head named, or the head is the statistician (four eyes).
        protocol.SignatureError: the submitted snapshot was not signed by ``key``.
    """
    head = _need_name("head", head)
    conn = ensure_snapshot_table(db)
    filed = list_snapshots(conn, name, period)
    if not filed or filed[-1].status != "submitted":
        raise NotFoundError(
            f"{name} {period} 没有待审核的报表",
            f"There is no submitted snapshot of {name} {period} to approve.",
        )
    latest = filed[-1]
    verify_snapshot(latest, key.verify_key)
    if head == latest.body.get("statistician"):
        raise ValidationError(
            [
                FieldProblem(
                    "head",
                    "report.same_person",
                    "审核人不能与填报人为同一人",
                    "The approving head must not be the statistician who submitted it.",
                )
            ]
        )
    approved_at = _stamp(now)
    raw = sign_object({**latest.body, "approver": head, "approved_at": approved_at}, key)
    conn.execute(
        "UPDATE report_snapshots SET raw = ?, status = 'approved', approved_at = ?"
        " WHERE name = ? AND period = ? AND version = ?",
        (raw, approved_at, name, period, latest.version),
    )
    conn.commit()
    return list_snapshots(conn, name, period)[-1]


def check_late_data(db: Any, name: str, period: str) -> Snapshot | None:
    """Recompute a closed period's report; open (or update) a revision if it changed.

    Returns:
        The open revision, or None when the period is not closed or nothing changed.
    """
    conn = ensure_snapshot_table(db)
    filed = list_snapshots(conn, name, period)
    approved = [s for s in filed if s.status == "approved"]
    if not approved:
        return None
    closed, latest = approved[-1], filed[-1]
    figures = build_report(conn, name, period=parse_period(period)).figures()
    changes = diff_figures(closed.body, figures)
    if not changes:
        return None
    if latest.status != "approved" and _same(latest.body, figures):
        return latest
    version = closed.version + 1
    body = {
        "v": 1,
        "type": SNAPSHOT_TYPE,
        "name": name,
        "period": period,
        "version": version,
        "status": "revision_open",
        "revises": closed.version,
        **figures,
        "changes": changes,
    }
    conn.execute(
        _UPSERT,
        (
            name,
            period,
            version,
            canonical.encode(body),
            "revision_open",
            json.dumps(changes, ensure_ascii=False),
        ),
    )
    conn.commit()
    return list_snapshots(conn, name, period)[-1]


def diff_figures(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells whose value differs, as ``{row, column, was, now}`` (None: no such cell)."""
    a, b = _cells(old), _cells(new)
    return [
        {"row": row, "column": col, "was": a.get((row, col)), "now": b.get((row, col))}
        for row, col in sorted(a.keys() | b.keys())
        if a.get((row, col)) != b.get((row, col))
    ]


def _cells(figures: dict[str, Any]) -> dict[tuple[str, str], Any]:
    columns = figures["columns"]
    return {
        (row[0], col): value
        for row in figures["rows"]
        for col, value in zip(columns, row[1:], strict=True)
    }


def _same(body: dict[str, Any], figures: dict[str, Any]) -> bool:
    return body.get("columns") == figures["columns"] and body.get("rows") == figures["rows"]


def _stamp(now: datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _need_name(field: str, value: str) -> str:
    """A signer's name, NFC-normalised (canonical JSON accepts nothing else)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            [FieldProblem(field, "required", "必须填写姓名", "A name is required.")]
        )
    return unicodedata.normalize("NFC", value.strip())
