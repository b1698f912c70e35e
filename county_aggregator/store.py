# SPDX-License-Identifier: Apache-2.0
"""Every SQL statement of the county aggregator: the merged database and reads of the node's.

The merged database is rebuildable, so it trades durability for speed (``synchronous =
NORMAL`` in WAL: a power cut may lose the last chunk, never corrupt, and the cursor
lost with it makes the next merge redo exactly that chunk). Writes come in whole
chunks through :func:`write_chunk`, as ``executemany`` into WITHOUT ROWID tables.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from sqlite_utils import Database

from county_aggregator.migrations import migrations
from county_aggregator.ruleset import authority_rules_rows
from node.store import database, holdings

LocalRow = tuple[str, str, str, str, str | None, str]
"""``(origin, kind, rid, key, sig, versions)``."""

EntryRow = holdings.EntryRow
"""``(log, seq, hlc, ruleset, flags, payload, payload_hash)``: an entry as the merge reads it."""

_LOCAL_COLUMNS = "origin, kind, rid, key, sig, versions"
_UNHASHED = frozenset({"_sqlite_migrations"})


# -- the merged database ----------------------------------------------------------------


def open_merged(
    path: Path | str, *, key: bytes | None = None, busy_timeout_ms: int = 60_000
) -> Database:
    """Open (or create) a merged database file and bring its schema up to date.

    ``key``: the county node's database key (``identity.db_key``): merged.db holds every
    card of the county, so it is encrypted at rest like node.db, with SQLCipher under a
    key that exists only inside the sealed key file (node/store/database.py). None: the
    key this process already opened ``path`` under (a worker of a parallel rebuild),
    else plain. A plain merged.db of an older version is encrypted in place the first
    time it is opened with a key (database.encrypt_in_place).

    ``busy_timeout_ms``: how long a writer waits for the lock (the workers of a parallel
    rebuild wait for each other's whole share, so they wait longer).

    Raises:
        StorageError: ``store_key`` when the file does not open with ``key``.
    """
    key = database.key_of(path) if key is None else key
    if key and database.is_plain(path):
        database.encrypt_in_place(path, key)
    conn = database.connect(path, key)
    database.remember_key(path, key)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("PRAGMA temp_store = MEMORY")
    return init_merged(Database(conn))


def init_merged(db: Database) -> Database:
    """Apply the migrations and seed the published rulesets (idempotent)."""
    migrations.apply(db)
    with db.atomic():
        db.conn.executemany(
            "INSERT OR REPLACE INTO authority_rules (ruleset, kind, field, field_group, rule)"
            " VALUES (?, ?, ?, ?, ?)",
            authority_rules_rows(),
        )
    return db


def is_empty(db: Database) -> bool:
    """Nothing merged yet: no cursor, no record, no rejection."""
    for table in ("merged_upto", "local_records", "rejected"):
        if db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            return False
    return True


def clear(db: Database) -> None:
    """Delete every merged row (the rebuild starts from nothing)."""
    for table in (
        "local_records",
        "epoch_links",
        "merged_records",
        "conflicts",
        "advisories",
        "rejected",
        "merged_upto",
        "meta",
    ):
        db.execute(f"DELETE FROM {table}")


def get_meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def set_meta(db: Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])


def delete_meta(db: Database, key: str) -> None:
    db.execute("DELETE FROM meta WHERE key = ?", [key])


def counts(db: Database) -> dict[str, int]:
    """How many merged records and conflict items the store holds (for summaries)."""
    return {
        "records": db.execute("SELECT COUNT(*) FROM merged_records").fetchone()[0],
        "conflicts": db.execute("SELECT COUNT(DISTINCT id) FROM conflicts").fetchone()[0],
    }


def cursor(db: Database) -> dict[str, int]:
    """``merged_upto``: per log, the last seq merged."""
    return {log: seq for log, seq in db.execute("SELECT log, seq FROM merged_upto")}


def load_local(db: Database, origin: str, kind: str, rid: str) -> LocalRow | None:
    row = db.execute(
        f"SELECT {_LOCAL_COLUMNS} FROM local_records WHERE origin = ? AND kind = ? AND rid = ?",
        [origin, kind, rid],
    ).fetchone()
    return None if row is None else tuple(row)


def load_card(db: Database, origin: str, kind: str, card: str) -> list[LocalRow]:
    """Every line of one card: local records named ``card`` or ``card@<epoch>``
    (county_aggregator/lines.py; ``@`` sorts just before ``A``)."""
    return db.execute(
        f"SELECT {_LOCAL_COLUMNS} FROM local_records WHERE origin = ? AND kind = ?"
        " AND (rid = ? OR (rid >= ? AND rid < ?))",
        [origin, kind, card, card + "@", card + "A"],
    ).fetchall()


def links_of_origin(db: Database, origin: str) -> list[tuple[str, str, int]]:
    """``(log, the log it continues, the last seq it sees of it)`` of ``origin``'s epochs."""
    return db.execute(
        "SELECT log, prev_log, prev_seq FROM epoch_links WHERE origin = ?", [origin]
    ).fetchall()


def locals_of_origin(db: Database, origin: str) -> list[LocalRow]:
    return db.execute(
        f"SELECT {_LOCAL_COLUMNS} FROM local_records WHERE origin = ?", [origin]
    ).fetchall()


def locals_by_key(db: Database, kind: str, key: str) -> list[LocalRow]:
    return db.execute(
        f"SELECT {_LOCAL_COLUMNS} FROM local_records WHERE kind = ? AND key = ?", [kind, key]
    ).fetchall()


def locals_by_sig(db: Database, sig: str) -> list[LocalRow]:
    return db.execute(f"SELECT {_LOCAL_COLUMNS} FROM local_records WHERE sig = ?", [sig]).fetchall()


class Chunk(NamedTuple):
    """The rows of one ``write_chunk`` call, as the engine derives them."""

    local_rows: list[tuple[Any, ...]]
    merged_rows: list[tuple[Any, ...]]
    merged_deletes: list[tuple[str, str]]
    conflict_clears: list[tuple[str, str]]
    conflict_rows: list[tuple[Any, ...]]
    rejected_rows: list[tuple[str, int, str, str]]
    advisory_rows: list[tuple[Any, ...]]
    upto: dict[str, int]
    local_deletes: list[tuple[str, str, str]] = []
    link_rows: list[tuple[str, str, str, int]] = []


def write_chunk(db: Database, chunk: Chunk) -> None:
    """Write one chunk's results; the caller holds the transaction."""
    c = db.conn
    c.executemany(
        "DELETE FROM local_records WHERE origin = ? AND kind = ? AND rid = ?", chunk.local_deletes
    )
    c.executemany(
        "INSERT OR REPLACE INTO epoch_links (origin, log, prev_log, prev_seq) VALUES (?, ?, ?, ?)",
        chunk.link_rows,
    )
    c.executemany(
        "INSERT OR REPLACE INTO local_records (origin, kind, rid, key, sig, hukou, residence,"
        " versions) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        chunk.local_rows,
    )
    c.executemany("DELETE FROM merged_records WHERE kind = ? AND key = ?", chunk.merged_deletes)
    c.executemany(
        "INSERT OR REPLACE INTO merged_records (kind, key, data, origins, village, retired,"
        " first_hlc, last_hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        chunk.merged_rows,
    )
    c.executemany("DELETE FROM conflicts WHERE kind = ? AND key = ?", chunk.conflict_clears)
    c.executemany(
        "INSERT OR REPLACE INTO conflicts (id, kind, key, field, rule, a_entry, b_entry,"
        " a_value, b_value, a_origin, b_origin, a_hlc, b_hlc, a_record, b_record, winner)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        chunk.conflict_rows,
    )
    c.executemany(
        "INSERT OR REPLACE INTO rejected (log, seq, code, reason) VALUES (?, ?, ?, ?)",
        chunk.rejected_rows,
    )
    c.executemany(
        "INSERT OR REPLACE INTO advisories (log, seq, i, conflict, kind, key, field, value,"
        " for_node, record, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        chunk.advisory_rows,
    )
    c.executemany(
        "INSERT INTO merged_upto (log, seq) VALUES (?, ?) ON CONFLICT (log) DO UPDATE"
        " SET seq = max(seq, excluded.seq)",
        list(chunk.upto.items()),
    )


def database_file(db: Database) -> str | None:
    """The file behind ``db`` (None for an in-memory database)."""
    for _seq, name, path in db.execute("PRAGMA database_list"):
        if name == "main":
            return str(path) or None
    return None


def content_hash(db: Database) -> str:
    """SHA-256 over every table, each in primary-key order (equal hashes, equal stores).

    Only the migrations bookkeeping (which records when it ran) is left out.
    """
    digest = hashlib.sha256()
    names = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        if r[0] not in _UNHASHED
    ]
    for name in names:
        pk = [
            r[1]
            for r in sorted(db.execute(f"PRAGMA table_info({name})"), key=lambda r: r[5])
            if r[5]
        ]
        order = ", ".join(pk) if pk else "rowid"
        digest.update(f"\x00table {name}\n".encode())
        for row in db.execute(f"SELECT * FROM {name} ORDER BY {order}"):
            digest.update(json.dumps([_plain(v) for v in row], ensure_ascii=False).encode())
            digest.update(b"\n")
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


