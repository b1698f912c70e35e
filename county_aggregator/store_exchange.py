# SPDX-License-Identifier: Apache-2.0
"""The county's exchange tables (``exchange_peers``, ``exchange_sent``,
``exchange_inbox``, county_aggregator/migrations.py ``m002_floating_exchange``): every
SQL statement on them lives here.

They are in the county node's database, not in merged.db: merged.db is a view of the
logs that may be thrown away and rebuilt, while what the county told another county,
and what it was told, exist nowhere else.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from county_aggregator.migrations import node_migrations
from county_aggregator.ruleset import ERASING_REASONS
from node.store.erasure import checkpoint

REPORT_VIEW = "exchange_records"
"""What Table 5 reads (county_aggregator/reports/plan.py ``source_of``): one row per
notification sent or received, shaped like ``merged_records``."""
_SCHEMA = "exchange"
BY_HAND_RECORD = "person"
"""``record_kind`` of a notification an officer made by hand (exchange/manual.py)."""


@dataclass(frozen=True)
class Sent:
    id: str
    to_county: str
    kind: str
    record_kind: str
    record_key: str
    village: str
    event_date: str
    due: str
    body: dict[str, Any]
    sent: int | None
    outcome: str | None
    on_time: bool | None
    sent_date: str | None = None
    """The day it was delivered: the peer's server kept it (``via`` http) or it was
    written to a file (``via`` file)."""
    via: str | None = None


@dataclass(frozen=True)
class Received:
    from_county: str
    id: str
    kind: str
    village: str
    event_date: str
    body: dict[str, Any]
    received_date: str
    due: str
    outcome: str | None
    answered_date: str | None
    cross_check: str | None
    answer_sent: int | None
    note: str | None


class ExchangeStore:
    """The exchange tables of one county node's database. Opening it brings the county's
    tables of that database up to date, so open it outside a transaction."""

    __slots__ = ("db",)

    def __init__(self, county_node_db: Database) -> None:
        self.db = county_node_db
        node_migrations.apply(county_node_db)

    # -- peers ---------------------------------------------------------------------

    def add_peer(self, county: str, url: str, certificate: bytes, at: int) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO exchange_peers (county, url, certificate, added) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (county) DO UPDATE SET url = excluded.url,"
                " certificate = excluded.certificate, added = excluded.added",
                [county, url, certificate, at],
            )

    def peer(self, county: str) -> tuple[str, bytes] | None:
        row = self.db.execute(
            "SELECT url, certificate FROM exchange_peers WHERE county = ?", [county]
        ).fetchone()
        return None if row is None else (str(row[0]), bytes(row[1]))

    def peers(self) -> list[tuple[str, str]]:
        return [
            (str(r[0]), str(r[1]))
            for r in self.db.execute("SELECT county, url FROM exchange_peers ORDER BY county")
        ]

    # -- sent ----------------------------------------------------------------------

    def add_notifications(self, rows: list[dict[str, Any]]) -> int:
        """Keep new outgoing notifications; an id already held is left as it is (the
        same event derived again after the next merge). Returns how many were new."""
        before = self.db.conn.total_changes
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO exchange_sent (id, to_county, kind, record_kind,"
                " record_key, person_key, village, event_date, due, body, made)"
                " VALUES (:id, :to_county, :kind, :record_kind, :record_key, :person_key,"
                " :village, :event_date, :due, :body, :made)",
                [dict(r, body=json.dumps(r["body"], ensure_ascii=False)) for r in rows],
            )
        return int(self.db.conn.total_changes - before)

    def refresh_unsent(
        self, rows: list[dict[str, Any]], by_hand: list[tuple[str, dict[str, Any] | None]]
    ) -> int:
        """Bring what is not sent yet in line with the merged records, in one transaction:
        ``rows`` are every notification the merged events call for now (a derived one not
        among them is withdrawn: deleted, as it never left the county; one among them
        takes its current body), ``by_hand`` the hand-made ones rebuilt from the card
        (None: withdrawn). A sent notification is never changed. Returns how many of
        ``rows`` were new."""
        wanted = {r["id"] for r in rows}
        encoded = [dict(r, body=json.dumps(r["body"], ensure_ascii=False)) for r in rows]
        with self.db.atomic():
            unsent = self.db.execute(
                "SELECT id FROM exchange_sent WHERE sent IS NULL AND record_kind != ?",
                [BY_HAND_RECORD],
            ).fetchall()
            gone = [(r[0],) for r in unsent if r[0] not in wanted]
            gone += [(nid,) for nid, now in by_hand if now is None]
            self.db.conn.executemany(
                "DELETE FROM exchange_sent WHERE id = ? AND sent IS NULL", gone
            )
            self.db.conn.executemany(
                "UPDATE exchange_sent SET to_county = :to_county, village = :village,"
                " body = :body WHERE id = :id AND sent IS NULL",
                [dict(now, id=nid, body=json.dumps(now["body"], ensure_ascii=False))
                 for nid, now in by_hand if now is not None],
            )  # fmt: skip
            self.db.conn.executemany(
                "UPDATE exchange_sent SET to_county = :to_county, record_key = :record_key,"
                " person_key = :person_key, village = :village, event_date = :event_date,"
                " due = :due, body = :body WHERE id = :id AND sent IS NULL",
                encoded,
            )
            cur = self.db.conn.executemany(
                "INSERT OR IGNORE INTO exchange_sent (id, to_county, kind, record_kind,"
                " record_key, person_key, village, event_date, due, body, made)"
                " VALUES (:id, :to_county, :kind, :record_kind, :record_key, :person_key,"
                " :village, :event_date, :due, :body, :made)",
                encoded,
            )
        return int(cur.rowcount)

    def sent(self, nid: str) -> Sent | None:
        row = self.db.execute(f"SELECT {_SENT} FROM exchange_sent WHERE id = ?", [nid]).fetchone()
        return None if row is None else _sent(row)

    def sent_all(self, *, unsent_only: bool = False) -> list[Sent]:
        where = " WHERE sent IS NULL" if unsent_only else ""
        rows = self.db.execute(f"SELECT {_SENT} FROM exchange_sent{where} ORDER BY due, id")
        return [_sent(r) for r in rows]

    def mark_sent(self, nid: str, at: int, day: str, via: str) -> None:
        """The peer kept it (HTTP 202) or it was written to a file: the first time counts."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE exchange_sent SET sent = ?, sent_date = ?, via = ?"
                " WHERE id = ? AND sent IS NULL",
                [at, day, via, nid],
            )

    def record_answer(
        self, nid: str, outcome: str, received: str, answered: str, due: str, on_time: bool,
        answer: dict[str, Any], at: int,
    ) -> bool:  # fmt: skip
        """The hukou place's answer to our notification; the first answer kept counts
        (a resent copy changes nothing). Returns whether it was new."""
        with self.db.atomic():
            cur = self.db.execute(
                "UPDATE exchange_sent SET outcome = ?, received_date = ?, answered_date = ?,"
                " answer_due = ?, on_time = ?, answer = ?, answer_at = ?"
                " WHERE id = ? AND outcome IS NULL AND sent IS NOT NULL",
                [outcome, received, answered, due, int(on_time),
                 json.dumps(answer, ensure_ascii=False), at, nid],
            )  # fmt: skip
        return bool(cur.rowcount)

    # -- retention -----------------------------------------------------------------

    def erase_bodies(self, erased_people: list[str], before: str) -> int:
        """Erase the personal data of the rows about a card erased for retention
        (``erased_people``: person keys, ``idn:<ID number>``) and of every row whose day
        (delivered, received; the event's while unsent) is before ``before``: her name,
        ID number and addresses (``body``, an inbox row's ``id_number`` and sealed
        ``message``) and the free text of answers. What Table 5 counts stays (kind,
        village, days, outcome, on time). Freed pages are overwritten (secure_delete) and
        the WAL emptied, so the data leaves the file. Returns how many rows were erased."""
        people = json.dumps(sorted(erased_people))
        with self.db.atomic():
            self.db.conn.execute("PRAGMA secure_delete = ON")
            self.db.execute(  # never sent: withdrawn, not kept as an empty message to send
                "DELETE FROM exchange_sent WHERE sent IS NULL AND"
                " (person_key IN (SELECT value FROM json_each(?)) OR event_date < ?)",
                [people, before],
            )
            sent = self.db.execute(
                "UPDATE exchange_sent SET body = '{}', answer = NULL, person_key = '',"
                " record_key = CASE WHEN record_kind = 'person' THEN '' ELSE record_key END"
                " WHERE body != '{}' AND"
                " (person_key IN (SELECT value FROM json_each(?))"
                " OR coalesce(sent_date, event_date) < ?)",
                [people, before],
            ).rowcount
            inbox = self.db.execute(
                "UPDATE exchange_inbox SET body = '{}', id_number = '', message = x'',"
                " note = NULL WHERE body != '{}' AND ('idn:' || id_number IN"
                " (SELECT value FROM json_each(?)) OR received_date < ?)",
                [people, before],
            ).rowcount
        if sent or inbox:
            checkpoint(self.db)
        return int(sent + inbox)

    # -- inbox ---------------------------------------------------------------------

    def keep(self, row: dict[str, Any]) -> bool:
        """Keep a received notification; the same (county, id) again is a duplicate."""
        with self.db.atomic():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO exchange_inbox (from_county, id, kind, village,"
                " id_number, event_date, body, message, received, received_date, due)"
                " VALUES (:from_county, :id, :kind, :village, :id_number, :event_date,"
                " :body, :message, :received, :received_date, :due)",
                dict(row, body=json.dumps(row["body"], ensure_ascii=False)),
            )
        return bool(cur.rowcount)

    def inbox(self, *, open_only: bool = False) -> list[Received]:
        where = " WHERE outcome IS NULL" if open_only else ""
        rows = self.db.execute(
            f"SELECT {_INBOX} FROM exchange_inbox{where} ORDER BY due, from_county, id"
        )
        return [_received(r) for r in rows]

    def find(self, nid: str) -> list[Received]:
        """Received notifications whose id starts with ``nid`` (an officer types a prefix)."""
        rows = self.db.execute(
            f"SELECT {_INBOX} FROM exchange_inbox WHERE id >= ? AND id < ? ORDER BY id",
            [nid, nid + "g"],
        )
        return [_received(r) for r in rows]

    def answer(
        self, from_county: str, nid: str, outcome: str, answered: str, cross_check: str,
        note: str, by: str, on_time: bool,
    ) -> bool:  # fmt: skip
        """Our answer to a received notification; an answered one keeps its answer."""
        with self.db.atomic():
            cur = self.db.execute(
                "UPDATE exchange_inbox SET outcome = ?, answered_date = ?, cross_check = ?,"
                " note = ?, answered_by = ?, on_time = ?"
                " WHERE from_county = ? AND id = ? AND outcome IS NULL",
                [outcome, answered, cross_check, note, by, int(on_time), from_county, nid],
            )
        return bool(cur.rowcount)

    def answers_to_send(self) -> list[Received]:
        rows = self.db.execute(
            f"SELECT {_INBOX} FROM exchange_inbox WHERE outcome IS NOT NULL"
            " AND answer_sent IS NULL ORDER BY from_county, id"
        )
        return [_received(r) for r in rows]

    def mark_answer_sent(self, from_county: str, nid: str, at: int) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE exchange_inbox SET answer_sent = ?"
                " WHERE from_county = ? AND id = ? AND answer_sent IS NULL",
                [at, from_county, nid],
            )


