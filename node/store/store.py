# SPDX-License-Identifier: Apache-2.0
"""The village (or township) node's store: records and their change log, one transaction each.

Every domain write goes through :meth:`NodeStore.write`, which opens one SQLite
transaction, appends exactly one log entry holding the transaction's ops, applies the
same ops to ``records`` and commits. Reads of a person's data go through
:meth:`NodeStore.read`, which leaves an audit row (PIPL: every read of a card audited).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from node.errors import NotFoundError, StorageError
from node.identity import (
    NodeIdentity,
    create_identity,
    load_identity,
    private_directory,
    private_file,
)
from node.store import audit as audit_trail
from node.store.apply import apply_entry, dumps, parse_version
from node.store.audit import AuditEntry
from node.store.changelog import ChangeLog, now_ms
from node.store.database import (
    DATABASE_ERRORS,
    DB_NAME,
    ERRORS,
    OPERATIONAL_ERRORS,
    open_database,
    storage_error,
)
from node.store.review import purge_expired
from protocol import (
    ZERO_HASH,
    Entry,
    EpochStart,
    LogId,
    NodeId,
    Op,
    Retire,
    Suite,
    Upsert,
    encode_payload,
)
from protocol.entries import FLAG_EPOCH_START

ID_PREFIX = {
    "person": "P",
    "marriage": "M",
    "pregnancy": "G",
    "birth": "B",
    "birth_registration": "R",
    "death": "D",
    "move": "V",
    "contraceptive_procedure": "C",
    "health_check": "H",
    "follow_up": "F",
    "supply_receipt": "SR",
    "supply_handout": "SH",
    "benefit": "E",
    "complaint": "Q",
    "only_child_certificate": "O",
    "marital_change": "MC",
    "floating": "L",
    "check_report_slip": "CS",
    "benefit_application": "EA",
    "benefit_check": "EC",
    "report_submission": "RS",
}


def nfc(value: Any) -> Any:
    """``value`` with every string in it (keys too) in Unicode NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    return value


def stored_node(db: Database) -> str | None:
    """The id (``county:440104``) of the node whose database ``db`` is, from its metadata;
    None when ``db`` is not a node's database."""
    try:
        row = db.execute("SELECT value FROM node_meta WHERE key = 'node'").fetchone()
    except OPERATIONAL_ERRORS:
        return None
    return None if row is None else str(row[0])


