# SPDX-License-Identifier: Apache-2.0
"""Schema of the county's merged database, and of the county's tables in the county
node's database (sqlite-utils migrations, never edited).

The merged database is separate from the county node's own store and can be thrown
away and rebuilt from the logs at any time. ``merged_records`` is the contract other
code reads (reports, pages, exports); everything else serves the merge.

Versions are stored per local record (one JSON document of every version of every
field it has, ``local_records.versions``) rather than as one row per field: a county
rebuild writes a million entries, and one row per record touched costs a quarter of
one row per field. The ``versions`` view gives the field-level table (kind, key,
field, value, log, seq, hlc, origin, authority, base), one row per field version, for
inspection and for SQL readers; authority there is computed from ``authority_rules``
and the record's claims (``hukou``, ``residence``: whether its own card names its origin
as that place), exactly as the merge ranks it.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("county")


@migrations()
def m001_merged(db: Database) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
    db.execute(
        """
        CREATE TABLE authority_rules (
            ruleset INTEGER NOT NULL, kind TEXT NOT NULL, field TEXT NOT NULL,
            field_group TEXT NOT NULL, rule TEXT NOT NULL,
            PRIMARY KEY (ruleset, kind, field)
        ) WITHOUT ROWID
        """
    )
    # A rowid table: its rows (every version of a record) are often larger than a
    # WITHOUT ROWID table keeps on its page, and overflow pages quadruple the file.
    db.execute(
        """
        CREATE TABLE local_records (
            origin TEXT NOT NULL, kind TEXT NOT NULL, rid TEXT NOT NULL,
            key TEXT NOT NULL, sig TEXT,
            hukou INTEGER NOT NULL, residence INTEGER NOT NULL,
            versions TEXT NOT NULL,
            PRIMARY KEY (origin, kind, rid)
        )
        """
    )
    db.execute("CREATE INDEX local_records_key ON local_records (kind, key)")
    db.execute("CREATE INDEX local_records_sig ON local_records (sig) WHERE sig IS NOT NULL")
    db.execute(
        """
        CREATE TABLE merged_records (
            kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, origins TEXT NOT NULL,
            village TEXT NOT NULL, retired TEXT, first_hlc INTEGER NOT NULL,
            last_hlc INTEGER NOT NULL,
            PRIMARY KEY (kind, key)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX merged_records_village ON merged_records (village, kind)")
    db.execute(
        """
        CREATE TABLE conflicts (
            id TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, field TEXT NOT NULL,
            rule TEXT NOT NULL,
            a_entry TEXT NOT NULL, b_entry TEXT NOT NULL,
            a_value TEXT NOT NULL, b_value TEXT NOT NULL,
            a_origin TEXT NOT NULL, b_origin TEXT NOT NULL,
            a_hlc INTEGER NOT NULL, b_hlc INTEGER NOT NULL,
            a_record TEXT NOT NULL, b_record TEXT NOT NULL,
            winner TEXT NOT NULL,
            PRIMARY KEY (id, kind, key, field)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX conflicts_key ON conflicts (kind, key)")
    db.execute(
        """
        CREATE TABLE advisories (
            log TEXT NOT NULL, seq INTEGER NOT NULL, i INTEGER NOT NULL,
            conflict TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
            field TEXT NOT NULL, value TEXT NOT NULL, for_node TEXT NOT NULL,
            record TEXT NOT NULL, hlc INTEGER NOT NULL,
            PRIMARY KEY (log, seq, i)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE rejected (
            log TEXT NOT NULL, seq INTEGER NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL,
            PRIMARY KEY (log, seq)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        "CREATE TABLE merged_upto (log TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID"
    )
    db.execute(
        """
        CREATE VIEW versions AS
        SELECT l.kind AS kind, l.key AS key, f.key AS field,
               json_extract(f.value, '$[0]') AS value,
               json_extract(l.versions, '$.l[' || json_extract(o.value, '$[0]') || ']') AS log,
               json_extract(o.value, '$[1]') AS seq,
               json_extract(o.value, '$[3]') AS hlc,
               l.origin AS origin,
               CASE r.rule
                   WHEN 'hukou' THEN 1 + l.hukou
                   WHEN 'residence' THEN 1 + l.residence
                   ELSE 2
               END AS authority,
               CASE
                   WHEN json_type(f.value, '$[1]') <> 'integer' THEN json_extract(f.value, '$[1]')
                   WHEN json_extract(f.value, '$[1]') = 0 THEN NULL
                   ELSE json_extract(l.versions, '$.l[' || json_extract(o.value, '$[0]') || ']')
                        || '/' || json_extract(f.value, '$[1]')
               END AS base,
               json_extract(o.value, '$[4]') AS ruleset,
               l.rid AS record
        FROM local_records AS l
        JOIN json_each(l.versions, '$.o') AS o
        JOIN json_each(o.value, '$[5]') AS f
        LEFT JOIN authority_rules AS r
            ON r.ruleset = json_extract(o.value, '$[4]') AND r.kind = l.kind AND r.field = f.key
        """
    )


@migrations()
def m002_epoch_links(db: Database) -> None:
    """Which log each epoch continues, and up to which seq (county_aggregator/lines.py:
    a local id names one record only within the history that wrote it). A merged
    database from before is rebuilt by the next merge (``meta.rebuild``, merge.py)."""
    db.execute(
        """
        CREATE TABLE epoch_links (
            origin TEXT NOT NULL, log TEXT NOT NULL PRIMARY KEY,
            prev_log TEXT NOT NULL, prev_seq INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX epoch_links_origin ON epoch_links (origin)")
    if db.execute("SELECT 1 FROM local_records LIMIT 1").fetchone() is not None:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('rebuild', 'epoch links')")


node_migrations = Migrations("county-node")
"""The county's own tables inside the county node's database (store_node.py applies
them): the county node's node.db is the node's (node/store/schema.py), but a table only
the county aggregator uses is the county's, created here and nowhere else."""


@node_migrations()
def m001_advisories_issued(db: Database) -> None:
    """Which advisory entries were put in whose outbox (county_aggregator/advisories.py).

    In the county node's database because the record and the outbox item commit in one
    transaction. IF NOT EXISTS: the node's own schema created this table until the
    county took it over, so a county node's store from before keeps it, with its rows.
    """
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS advisories_issued (
            log TEXT NOT NULL, seq INTEGER NOT NULL, for_node TEXT NOT NULL,
            child TEXT NOT NULL, at INTEGER NOT NULL,
            PRIMARY KEY (log, seq, for_node)
        ) WITHOUT ROWID
        """
    )


@node_migrations()
def m002_floating_exchange(db: Database) -> None:
    """The floating-population exchange with other counties (county_aggregator/exchange,
    SPEC.md §8.11), in the county node's database: it is the county's own record of
    what it told and was told, not a view of the logs, so it must outlive a rebuild of
    merged.db; node.db is encrypted at rest like merged.db (personal data: names, ID
    numbers, addresses).

    ``exchange_peers``: counties we exchange with (their county node's certificate,
    checked through our cross-certificate, and where to post). ``exchange_sent``: our
    notifications (one per event, id derived from the record) and the answers to them.
    ``exchange_inbox``: notifications received, and our answers.
    """
    db.execute(
        """
        CREATE TABLE exchange_peers (
            county TEXT PRIMARY KEY, url TEXT NOT NULL, certificate BLOB NOT NULL,
            added INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE exchange_sent (
            id TEXT PRIMARY KEY, to_county TEXT NOT NULL, kind TEXT NOT NULL,
            record_kind TEXT NOT NULL, record_key TEXT NOT NULL, person_key TEXT NOT NULL,
            village TEXT NOT NULL, event_date TEXT NOT NULL, due TEXT NOT NULL,
            body TEXT NOT NULL, made INTEGER NOT NULL,
            sent INTEGER, sent_date TEXT, via TEXT,
            outcome TEXT, received_date TEXT, answered_date TEXT, answer_due TEXT,
            on_time INTEGER, answer TEXT, answer_at INTEGER
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX exchange_sent_unsent ON exchange_sent (sent) WHERE sent IS NULL")
    db.execute(
        """
        CREATE TABLE exchange_inbox (
            from_county TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL,
            village TEXT NOT NULL, id_number TEXT NOT NULL, event_date TEXT NOT NULL,
            body TEXT NOT NULL, message BLOB NOT NULL, received INTEGER NOT NULL,
            received_date TEXT NOT NULL, due TEXT NOT NULL,
            outcome TEXT, answered_date TEXT, cross_check TEXT, note TEXT,
            answered_by TEXT, on_time INTEGER, answer_sent INTEGER,
            PRIMARY KEY (from_county, id)
        ) WITHOUT ROWID
        """
    )
