# SPDX-License-Identifier: Apache-2.0
"""The node's SQLite schema, as sqlite-utils migrations (applied in order, never edited).

``log`` is the truth: the node's own change log, one row per entry. ``records`` is a
view of it kept in step inside the same transaction as each entry, so a rebuild from
the log must reproduce it exactly (tests/node/test_store_rebuild.py proves it).
"""

from __future__ import annotations

import json
import time

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("renkou-node")


@migrations()
def m001_core(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE node_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
        """
    )
    db.execute(
        """
        CREATE TABLE log (
            epoch INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            hlc INTEGER NOT NULL,
            ruleset INTEGER NOT NULL,
            flags INTEGER NOT NULL,
            prev_hash BLOB NOT NULL,
            payload BLOB,
            payload_hash BLOB NOT NULL,
            payload_len INTEGER NOT NULL,
            entry_hash BLOB NOT NULL,
            PRIMARY KEY (epoch, seq)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE records (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            data TEXT NOT NULL,
            versions TEXT NOT NULL,
            retired TEXT,
            created_seq INTEGER NOT NULL,
            updated_seq INTEGER NOT NULL,
            updated_hlc INTEGER NOT NULL,
            PRIMARY KEY (kind, id)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        "CREATE INDEX records_person_id_number ON records (json_extract(data, '$.id_number'))"
        " WHERE kind = 'person'"
    )
    db.execute(
        """
        CREATE TABLE audit (
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            kind TEXT NOT NULL,
            record_id TEXT NOT NULL,
            purpose TEXT NOT NULL
        )
        """
    )


@migrations()
def m002_sync(db: Database) -> None:
    """What a node knows of others: certificates, what it holds of their logs, acks."""
    db.execute(
        "CREATE TABLE certs (node TEXT NOT NULL, serial INTEGER NOT NULL,"
        " raw BLOB NOT NULL, PRIMARY KEY (node, serial)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE frontier (log TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
        " head BLOB NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID"
    )
    db.execute(
        """
        CREATE TABLE inbound (
            message_id BLOB PRIMARY KEY,
            log TEXT NOT NULL,
            first_seq INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            raw BLOB NOT NULL,
            received_at INTEGER NOT NULL,
            forwarded_at INTEGER
        ) WITHOUT ROWID
        """
    )
    db.execute(
        "CREATE INDEX inbound_pending ON inbound (log, first_seq) WHERE forwarded_at IS NULL"
    )
    db.execute(
        """
        CREATE TABLE received_entries (
            log TEXT NOT NULL, seq INTEGER NOT NULL, hlc INTEGER NOT NULL,
            ruleset INTEGER NOT NULL, flags INTEGER NOT NULL, payload BLOB,
            payload_hash BLOB NOT NULL, entry_hash BLOB NOT NULL,
            PRIMARY KEY (log, seq)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE peer_acks (
            peer TEXT NOT NULL, log TEXT NOT NULL, seq INTEGER NOT NULL, head BLOB NOT NULL,
            raw BLOB NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (peer, log)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        "CREATE TABLE outbox (child TEXT NOT NULL, n INTEGER NOT NULL, raw BLOB NOT NULL,"
        " PRIMARY KEY (child, n)) WITHOUT ROWID"
    )
    db.execute("CREATE TABLE inbox_cursor (peer TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    db.execute(
        """
        CREATE TABLE quarantine (
            at INTEGER NOT NULL, log TEXT NOT NULL, first_seq INTEGER NOT NULL,
            last_seq INTEGER NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL, raw BLOB
        )
        """
    )
    db.execute(
        "CREATE TABLE alerts (at INTEGER NOT NULL, kind TEXT NOT NULL, log TEXT NOT NULL,"
        " detail TEXT NOT NULL, proof BLOB)"
    )


@migrations()
def m003_rejections_and_outcomes(db: Database) -> None:
    """Refusals of our batches by a peer (was created on first use by node/sync; IF NOT
    EXISTS keeps stores that already have it), and what the county's merge made of our
    entries (county_aggregator/outcomes.py), one row per entry and field that did not
    simply apply, kept until a later notice for the same range replaces it."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS sync_rejections (peer TEXT NOT NULL, log TEXT NOT NULL,"
        " first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, code TEXT NOT NULL,"
        " reason TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (peer, log)) WITHOUT ROWID"
    )
    db.execute(
        """
        CREATE TABLE county_outcomes (
            log TEXT NOT NULL, seq INTEGER NOT NULL, field TEXT NOT NULL,
            outcome TEXT NOT NULL, code TEXT NOT NULL, record TEXT NOT NULL,
            conflict TEXT NOT NULL, at INTEGER NOT NULL,
            PRIMARY KEY (log, seq, field, outcome)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE county_outcome_ranges (
            log TEXT NOT NULL PRIMARY KEY, last_seq INTEGER NOT NULL,
            applied INTEGER NOT NULL, at INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )


@migrations()
def m004_advisories(db: Database) -> None:
    """Conflict advisories taken (node/advisories.py).

    ``advisories_taken``: at the node the county advised, one row per advisory op it
    received, keyed by the county entry (log, seq) and op index, so an advisory is
    applied exactly once however often it is delivered; ``outcome`` is ``applied`` (our
    entry ``local_seq`` recorded it) or ``refused`` (``code``/``reason`` say why). No
    values are kept: the change itself is in our log.

    The one edit ever made to an applied migration: this one also created
    ``advisories_issued``, which only the county aggregator uses. That table is the
    county's now, created by the county's migration set for the county node's database
    (county_aggregator/migrations.py, ``CREATE TABLE IF NOT EXISTS``), so a store that
    ran this migration before keeps the table and its rows, and a new one gets it only
    when the county uses it. (Stores of other nodes keep an empty leftover.)
    """
    db.execute(
        """
        CREATE TABLE advisories_taken (
            log TEXT NOT NULL, seq INTEGER NOT NULL, i INTEGER NOT NULL,
            conflict TEXT NOT NULL, kind TEXT NOT NULL, record TEXT NOT NULL,
            field TEXT NOT NULL, outcome TEXT NOT NULL, code TEXT NOT NULL,
            reason TEXT NOT NULL, local_log TEXT NOT NULL, local_seq INTEGER NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (log, seq, i)
        ) WITHOUT ROWID
        """
    )


@migrations()
def m005_operator_accounts(db: Database) -> None:
    """Who may sign in to this node's pages (node/store/accounts.py owns both tables).

    ``operators``: one row per account; ``password_hash`` is an Argon2id hash (the
    password itself is never stored), ``failed``/``locked_until`` count wrong passwords
    and hold the lockout. ``operator_sessions``: one row per signed-in browser, keyed by
    the SHA-256 of the token its cookie carries (a copied database cannot be used to
    sign in), ended at sign-out, when idle too long, or when the account is disabled.
    """
    db.execute(
        """
        CREATE TABLE operators (
            name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
            password_set_at INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE operator_sessions (
            token_hash BLOB PRIMARY KEY, operator TEXT NOT NULL, created_at INTEGER NOT NULL,
            last_seen INTEGER NOT NULL, ended_at INTEGER
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator)")


@migrations()
def m006_inbound_by_log(db: Database) -> None:
    """Relayed envelopes by log and range (node/store/holdings.py): a relay looks up the
    kept batch that claims or covers a seq for every batch it receives; the partial
    index of m002 holds only envelopes not yet forwarded."""
    db.execute("CREATE INDEX inbound_by_log ON inbound (log, first_seq, last_seq)")


@migrations()
def m007_printed_archives(db: Database) -> None:
    """Registers and reports as printed (node/store/archive.py): the signed header, the
    register's data and the printed bytes, kept until ``keep_until`` (NULL: long-term);
    once destroyed only the header and ``destroyed_at`` remain."""
    db.execute(
        """
        CREATE TABLE archives (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL, period TEXT NOT NULL, printed_at TEXT NOT NULL,
            actor TEXT NOT NULL, purpose TEXT NOT NULL, format TEXT NOT NULL,
            signed BLOB NOT NULL, content BLOB, output BLOB,
            keep_until TEXT, destroyed_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX archives_due ON archives (keep_until) WHERE destroyed_at IS NULL")


@migrations()
def m008_peer_certs(db: Database) -> None:
    """Which certificates a peer holds, as far as we know (node/store/certs.py): our
    own, which the parent kept at a handshake, and our children's, which we introduced
    to it. A certificate is sent only to a peer not known to hold it (SPEC.md §15.4,
    §15.6); a peer that lost one (restored from a backup) says so, and it is sent again."""
    db.execute(
        "CREATE TABLE peer_certs (peer TEXT NOT NULL, node TEXT NOT NULL,"
        " serial INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (peer, node, serial))"
        " WITHOUT ROWID"
    )


@migrations()
def m009_hello_nonces(db: Database) -> None:
    """The nonces of the hellos that opened sessions (node/store/nonces.py), each kept
    until its hello could no longer be fresh: in the database, so a server restarted
    inside that time still refuses a recorded hello (issue 13, fact 13)."""
    db.execute(
        "CREATE TABLE hello_nonces (nonce BLOB PRIMARY KEY, until INTEGER NOT NULL) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX hello_nonces_until ON hello_nonces (until)")


@migrations()
def m010_rejections_told_by(db: Database) -> None:
    """Who told us of a refusal, when it is not the refusing node itself: a relay's
    notice that the county refused our batch is signed by the relay, so it is shown as
    the relay's word, never as the county's (issue 13, fact 7). NULL: the refusing
    node answered us itself, on an authenticated session."""
    db.execute("ALTER TABLE sync_rejections ADD COLUMN told_by TEXT")


@migrations()
def m011_audit_chain(db: Database) -> None:
    """Each audit row chained to the one before it (node/store/audit.py), so a row
    changed or removed from the middle of the trail shows (issue 13, item 8); the rows
    already there are chained in their order."""
    from node.store.audit_chain import chain_all

    db.execute("ALTER TABLE audit ADD COLUMN chain BLOB")
    chain_all(db)


@migrations()
def m012_inbound_unwrapped(db: Database) -> None:
    """What a township still holds of each relayed batch (node/store/holdings.py):
    ``unwrapped_at``, when it took its own wrap out of a copy the county acknowledged
    (from then on the copy opens only for the county and the origin); ``cut_at``, when
    that copy expired and only its hop fields, batch header and origin signature were
    kept, for the fork checks (issue 13, item 1; SPEC.md §6.3.2)."""
    db.execute("ALTER TABLE inbound ADD COLUMN unwrapped_at INTEGER")
    db.execute("ALTER TABLE inbound ADD COLUMN cut_at INTEGER")
    # Each round looks only at the few rows still to change, never at every batch kept.
    db.execute(
        "CREATE INDEX inbound_readable ON inbound (log, last_seq) WHERE unwrapped_at IS NULL"
    )
    db.execute(
        "CREATE INDEX inbound_unwrapped ON inbound (log)"
        " WHERE unwrapped_at IS NOT NULL AND cut_at IS NULL"
    )


@migrations()
def m013_recovery(db: Database) -> None:
    """Recovery from upstream (node/store/recovery.py, SPEC.md §8.10): the cards a
    snapshot brought back, the base the records are built on from then on; and the
    children's requests a relay keeps until it has handed them to its parent."""
    db.execute(
        """
        CREATE TABLE recovered_records (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            data TEXT NOT NULL,
            versions TEXT NOT NULL,
            retired TEXT,
            created_seq INTEGER NOT NULL,
            updated_seq INTEGER NOT NULL,
            updated_hlc INTEGER NOT NULL,
            PRIMARY KEY (kind, id)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        "CREATE TABLE recovery_requests (id TEXT PRIMARY KEY, node TEXT NOT NULL,"
        " raw BLOB NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID"
    )


@migrations()
def m014_versions_name_their_epoch(db: Database) -> None:
    """A record's versions name their epoch once the node is past epoch 1 (issue 12: after
    ``new-epoch`` an edit of a card recorded in the old epoch sent a bare seq, which names
    an entry of the new log). Stores that never left epoch 1 keep their rows as they
    are; the others are replayed from their log (node/store/apply.py), on the base of a
    recovery if there was one (node/store/recovery.py)."""
    db.execute("ALTER TABLE records ADD COLUMN updated_epoch INTEGER NOT NULL DEFAULT 1")
    if db.execute("SELECT 1 FROM log WHERE epoch > 1 LIMIT 1").fetchone() is not None:
        from node.store.apply import replay_records
        from node.store.recovery import Recovery

        replay_records(db, Recovery(db).replay_into)


@migrations()
def m015_person_hukou_address(db: Database) -> None:
    """The cards of one hukou address (one household, node/households.py): every write
    of a head's card looks them up, so an import of a village stays linear. (m015: the
    county-side epoch migration of the same session takes m014.)"""
    db.execute(
        "CREATE INDEX records_person_hukou_address"
        " ON records (json_extract(data, '$.hukou_address')) WHERE kind = 'person'"
    )


@migrations()
def m016_township_review(db: Database) -> None:
    """A township's review store (node/store/review.py, SPEC.md §6.3.2): what its monthly
    review of its villages' changes needs, copied out of a batch before it takes its own
    wrap out, and kept only for the review window. ``fields`` holds the new values of
    the fields the review needs alone (node/review/fields.py); ``month`` (Asia/Shanghai)
    is what the window purges by."""
    db.execute(
        """
        CREATE TABLE review_changes (
            village TEXT NOT NULL,
            log TEXT NOT NULL,
            seq INTEGER NOT NULL,
            op INTEGER NOT NULL,
            month TEXT NOT NULL,
            at_ms INTEGER NOT NULL,
            kind TEXT NOT NULL,
            record_id TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT,
            fields TEXT NOT NULL,
            taken_at INTEGER NOT NULL,
            PRIMARY KEY (log, seq, op)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX review_changes_month ON review_changes (month, village)")


@migrations()
def m017_envelopes_of_version_3(db: Database) -> None:
    """Envelope version 3 (SPEC.md §1.3, §6.8): a relay's kept copies of version 2 can no
    longer be handed on (every parent refuses ``RKV2`` as unsupported) nor read for the
    fork checks (their batch headers are of version 1), so they go. At its next round the
    relay finds its copies stopping at its parent's head, takes its head back there
    (§15.8), and each child sends the range again, as version 3, from its own log.

    A copy the county had not acknowledged may be the only one left (a village PC put
    back from an older backup since), so it does not go silently: an alert of kind
    ``upgrade_dropped`` names its log and range (``renkou node status``); the village's
    own status shows whether it sent the range again. (Not released before this session,
    so edited in place. m016 is the township review store.)"""
    at = int(time.time() * 1000)
    unconfirmed = db.execute(
        "SELECT i.log, i.first_seq, i.last_seq, i.message_id FROM inbound AS i"
        " WHERE CAST(substr(i.raw, 1, 4) AS BLOB) = X'524B5632' AND i.last_seq > COALESCE("
        "(SELECT max(a.seq) FROM peer_acks AS a WHERE a.log = i.log"
        " AND a.peer LIKE 'county:%'), 0) ORDER BY i.log, i.first_seq"
    ).fetchall()
    for log, first, last, message_id in unconfirmed:
        detail = {
            "detail": f"a version-2 copy of {log} {first}..{last} the county had not"
            " acknowledged was dropped at the upgrade to envelope version 3: the village"
            " sends it again if it still holds it (see its status)",
            "first_seq": first,
            "last_seq": last,
            "message_id": bytes(message_id).hex(),
        }
        db.execute(
            "INSERT INTO alerts (at, kind, log, detail, proof)"
            " VALUES (?, 'upgrade_dropped', ?, ?, NULL)",
            [at, log, json.dumps(detail, ensure_ascii=False)],
        )
    db.execute("DELETE FROM inbound WHERE CAST(substr(raw, 1, 4) AS BLOB) = X'524B5632'")  # "RKV2"


@migrations()
def m018_inbound_returned(db: Database) -> None:
    """Copies handed back to their origin (node/store/holdings.py, SPEC.md §6.5): a relay
    that cannot hand a child's copy on (past its expiry, or past a lost copy) keeps it,
    marked ``returned_at``, until the child has sent the range again or the county has
    it; the origin keeps the copies handed back to it the same way until it has sent
    them again. Neither counts in the frontier or is forwarded as a relay's own. (m018:
    the township review store of the same session takes m016, envelope v3 m017.)"""
    db.execute("ALTER TABLE inbound ADD COLUMN returned_at INTEGER")
    db.execute("CREATE INDEX inbound_returned ON inbound (log) WHERE returned_at IS NOT NULL")


@migrations()
def m019_evidence_kept_wrap_free(db: Database) -> None:
    """When a refused envelope kept as evidence was cut to its wrap-free form
    (node/store/evidence.py; SPEC.md §6.3.2): after ``RENKOU_EVIDENCE_DAYS``. (m019: the
    relay's returned copies of the same session take m018.)"""
    db.execute("ALTER TABLE quarantine ADD COLUMN cut_at INTEGER")
    db.execute("ALTER TABLE alerts ADD COLUMN cut_at INTEGER")
