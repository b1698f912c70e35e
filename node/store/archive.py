# SPDX-License-Identifier: Apache-2.0
"""Printed registers and reports, archived as printed, and the audit of every print.

A register is a view of the records, but what the village signed and filed is the
paper: the village keeps its registers and reports long-term (篇3 第30条), so each print
is kept as it was printed (domain.md section 2): the printed bytes, the register's data
as canonical JSON, and a header signed with the node's key that names both by hash.
What was printed is what is kept; a later correction of a record does not change it.

Printing is where a register's personal data leaves the screen, so the print and its
audit row are written here, in one transaction, and a page or the CLI cannot print
without both (issue 11 item 7).

Retention (domain.md section 4): at the village everything is kept long-term but the
monthly change slips (two years); the township keeps half-year and annual reports ten
years and monthly reports and registers five. At the end, the contents are destroyed
under control; the signed header stays, saying what was kept and until when.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from node.errors import NotFoundError
from node.store.store import NodeStore
from protocol import Role, canonical, decode_signed, sign_object

ARCHIVE_TYPE = "printed_register"
MONTHLY_CHANGES = "monthly_change_report"


@dataclass(frozen=True)
class Archived:
    """One print as kept; ``content``/``output`` are None once destroyed."""

    id: int
    name: str
    period: str
    printed_at: str
    actor: str
    purpose: str
    format: str
    keep_until: str | None
    destroyed_at: str | None
    signed: bytes
    content: bytes | None
    output: bytes | None


def keep_years(role: Role, name: str, period: str) -> int | None:
    """Years a print is kept, None for long-term (domain.md section 4, 篇3 第30条,
    篇4 第45条)."""
    if role is Role.TOWNSHIP:
        return 10 if period.endswith(("H1", "Y")) else 5
    return 2 if name == MONTHLY_CHANGES else None


def keep(
    store: NodeStore,
    *,
    name: str,
    period: str,
    title: str,
    content: dict[str, Any],
    output: bytes,
    fmt: str,
    actor: str,
    purpose: str,
    now: datetime | None = None,
) -> int:
    """Archive one print and audit it, in one transaction; return the archive id.

    Args:
        content: the register as printed (canonical-JSON data: title, columns, rows).
        output: the bytes printed (the CSV or .xlsx file, or the screen's text).
    """
    now = now or datetime.now(UTC)
    printed_at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    years = keep_years(store.node.role, name, period)
    keep_until = None if years is None else _years_after(now.date(), years).isoformat()
    data = canonical.encode(content)
    header = {
        "v": 1,
        "type": ARCHIVE_TYPE,
        "node": str(store.node),
        "name": name,
        "period": period,
        "title": title,
        "format": fmt,
        "printed_at": printed_at,
        "content_sha256": hashlib.sha256(data).hexdigest(),
        "output_sha256": hashlib.sha256(output).hexdigest(),
        "keep_until": keep_until or "long_term",
    }
    signed = sign_object(header, store.identity.signing)
    with store.bulk():
        cursor = store.db.execute(
            "INSERT INTO archives (name, period, printed_at, actor, purpose, format, signed,"
            " content, output, keep_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, period, printed_at, actor, purpose, fmt, signed, data, output, keep_until],
        )
        archive_id = int(cursor.lastrowid or 0)
        store.audit(actor, print_action(name), name, period, purpose)
    return archive_id


def print_action(name: str) -> str:
    """The audit action of printing ``name``: the change report is a report."""
    return "print_report" if name == MONTHLY_CHANGES else "print_register"


def get(store: NodeStore, archive_id: int) -> Archived:
    """One archived print.

    Raises:
        NotFoundError: no such archive.
    """
    row = store.db.execute(
        "SELECT id, name, period, printed_at, actor, purpose, format, keep_until,"
        " destroyed_at, signed, content, output FROM archives WHERE id = ?",
        [archive_id],
    ).fetchone()
    if row is None:
        raise NotFoundError(f"没有编号为 {archive_id} 的存档", f"no archive {archive_id}")
    aid, name, period, printed_at, actor, purpose, fmt, keep_until, destroyed_at = row[:9]
    signed, content, output = row[9:]
    return Archived(
        id=int(aid),
        name=str(name),
        period=str(period),
        printed_at=str(printed_at),
        actor=str(actor),
        purpose=str(purpose),
        format=str(fmt),
        keep_until=keep_until,
        destroyed_at=destroyed_at,
        signed=bytes(signed),
        content=None if content is None else bytes(content),
        output=None if output is None else bytes(output),
    )


def listing(store: NodeStore, name: str | None = None) -> list[Archived]:
    """Every archived print (of register ``name``), oldest first."""
    sql = "SELECT id FROM archives" + (" WHERE name = ?" if name else "") + " ORDER BY id"
    return [get(store, int(r[0])) for r in store.db.execute(sql, [name] if name else [])]


def verify(store: NodeStore, archive_id: int) -> None:
    """Return None if the archive is as printed: the node's signature over its header,
    and the kept content and output equal to the hashes it names.

    Raises:
        protocol.SignatureError: the header was not signed by this node.
        ValueError: the kept bytes differ from what was signed.
    """
    archived = get(store, archive_id)
    signed = decode_signed(archived.signed, expect_type=ARCHIVE_TYPE)
    signed.verify(store.identity.signing.verify_key)
    body = signed.body
    for field, held in (("content_sha256", archived.content), ("output_sha256", archived.output)):
        if held is not None and hashlib.sha256(held).hexdigest() != body[field]:
            raise ValueError(f"archive {archive_id}: kept bytes differ from the signed {field}")


def due(store: NodeStore, today: date) -> list[Archived]:
    """Prints whose retention ended by ``today`` and that are not destroyed yet."""
    rows = store.db.execute(
        "SELECT id FROM archives WHERE destroyed_at IS NULL AND keep_until IS NOT NULL"
        " AND keep_until <= ? ORDER BY id",
        [today.isoformat()],
    )
    return [get(store, int(r[0])) for r in rows]


def destroy(store: NodeStore, ids: list[int], today: date, *, actor: str) -> int:
    """Destroy the contents of the named prints whose retention ended (the signed header
    stays, saying what was kept); return how many. Audited, and overwritten on disk."""
    chosen = [a.id for a in due(store, today) if a.id in set(ids)]
    if not chosen:
        return 0
    with store.bulk():
        store.db.conn.execute("PRAGMA secure_delete = ON")
        for archive_id in chosen:
            store.db.execute(
                "UPDATE archives SET content = NULL, output = NULL, destroyed_at = ? WHERE id = ?",
                [today.isoformat(), archive_id],
            )
            store.audit(actor, "destroy_archive", "archive", str(archive_id), "retention ended")
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return len(chosen)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