class NodeStore:
    """One node's SQLite store; the only writer of its records."""

    def __init__(
        self,
        data_dir: Path,
        db: Database,
        identity: NodeIdentity,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.data_dir = data_dir
        self.db = db
        self.identity = identity
        meta = self.meta()
        self.name = meta.get("name", "")
        self.clock = clock
        self.changelog = ChangeLog(db, identity.node, identity.suite, int(meta["epoch"]), clock)

    # -- lifecycle -------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        data_dir: Path | str,
        node: NodeId,
        name: str,
        suite: Suite = Suite.HYBRID,
        clock: Callable[[], int] = now_ms,
    ) -> NodeStore:
        """Create a node: keys, database, and epoch 1 opened by its first entry."""
        data_dir = Path(data_dir)
        if (data_dir / DB_NAME).exists():
            raise StorageError(
                f"目录 {data_dir} 中已有节点数据，未做任何更改",
                f"{data_dir} already holds a node; nothing was changed",
                code="store_exists",
            )
        private_directory(data_dir)
        identity = create_identity(data_dir, node, suite)
        private_file(data_dir / DB_NAME)
        db = open_database(data_dir / DB_NAME, create=True, key=identity.db_key)
        with db.atomic():
            for key, value in (
                ("node", str(node)),
                ("name", name),
                ("epoch", "1"),
                ("suite", str(int(suite))),
                ("next_id", "1"),
            ):
                db.execute("INSERT INTO node_meta (key, value) VALUES (?, ?)", [key, value])
        store = cls(data_dir, db, identity, clock)
        store.write([EpochStart(0, 0, "install")])
        return store

    @classmethod
    def open(cls, data_dir: Path | str, clock: Callable[[], int] = now_ms) -> NodeStore:
        """Open an existing node; ``clock`` (UTC ms) is injectable for simulations."""
        data_dir = Path(data_dir)
        if not (data_dir / DB_NAME).exists():
            open_database(data_dir / DB_NAME)  # raises store_missing, before any passphrase
        identity = load_identity(data_dir)
        db = open_database(data_dir / DB_NAME, key=identity.db_key)
        try:  # at start-up too, not only in a sync round (node/store/review.py)
            purge_expired(db, clock())
        except DATABASE_ERRORS as exc:
            db.close()
            raise storage_error(exc) from None
        except BaseException:  # a review window set wrong: said, and nothing left open
            db.close()
            raise
        return cls(data_dir, db, identity, clock)

    def close(self) -> None:
        self.db.close()

    @property
    def node(self) -> NodeId:
        return self.identity.node

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM node_meta").fetchall())

    # -- writing ---------------------------------------------------------------------

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Group many writes (each still its own entry) into one transaction.

        For imports: one fsync per batch instead of per write. Hand-made writes never
        use this, so each is durable the moment it is acknowledged.
        """
        with self._transaction():
            yield

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        log = self.changelog
        saved = (log.head_seq, log.head_hash, log.clock.last)
        try:
            with self.db.atomic():
                yield
        except ERRORS as exc:
            log.rollback_to(*saved)
            raise storage_error(exc) from None
        except BaseException:
            log.rollback_to(*saved)
            raise

    def write(self, ops: list[Op]) -> Entry:
        """Commit ``ops`` as one transaction: one log entry and the record changes."""
        payload = encode_payload(ops)
        with self._transaction():
            entry = self.changelog.append(payload)
            apply_entry(self.db, entry, ops)
        return entry

    def start_epoch(self, reason: str, known_epoch: int = 0, *, kept: int | None = None) -> Entry:
        """Open a new log for this node (SPEC §3.5): after a restore or a fork.

        A store restored from a backup must never write on in the old log: the parent
        already holds entries of it this copy lacks, and new ones with the same seqs
        would fork it. The new epoch's number is above both ours and ``known_epoch`` (the
        highest the parent holds for us), its first entry links to the head this store
        knew and says why, and record ids issued from now on carry the epoch, so they
        cannot collide with ids the lost copy issued after the backup was taken.

        ``kept`` (below our head) starts the new epoch from that entry of the old log
        instead: the entries past it are abandoned (node/store/carry.py carries what
        they wrote over; the caller rebuilds the records).
        """
        if reason not in ("restore", "fork"):
            raise ValueError("a new epoch is started after a restore or a fork")
        old = self.changelog
        seq = old.head_seq if kept is None else kept
        prev = old.head_hash if kept is None else self._entry_hash(kept)
        return self._open_epoch(
            reason, max(old.log.epoch, known_epoch) + 1, old.log.epoch, seq, prev
        )

    def start_epoch_after(
        self, prev_epoch: int, prev_seq: int, prev_hash: bytes, epoch: int
    ) -> Entry:
        """Open epoch ``epoch`` whose first entry names entry ``prev_seq`` (hash
        ``prev_hash``) of log ``prev_epoch``, a head this store may not hold: the one a
        recovery snapshot's cards run through (node/sync/recovered.py, SPEC §8.10)."""
        if epoch <= max(self.changelog.log.epoch, prev_epoch):
            raise ValueError("a new epoch is above every epoch it follows")
        return self._open_epoch("restore", epoch, prev_epoch, prev_seq, prev_hash)

    def _open_epoch(self, reason: str, epoch: int, prev_epoch: int, seq: int, prev: bytes) -> Entry:
        old = self.changelog
        with self._transaction():
            self.db.execute("UPDATE node_meta SET value = ? WHERE key = 'epoch'", [str(epoch)])
            new = ChangeLog(self.db, self.node, self.identity.suite, epoch, self.clock)
            new.clock.last = old.clock.last
            ops: list[Op] = [EpochStart(prev_epoch, seq, reason)]
            entry = new.append(encode_payload(ops), FLAG_EPOCH_START, prev)
            apply_entry(self.db, entry, ops)
        self.changelog = new
        return entry

    def _entry_hash(self, seq: int) -> bytes:
        """The hash of entry ``seq`` of the current log (ZERO32 for 0)."""
        if seq == 0:
            return ZERO_HASH
        return next(self.entries(seq, seq)).hash

    def new_id(self, kind: str) -> str:
        """A record id unique within this node (the county qualifies it with the node).

        From epoch 2 on the id names its epoch: a store restored from a backup counts
        from where the backup stood, and the lost copy may have used those numbers.
        """
        with self._transaction():
            n = int(
                self.db.execute("SELECT value FROM node_meta WHERE key = 'next_id'").fetchone()[0]
            )
            self.db.execute("UPDATE node_meta SET value = ? WHERE key = 'next_id'", [str(n + 1)])
        epoch = self.changelog.log.epoch
        suffix = f".{epoch}" if epoch > 1 else ""
        return f"{ID_PREFIX.get(kind, 'X')}{n}{suffix}"

    def upsert_op(self, kind: str, record_id: str, fields: dict[str, Any]) -> Upsert:
        """An upsert of ``fields`` with the base versions this node holds for them.

        Text is put in Unicode NFC here, the one door every write goes through: an input
        method may type a compatibility ideograph (U+F900 豈 for U+8C48 豈) that looks the
        same, and the protocol's canonical form admits NFC only.
        """
        row = self.db.execute(
            "SELECT versions FROM records WHERE kind = ? AND id = ?", [kind, record_id]
        ).fetchone()
        versions = json.loads(row[0]) if row else {}
        bases = {k: self._base_of(versions.get(k, 0)) for k in fields}
        return Upsert(kind, record_id, {k: (nfc(v), bases[k]) for k, v in fields.items()})

    def retire_op(self, kind: str, record_id: str, reason: str) -> Retire:
        row = self.db.execute(
            "SELECT updated_epoch, updated_seq, versions FROM records WHERE kind = ? AND id = ?",
            [kind, record_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"记录 {record_id} 不存在", f"record {kind}/{record_id} does not exist"
            )
        epoch, seq = int(row[0]), int(row[1])
        if epoch != self.changelog.log.epoch:
            # A recovered card not written since: its last entry is of the dead PC's
            # logs, named only in its versions (node/store/recovery.py: "<log>/<seq>",
            # or "<epoch>:<seq>" of a later epoch); the latest epoch's version at that
            # seq is the entry that last touched it.
            at = [_epoch_seq(v) + (v,) for v in json.loads(row[2]).values() if isinstance(v, str)]
            named = [(e, v) for e, s, v in at if s == seq]
            if named:
                return Retire(kind, record_id, reason, self._base_of(max(named)[1]))
        return Retire(kind, record_id, reason, self._base(epoch, seq))

    def _base_of(self, version: int | str) -> int | str:
        """The base of a write on top of a stored version (node/store/apply.py); a
        recovered card's versions are bases already (node/store/recovery.py)."""
        if isinstance(version, str) and "/" in version:
            return version
        return self._base(*parse_version(version))

    def _base(self, epoch: int, seq: int) -> int | str:
        """The base version (SPEC §10.3) of a write in the current log on top of entry
        ``seq`` of ``epoch``: a bare seq only within this log, ``"<log>/<seq>"`` for an
        entry of an earlier epoch (a card recorded before ``new-epoch`` or a restore)."""
        if seq == 0 or epoch == self.changelog.log.epoch:
            return seq
        return f"{LogId(self.node, epoch)}/{seq}"

    # -- reading ---------------------------------------------------------------------

    def record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """Internal, unaudited lookup for rules and derived views (never shown as is)."""
        row = self.db.execute(
            "SELECT data, retired FROM records WHERE kind = ? AND id = ?", [kind, record_id]
        ).fetchone()
        if row is None:
            return None
        return {**json.loads(row[0]), "_retired": row[1]}

    def read(self, kind: str, record_id: str, *, actor: str, purpose: str) -> dict[str, Any]:
        """A person's record as an officer sees it; every call leaves an audit row."""
        found = self.record(kind, record_id)
        if found is None:
            raise NotFoundError(
                f"记录 {record_id} 不存在", f"record {kind}/{record_id} does not exist"
            )
        self.audit(actor, "read", kind, record_id, purpose)
        return found

    def audit(self, actor: str, action: str, kind: str, record_id: str, purpose: str) -> None:
        self.audit_many(actor, action, [(kind, record_id)], purpose)

    def audit_many(
        self, actor: str, action: str, records: Iterable[tuple[str, str]], purpose: str
    ) -> None:
        """One audit row per ``(kind, record id)``, in one transaction (node/store/audit.py)."""
        at = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [AuditEntry(at, actor, action, k, r, purpose) for k, r in records]
        with self._transaction():
            audit_trail.append(self.db, rows)

    def records(
        self, kind: str, *, include_retired: bool = False
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        sql = "SELECT id, data FROM records WHERE kind = ?"
        if not include_retired:
            sql += " AND retired IS NULL"
        for record_id, data in self.db.execute(sql + " ORDER BY id", [kind]):
            yield record_id, json.loads(data)

    def counts(self) -> dict[str, int]:
        """``{kind: live records}`` (retired ones not counted), by kind."""
        rows = self.db.execute(
            "SELECT kind, COUNT(*) FROM records WHERE retired IS NULL GROUP BY kind ORDER BY kind"
        )
        return {kind: n for kind, n in rows}

    def is_new_pc(self) -> bool:
        """Whether this store is a PC just enrolled: its first log holds only its install
        entry and no record. Upstream holding another history of its log then means a
        replacement PC, whose cards come back by `renkou node recover`, not a clone."""
        log = self.changelog
        return log.head_seq == 1 and log.epochs() == [1] and not self.counts()

    # -- integrity -------------------------------------------------------------------

    def records_hash(self, db: Database | None = None) -> str:
        """SHA-256 over every records row in key order (equal hashes, equal tables)."""
        digest = hashlib.sha256()
        rows = (db or self.db).execute(
            "SELECT kind, id, data, versions, retired, created_seq, updated_seq, updated_hlc,"
            " updated_epoch FROM records ORDER BY kind, id"
        )
        for row in rows:
            digest.update(dumps(list(row)).encode())
        return digest.hexdigest()

    def rebuild_hash(self) -> str:
        """Replay the whole log into an empty table and hash it (must equal records_hash)."""
        from node.store.recovery import Recovery
        from node.store.schema import migrations

        scratch = Database(memory=True)
        migrations.apply(scratch)
        with scratch.atomic():  # a recovered store's records are its base plus the log's
            Recovery(self.db).replay_into(scratch, self.changelog.kept_entries())
        return self.records_hash(scratch)

    def entries(
        self, first_seq: int = 1, last_seq: int | None = None, *, epoch: int | None = None
    ) -> Iterator[Entry]:
        return self.changelog.entries(first_seq, last_seq, epoch=epoch)

    def verify_log(self) -> int:
        """Recompute every entry hash and link of this epoch; return the head seq.

        Raises:
            StorageError: a stored hash, link or seq does not add up (the file was
                damaged or edited behind the node's back).
        """
        prev, expected_seq = None, 1
        stored = self.db.execute(
            "SELECT seq, entry_hash FROM log WHERE epoch = ? ORDER BY seq",
            [self.changelog.log.epoch],
        )
        for entry, (seq, entry_hash) in zip(self.entries(), stored, strict=True):
            linked = prev is None or entry.prev_hash == prev
            payload_ok = (
                entry.payload is None
                or hashlib.sha256(entry.payload).digest() == entry.payload_hash
            )
            if seq != expected_seq or entry.hash != entry_hash or not linked or not payload_ok:
                raise StorageError(
                    f"变更日志第 {seq} 条已损坏",
                    f"change log entry {seq} is damaged",
                    code="log_damaged",
                )
            prev, expected_seq = entry.hash, expected_seq + 1
        return expected_seq - 1


def _epoch_seq(version: str) -> tuple[int, int]:
    """``(epoch, seq)`` of a stored version spelled as a string: a base naming its log
    (``"<log id>/<seq>"``, a recovered card's) or ``"<epoch>:<seq>"``."""
    if "/" in version:
        log, _, seq = version.rpartition("/")
        return LogId.parse(log).epoch, int(seq)
    return parse_version(version)
