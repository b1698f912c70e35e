# SPDX-License-Identifier: Apache-2.0
"""Evidence a receiver keeps of what it refused: quarantined batches and alerts.

Owner of ``quarantine`` (signed, valid batches that must not apply now: SPEC.md §7) and
``alerts`` (what the administrator must see: a fork, a hop that extended an origin's
expiry, with its proof). Each refused batch is kept once, however often it is sent
again.

A refused envelope is kept as it came only for as long as the administrator needs to
look inside it (``RENKOU_EVIDENCE_DAYS``, 30 days by default): it still holds the wraps,
the receiver's own among them (a township is a recipient of its villages' batches), so a
township PC stolen later would open it. After that only its evidence form stays
(protocol.envelope_evidence: the hop fields, header, origin signature, the wraps' and
the ciphertext's hashes and the hop signature), which still proves who sent what and
opens for no one (SPEC.md §6.3.2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from node.errors import NodeError
from protocol import HEADER_VIEW_OFFSET, ProtocolError, batches, decode_envelope, evidence_form
from protocol.envelope import MAGIC as ENVELOPE_MAGIC

EVIDENCE_DAYS_ENV = "RENKOU_EVIDENCE_DAYS"
DEFAULT_EVIDENCE_DAYS = 30
MAX_EVIDENCE_DAYS = 90
DAY_MS = 86_400_000
_V2_MAGIC = b"RKV2"
_V2_HEADER_SIZE = 128
"""Envelopes of version 2 (kept before the upgrade, SPEC.md §6.8) and their headers."""


def evidence_days(environ: Mapping[str, str] | None = None) -> int:
    """How many days a refused envelope is kept whole (``RENKOU_EVIDENCE_DAYS``, 1 to 90;
    30 when unset).

    Raises:
        NodeError: ``evidence_days`` when the setting is not a whole number from 1 to 90
            (refused, not stretched: a typo must not keep openable batches for a year).
    """
    text = (os.environ if environ is None else environ).get(EVIDENCE_DAYS_ENV, "").strip()
    if not text:
        return DEFAULT_EVIDENCE_DAYS
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_EVIDENCE_DAYS:
        raise NodeError(
            f"设置 {EVIDENCE_DAYS_ENV}={text!r} 无效：拒收数据完整保留的天数应为 1 到"
            f" {MAX_EVIDENCE_DAYS}",
            f"{EVIDENCE_DAYS_ENV}={text!r} is not valid: refused envelopes are kept whole"
            f" for 1 to {MAX_EVIDENCE_DAYS} days",
            code="evidence_days",
        )
    return int(text)


def wrap_free(kept: bytes) -> bytes:
    """What stays of a kept envelope past the limit: the evidence form of a version-3
    envelope; of a version-2 one (its hop signature covers the wraps, so it has none)
    its hop fields, batch header and origin signature. Anything else (a fork proof, an
    evidence form already) holds no wrap and stays as it is."""
    if kept[:4] == ENVELOPE_MAGIC:
        try:
            return evidence_form(decode_envelope(kept))
        except ProtocolError:  # it was decoded when it was kept; never keep wraps anyway
            return _header_view(kept, batches.SIZE)
    if kept[:4] == _V2_MAGIC:
        return _header_view(kept, _V2_HEADER_SIZE)
    return kept


def _header_view(kept: bytes, header_size: int) -> bytes:
    """The hop fields, batch header and origin signature at the start of an envelope."""
    at = HEADER_VIEW_OFFSET + header_size
    return kept[: at + 2 + int.from_bytes(kept[at : at + 2], "big")]


@dataclass(frozen=True)
class Quarantined:
    code: str
    log: str
    first_seq: int
    last_seq: int
    at: int


@dataclass(frozen=True)
class Alert:
    at: int
    kind: str
    log: str
    detail: str


class Evidence:
    """The ``quarantine`` and ``alerts`` tables of one database."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def quarantine(
        self, at: int, log: str, first: int, last: int, code: str, reason: str, raw: bytes
    ) -> bool:
        """Keep a quarantined batch unless the same range is held with the same code;
        True if it was new."""
        seen = self.db.execute(
            "SELECT 1 FROM quarantine WHERE log = ? AND first_seq = ? AND last_seq = ?"
            " AND code = ?",
            [log, first, last, code],
        ).fetchone()
        if seen is not None:
            return False
        self.db.execute(
            "INSERT INTO quarantine (at, log, first_seq, last_seq, code, reason, raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [at, log, first, last, code, reason, raw],
        )
        return True

    def quarantined(self, limit: int) -> tuple[int, list[Quarantined]]:
        """How many batches are kept, and the ``limit`` newest."""
        kept = int(self.db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])
        rows = self.db.execute(
            "SELECT code, log, first_seq, last_seq, at FROM quarantine ORDER BY at DESC LIMIT ?",
            [limit],
        ).fetchall()
        return kept, [Quarantined(*row) for row in rows]

    def alert(
        self,
        at: int,
        kind: str,
        log: str,
        message_id: str,
        detail: dict[str, Any],
        proof: bytes,
    ) -> bool:
        """Keep an alert (``fork``, ``expiry_extended``) with its evidence, once per kind
        and refused message; True if new."""
        seen = self.db.execute(
            "SELECT 1 FROM alerts WHERE kind = ? AND log = ?"
            " AND json_extract(detail, '$.message_id') = ?",
            [kind, log, message_id],
        ).fetchone()
        if seen is not None:
            return False
        self.db.execute(
            "INSERT INTO alerts (at, kind, log, detail, proof) VALUES (?, ?, ?, ?, ?)",
            [
                at,
                kind,
                log,
                json.dumps({**detail, "message_id": message_id}, ensure_ascii=False),
                proof,
            ],
        )
        return True

    def keep_wrap_free(self, now_ms: int, days: int) -> int:
        """Replace every refused envelope kept whole for ``days`` or longer by its
        wrap-free form (:func:`wrap_free`); return how many were cut."""
        cutoff = now_ms - days * DAY_MS
        cut = 0
        rows = self.db.execute(
            "SELECT rowid, raw FROM quarantine WHERE cut_at IS NULL AND at <= ?", [cutoff]
        ).fetchall()
        for rowid, raw in rows:
            self.db.execute(
                "UPDATE quarantine SET raw = ?, cut_at = ? WHERE rowid = ?",
                [wrap_free(bytes(raw)), now_ms, rowid],
            )
            cut += 1
        rows = self.db.execute(
            "SELECT rowid, proof FROM alerts WHERE cut_at IS NULL AND at <= ?"
            " AND proof IS NOT NULL",
            [cutoff],
        ).fetchall()
        for rowid, proof in rows:
            self.db.execute(
                "UPDATE alerts SET proof = ?, cut_at = ? WHERE rowid = ?",
                [wrap_free(bytes(proof)), now_ms, rowid],
            )
            cut += 1
        return cut

    def alerts(self) -> list[Alert]:
        return [
            Alert(*row)
            for row in self.db.execute("SELECT at, kind, log, detail FROM alerts ORDER BY at")
        ]