# -- reading the merged results ---------------------------------------------------------


def conflict_rows(db: Database, conflict: str | None = None) -> list[dict[str, Any]]:
    """Conflict rows (of one id, or all), ordered by id, kind, key and field."""
    sql = "SELECT * FROM conflicts" + (" WHERE id = ?" if conflict else "")
    cur = db.execute(sql + " ORDER BY id, kind, key, field", [conflict] if conflict else [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur]


def conflict_ids_with_prefix(db: Database, prefix: str) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT id FROM conflicts WHERE id >= ? AND id < ? ORDER BY id",
            [prefix, prefix + "\U0010ffff"],
        )
    ]


def advisory_rows(db: Database) -> list[dict[str, Any]]:
    cur = db.execute("SELECT * FROM advisories ORDER BY log, seq, i")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur]


def latest_version_hlc(db: Database, kind: str, key: str, field: str, origin: str) -> int:
    """The newest clock of a version of ``field`` that ``origin`` wrote into ``key``."""
    row = db.execute(
        "SELECT max(hlc) FROM versions WHERE kind = ? AND key = ? AND field = ? AND origin = ?",
        [kind, key, field, origin],
    ).fetchone()
    return int(row[0] or 0)


def merged_records(db: Database, kinds: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    """``(kind, key, data, origins, village, retired, first_hlc, last_hlc)`` of ``kinds``."""
    for kind in kinds:
        yield from db.execute(
            "SELECT kind, key, data, origins, village, retired, first_hlc, last_hlc"
            " FROM merged_records WHERE kind = ? ORDER BY key",
            [kind],
        )


def local_names(db: Database) -> Iterator[tuple[str, str, str, str | None]]:
    """``(key, origin, rid, name)`` of every person card, from its own latest name."""
    last: tuple[str, str, str] | None = None
    name = None
    for key, origin, rid, value in db.execute(
        "SELECT key, origin, record, value FROM versions WHERE kind = 'person'"
        " AND field = 'name' ORDER BY key, origin, record, hlc, log, seq"
    ):
        if last is not None and last != (key, origin, rid):
            yield (*last, name)
        last, name = (key, origin, rid), value
    if last is not None:
        yield (*last, name)


def rejected_rows(db: Database) -> list[tuple[str, int, str, str]]:
    return db.execute("SELECT log, seq, code, reason FROM rejected ORDER BY log, seq").fetchall()


# -- what the merge made of one origin's entries (outcomes.py) ----------------------------


def rejected_in(db: Database, log: str, first: int, last: int) -> list[tuple[int, str]]:
    """``(seq, code)`` of the entries ``first..last`` of ``log`` kept out of the merge."""
    return db.execute(
        "SELECT seq, code FROM rejected WHERE log = ? AND seq BETWEEN ? AND ?", [log, first, last]
    ).fetchall()


def versions_in(
    db: Database, origin: str, log: str, first: int, last: int
) -> list[tuple[str, str, str, Any, int, int, str]]:
    """``(kind, key, field, value, seq, hlc, record)`` of every field version the
    entries ``first..last`` of ``log`` wrote."""
    return db.execute(
        "SELECT kind, key, field, value, seq, hlc, record FROM versions"
        " WHERE origin = ? AND log = ? AND seq BETWEEN ? AND ?",
        [origin, log, first, last],
    ).fetchall()


def conflicts_of_log(db: Database, log: str) -> list[tuple[str, str, str, str, str, str]]:
    """``(id, field, rule, a_entry, b_entry, winner)`` of conflicts an entry of ``log``
    (``<log>/<seq>``) is a side of."""
    like = f"{log}/".replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
    return db.execute(
        "SELECT id, field, rule, a_entry, b_entry, winner FROM conflicts"
        " WHERE a_entry LIKE ? ESCAPE '!' OR b_entry LIKE ? ESCAPE '!'",
        [like, like],
    ).fetchall()


def merged_field(db: Database, kind: str, key: str, field: str) -> tuple[Any] | None:
    """The merged value of ``field`` as the versions view spells values (json_extract),
    so the two compare like for like; None when the merged record lacks the field."""
    path = f'$."{field}"'
    row = db.execute(
        "SELECT json_type(data, ?), json_extract(data, ?) FROM merged_records"
        " WHERE kind = ? AND key = ?",
        [path, path, kind, key],
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return (row[1],)