_SENT = (
    "id, to_county, kind, record_kind, record_key, village, event_date, due, body, sent,"
    " outcome, on_time, sent_date, via"
)
_INBOX = (
    "from_county, id, kind, village, event_date, body, received_date, due, outcome,"
    " answered_date, cross_check, answer_sent, note"
)


def _sent(r: Any) -> Sent:
    on_time = None if r[11] is None else bool(r[11])
    return Sent(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        json.loads(r[8]),
        r[9],
        r[10],
        on_time,
        r[12],
        r[13],
    )


def _received(r: Any) -> Received:
    return Received(
        r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8], r[9], r[10], r[11], r[12]
    )


def attach_for_reports(conn: sqlite3.Connection, county_node_db: Path, key: bytes) -> None:
    """Give a report connection (merged.db, read-only) the exchange records Table 5
    counts: the county node's database attached read-only under the same key, and a
    temporary view of its exchange tables shaped like ``merged_records``.

    A notification sent counts on the day it was first delivered, in the village where
    the woman lives; one received, on the day it arrived, in her hukou village.
    ``answered`` is ``on_time`` or ``late`` once answered (for a sent one: the hukou
    place answered within 5 working days of its receipt; for a received one: we did).
    """
    target = f"file:{county_node_db}?mode=ro"
    if key:
        conn.execute(f"ATTACH DATABASE ? AS {_SCHEMA} KEY \"x'{key.hex()}'\"", [target])
    else:
        conn.execute(f"ATTACH DATABASE ? AS {_SCHEMA}", [target])
    answered = "CASE WHEN outcome IS NULL THEN NULL WHEN on_time = 1 THEN 'on_time' ELSE 'late' END"
    conn.execute(
        f"""
        CREATE TEMP VIEW IF NOT EXISTS {REPORT_VIEW} AS
        SELECT 'floating_notification' AS kind, 'sent:' || id AS key,
               json_object('direction', 'sent', 'day', sent_date, 'answered', {answered},
                           'event', kind, 'county', to_county) AS data,
               '[]' AS origins, village, NULL AS retired, made AS first_hlc,
               made AS last_hlc
        FROM {_SCHEMA}.exchange_sent WHERE sent IS NOT NULL
        UNION ALL
        SELECT 'floating_notification', 'received:' || from_county || ':' || id,
               json_object('direction', 'received', 'day', received_date,
                           'answered', {answered}, 'event', kind, 'county', from_county),
               '[]', village, NULL, received, received
        FROM {_SCHEMA}.exchange_inbox
        """
    )


