# SPDX-License-Identifier: Apache-2.0
"""The county's conflict advisories at a township and at the node they advise.

design.md: "Resolution in the queue produces an advisory to the owning node, never a
write; the owner records the fix as its own change". The county puts, in the outbox of
the township on the path, an envelope (SPEC.md §6) holding one entry of the
county's own log, the advisory ``Note``: batch-signed and hop-signed by the county, its
payload sealed for the advised node's key alone, because it carries a person's field
value and a relay has no business reading it (county_aggregator/advisories.py).

A township checks both county signatures without opening anything and, if the envelope
is addressed to one of its villages, puts it unchanged into that village's outbox. The
advised node opens it and records the chosen value as *its own* change: the normal
write path (domain validation, reference checks, base = the version it holds now, one
log entry, an audit row), exactly once per county entry (``advisories_taken``, keyed by
the entry's log and seq, written in the same transaction as the change and as the inbox
cursor). A retired or missing record, a field the county cannot advise, or a value that
fails validation writes nothing: the refusal is kept and ``renkou node status`` shows
it. No value is kept or logged outside the record itself.

Expiry: the envelope's ``expires_ms`` is not enforced here. What makes an advisory
authentic is the county's signature over its own log entry, and what makes a replay
harmless is exactly-once by (log, seq); enforcing a 30-day expiry would only lose the
advisories of a village whose link was down for a month.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from node.checks import check_record
from node.domain.records import RECORD_KINDS, SEALED_FIELDS, validate_record
from node.errors import NodeError, ValidationError
from node.i18n import cli_language, gettext
from node.store.advisories import Advisories, TakenOp
from node.store.outbox import Outbox
from node.store.store import NodeStore
from node.timeutil import shanghai_today
from protocol import (
    AdvisoryItem,
    Certificate,
    Envelope,
    MalformedError,
    ProtocolError,
    advisory_items,
    check_advisory,
    decode_envelope,
    decode_payload,
    open_envelope,
)

ACTOR = "county-advisory"
STATUS_SHOWN = 20


class Refused(NodeError):
    """The advice cannot be followed here; ``code`` is stable, ``reason`` bilingual
    ("中文 / English", as ``advisories_taken`` keeps it and status shows it)."""

    status = 422

    def __init__(self, code: str, reason: str) -> None:
        zh, _, en = reason.partition(" / ")
        super().__init__(zh, en or reason, code=code)
        self.reason = reason


def take(store: NodeStore, raw: bytes, county: Certificate) -> str:
    """Relay or apply one advisory envelope; return a line for the round's report.

    Raises:
        ProtocolError: not an envelope of the county's log signed by the county
            (protocol.advisories), one that does not open with our key, or one addressed
            to a node that is neither us nor one of our children, or advising us nothing.
    """
    env = decode_envelope(raw)
    check_advisory(env, county.node, county.verify_key)
    where = f"{env.header.log}/{env.header.first_seq}"
    me = store.node
    if env.recipient != me:
        if env.recipient.parent == me:
            Outbox(store.db).add(str(env.recipient), raw)
            return f"passed the county's advisory {where} down to {env.recipient}"
        raise MalformedError("an advisory addressed to a node that is neither us nor a child")
    return _apply(store, env)


def _apply(store: NodeStore, env: Envelope) -> str:
    kem = store.identity.kem
    (entry,) = open_envelope(env, {kem.public_key.key_id: kem})
    found = advisory_items(decode_payload(entry.payload or b""), store.node)
    if not found:
        raise MalformedError("an advisory entry that advises nothing to us")
    log, seq = str(entry.log), entry.seq
    where = f"{log}/{seq}"
    if Advisories(store.db).taken(log, seq):
        return f"the county's advisory {where} was taken before"
    items = {item.index: item for item in found}
    now = store.clock()
    with store.db.atomic():  # a savepoint: a failure below leaves nothing behind
        try:
            ops_out = _ops(store, items, now)
            store.changelog.clock.observe(entry.hlc)
        except Refused as no:
            _keep(store, log, seq, items, "refused", no.code, no.reason, "", 0, now)
            return f"refused the county's advisory {where}: {no.code}"
        except ProtocolError as exc:  # the county's clock is beyond our drift bound
            reason = f"县的时间超前本机过多 / the county's clock is too far ahead: {exc}"
            _keep(store, log, seq, items, "refused", "clock_drift", reason[:500], "", 0, now)
            return f"refused the county's advisory {where}: clock_drift"
        mine_entry = store.write(ops_out)
        for kind, record in sorted({(it.kind, it.record) for it in items.values()}):
            store.audit(ACTOR, "apply_advisory", kind, record, f"advisory {where}")
        _keep(store, log, seq, items, "applied", "", "", str(mine_entry.log), mine_entry.seq, now)
    return f"applied the county's advisory {where} as our entry {mine_entry.seq}"


def _ops(store: NodeStore, items: dict[int, AdvisoryItem], now_ms: int) -> list[Any]:
    """One upsert per advised record, validated as any officer's edit would be.

    Raises:
        Refused: the advice cannot be followed; nothing is written then.
    """
    fields: dict[tuple[str, str], dict[str, Any]] = {}
    for it in items.values():
        fields.setdefault((it.kind, it.record), {})[it.field] = it.value
    today = shanghai_today(datetime.fromtimestamp(now_ms / 1000, UTC))
    out = []
    for (kind, record_id), changed in sorted(fields.items()):
        if kind not in RECORD_KINDS:
            raise Refused("unknown_kind", f"未知的记录类型 / unknown record kind {kind}")
        held = store.record(kind, record_id)
        if held is None:
            raise Refused("not_found", f"记录 {record_id} 不存在 / record {record_id} not found")
        if held.get("_retired"):
            raise Refused("retired", f"记录 {record_id} 已注销 / record {record_id} is retired")
        known = RECORD_KINDS[kind]().fields  # advisories are rare: a fresh schema is fine
        for name in changed:
            if name not in known or name in SEALED_FIELDS.get(kind, ()):
                raise Refused(
                    "field_not_advisable",
                    f"字段 {name} 不能按县的意见修改 / field {name} cannot be set by advisory",
                )
        data = {k: v for k, v in held.items() if not k.startswith("_")}
        data.update(changed)
        try:
            clean = validate_record(kind, data, today=today)
            if kind != "supply_handout":  # its stock check would count itself twice
                check_record(store, kind, clean, record_id=record_id)
        except ValidationError as exc:
            problems = ", ".join(f"{p.field}: {p.code}" for p in exc.problems)[:400]
            raise Refused(
                "invalid", f"县建议的值未通过校验 / the advised value does not validate: {problems}"
            ) from None
        except NodeError as exc:
            raise Refused(exc.code or "invalid", f"{exc.zh} / {exc.en}"[:500]) from None
        out.append(store.upsert_op(kind, record_id, {k: clean[k] for k in changed}))
    return out


def _keep(
    store: NodeStore,
    log: str,
    seq: int,
    items: dict[int, AdvisoryItem],
    outcome: str,
    code: str,
    reason: str,
    local_log: str,
    local_seq: int,
    now_ms: int,
) -> None:
    Advisories(store.db).keep(
        [
            TakenOp(
                log,
                seq,
                i,
                it.conflict,
                it.kind,
                it.record,
                it.field,
                outcome,
                code,
                reason,
                local_log,
                local_seq,
                now_ms,
            )
            for i, it in sorted(items.items())
        ]
    )


def counts(db: Database) -> dict[str, int]:
    """Advisories (county entries) received, applied and refused here."""
    return Advisories(db).counts()


def status_lines(db: Database) -> list[str]:
    """``renkou node status`` lines: the counts, then each refusal (no values), its
    reason in the officer's language (kept as "中文 / English")."""
    c = counts(db)
    lines = [
        gettext(
            "advisories: %(received)s received, %(applied)s applied, %(refused)s refused",
            **c,
        )
    ]
    english = cli_language() == "en"
    for op in Advisories(db).refused(STATUS_SHOWN):
        zh, _, en = op.reason.partition(" / ")
        lines.append(
            gettext(
                "advisory refused: %(where)s %(kind)s %(record)s.%(field)s (%(code)s): %(reason)s",
                where=f"{op.log}/{op.seq}",
                kind=op.kind,
                record=op.record,
                field=op.field,
                code=op.code,
                reason=(en or zh) if english else zh,
            )
        )
    return lines