def empty_report_view(conn: sqlite3.Connection) -> None:
    """A report built from merged.db alone (a test, a benchmark) has no exchange records:
    the view is there and empty, so the notification columns say 0 for that reason."""
    conn.execute(
        f"CREATE TEMP VIEW IF NOT EXISTS {REPORT_VIEW} AS SELECT kind, key, data, origins,"
        " village, retired, first_hlc, last_hlc FROM merged_records WHERE 0"
    )


def has_report_view(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_temp_master WHERE type = 'view' AND name = ?", [REPORT_VIEW]
    ).fetchone()
    return row is not None


def floating_in_events(
    conn: sqlite3.Connection, kind: str, subject: str, county: str
) -> Iterator[tuple[str, str, dict[str, Any], str, dict[str, Any]]]:
    """Live merged events of ``kind`` in ``county`` whose subject (the field ``subject``
    names) is a live card of a woman who floated in with a hukou in another county:
    ``(key, village, data, person key, person data)``; exchange/derive.py decides the rest."""
    sql = f"""
        SELECT e.key, e.village, e.data, p.key, p.data
        FROM merged_records AS e
        JOIN merged_records AS p
          ON p.kind = 'person' AND p.key = json_extract(e.data, '$.{subject}')
        WHERE e.kind = ? AND e.retired IS NULL AND p.retired IS NULL
          AND substr(e.village, 1, 6) = ?
          AND json_extract(p.data, '$.sex') = 'F'
          AND json_extract(p.data, '$.floating_status') = 'flowed_in'
          AND typeof(json_extract(p.data, '$.hukou_code')) = 'text'
          AND substr(json_extract(p.data, '$.hukou_code'), 1, 6) != ?
        ORDER BY e.key
    """
    for key, village, data, pkey, pdata in conn.execute(sql, [kind, county, county]):
        yield key, village, json.loads(data), pkey, json.loads(pdata)


def merged_card(conn: sqlite3.Connection, key: str) -> tuple[str, dict[str, Any]] | None:
    """The live merged person card ``key``: (its village, its data), or None."""
    row = conn.execute(
        "SELECT village, data FROM merged_records"
        " WHERE kind = 'person' AND key = ? AND retired IS NULL",
        [key],
    ).fetchone()
    return None if row is None else (str(row[0]), json.loads(row[1]))


def erased_cards(conn: sqlite3.Connection) -> list[str]:
    """The person keys of the merged cards retired for retention (their payloads erased
    in the logs, SPEC §5.4): the exchange erases what it holds of them too."""
    rows = conn.execute(
        "SELECT key FROM merged_records WHERE kind = 'person'"
        " AND retired IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(ERASING_REASONS))],
    )
    return [str(k) for (k,) in rows]
