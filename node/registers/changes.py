# SPDX-License-Identifier: Apache-2.0
"""The monthly change report (月变更报告单): every record change of a month, from the log.

The township checks each village's changes every month and sends queries back for
doubtful entries (篇4 第44条), so the report is built from the change log itself, not
from the records table: a value changed twice in a month shows twice, and a record
created and retired in the same month still shows. Old values come from replaying the
log up to each entry, which is exactly what the records table held at that moment.

A change belongs to the month in which it was written, by the wall time of its hybrid
clock in Asia/Shanghai: an entry written at 01:00 on 1 April Beijing time (17:00 UTC on
31 March) is an April change, as the officer who wrote it would say.

The report lists the demographic changes the rules name (篇3 第29条, 篇4 第44条):
marriages and marital changes, pregnancies, births and birth registrations, contraception
(procedures and the method in use found at follow-ups), population changes on the cards
(new cards, card changes, deaths, cards closed) and hukou moves and floating. It never
lists complaints or tip-offs (their content is for the first-contact officer, 篇4 第18条),
stock movements, benefit workflow, health-check results or reports sent: the township
checks the population changes, and the rest is not its business here. Entries that
change no record (the install entry, epoch starts, notes) are not changes either. A
sealed field is never named, nor is its value shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from node.registers.labels import (
    FIELD_LABELS,
    KIND_LABELS,
    REF_KINDS,
    RETIRE_REASONS,
    SUBJECT_REFS,
    display_value,
    field_label,
    is_sealed,
)
from node.registers.model import Column, Register, parse_month
from node.store.lookup import log_rows_before, node_name
from node.timeutil import SHANGHAI
from protocol import Retire, Upsert, decode_payload
from protocol.clock import COUNTER_BITS

TITLE = "月变更报告单"
COLUMNS = (
    Column("no", "序号"),
    Column("seq", "日志序号"),
    Column("time", "变更时间"),
    Column("kind", "记录类别"),
    Column("record_id", "记录编号"),
    Column("name", "姓名"),
    Column("changes", "变更内容"),
    Column("action", "变更类型"),
)
ADDED, MODIFIED, RETIRED = "新增", "修改", "注销"
REPORTED_KINDS = frozenset(
    {
        "person",
        "marriage",
        "marital_change",
        "pregnancy",
        "birth",
        "birth_registration",
        "contraceptive_procedure",
        "follow_up",
        "death",
        "move",
        "floating",
    }
)
"""The demographic record kinds of the report (module docstring)."""
SEALED_NOTE = "（另有保密信息变更，不予显示）"
ERASED_NOTE = "（本条内容已按保存期限删除）"


@dataclass
class _State:
    data: dict[str, Any] = field(default_factory=dict)
    retired: bool = False


class _Replay:
    """The records as they stood after each entry, rebuilt from the log."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], _State] = {}

    def get(self, kind: str, record_id: Any) -> dict[str, Any]:
        state = self.records.get((kind, record_id)) if isinstance(record_id, str) else None
        return state.data if state else {}

    def upsert(self, op: Upsert) -> None:
        state = self.records.setdefault((op.kind, op.id), _State())
        state.data.update({name: value for name, (value, _base) in op.fields.items()})

    def retire(self, op: Retire, erase: bool) -> None:
        state = self.records.setdefault((op.kind, op.id), _State())
        state.retired = True
        if erase:
            state.data = {}


def build_monthly_change_report(db: Database, month: str) -> Register:
    """List every demographic change written in ``month``, one line per changed record.

    Args:
        db: the node's database (``NodeStore.db``); only read.
        month: the month as 'YYYY-MM' (Asia/Shanghai).

    Returns:
        A register whose rows carry the log seq, Shanghai time, record kind (Chinese),
        record id, the person it concerns, what changed (old -> new) and the action
        (新增 / 修改 / 注销), in log order.

    Raises:
        ValidationError: ``month`` is not 'YYYY-MM'.
        protocol.errors.ProtocolError: a stored payload does not decode (a damaged
            log must not yield a report that looks complete).
    """
    span = parse_month(month)
    replay = _Replay()
    rows: list[dict[str, Any]] = []
    for epoch, seq, hlc, payload in log_rows_before(db, span.end_ms << COUNTER_BITS):
        in_month = span.contains_ms(hlc >> COUNTER_BITS)
        if payload is None:
            if in_month:
                rows.append(_row(epoch, seq, hlc, "", "", "", ERASED_NOTE, ""))
            continue
        for op in decode_payload(payload):
            if in_month and isinstance(op, Upsert | Retire) and op.kind in REPORTED_KINDS:
                rows.append(_describe(replay, op, epoch, seq, hlc))
            if isinstance(op, Upsert):
                replay.upsert(op)
            elif isinstance(op, Retire):
                replay.retire(op, erase=op.reason == "retention")
    for n, row in enumerate(rows, start=1):
        row["no"] = n
    return Register(
        title=TITLE,
        columns=COLUMNS,
        rows=rows,
        name="monthly_changes",
        village=node_name(db),
        month=span.month,
    )


def _describe(
    replay: _Replay, op: Upsert | Retire, epoch: int, seq: int, hlc: int
) -> dict[str, Any]:
    state = replay.records.get((op.kind, op.id))
    before = dict(state.data) if state else None
    kind = KIND_LABELS.get(op.kind, op.kind)
    if isinstance(op, Retire):
        name = _subject_name(replay, op.kind, before or {})
        reason = RETIRE_REASONS.get(op.reason, op.reason)
        return _row(epoch, seq, hlc, kind, op.id, name, f"注销原因：{reason}", RETIRED)
    after = {**(before or {}), **{k: v for k, (v, _b) in op.fields.items()}}
    action = ADDED if before is None else MODIFIED
    changes = _changes(replay, op, before)
    return _row(
        epoch, seq, hlc, kind, op.id, _subject_name(replay, op.kind, after), changes, action
    )


def _changes(replay: _Replay, op: Upsert, before: dict[str, Any] | None) -> str:
    """'field：old→new' for each changed field, in the order of the printed card."""
    order = list(FIELD_LABELS.get(op.kind, {}))
    names = sorted(op.fields, key=lambda f: (order.index(f) if f in order else len(order), f))
    parts: list[str] = []
    hidden = False
    for name in names:
        if is_sealed(op.kind, name):
            hidden = True
            continue
        new = op.fields[name][0]
        old = None if before is None else before.get(name)
        if before is None and new is None:
            continue
        if before is not None and name in before and old == new:
            continue
        label = field_label(op.kind, name)
        if old is None:
            parts.append(f"{label}：{_show(replay, name, new)}")
        else:
            parts.append(f"{label}：{_show(replay, name, old)}→{_show(replay, name, new)}")
    if hidden:
        parts.append(SEALED_NOTE)
    return "；".join(parts) if parts else "（内容未变）"


def _show(replay: _Replay, field_name: str, value: Any) -> str:
    """A value as the report prints it; a reference with what it points to (a person's
    name, a procedure's method and date) so the checker need not look the id up."""
    if field_name in REF_KINDS and isinstance(value, str):
        target = replay.get(REF_KINDS[field_name], value)
        summary = target.get("name") or " ".join(
            str(display_value(f, target[f])) for f in ("method", "procedure_date") if f in target
        )
        return f"{summary}（{value}）" if summary else value
    shown = display_value(field_name, value)
    if isinstance(shown, dict | list):
        return json.dumps(shown, ensure_ascii=False, sort_keys=True)
    return "（空）" if shown == "" else str(shown)


def _subject_name(replay: _Replay, kind: str, data: dict[str, Any]) -> str:
    """The name of the person a record is, or is about ('' for complaints, stock)."""
    if kind == "person":
        name = data.get("name")
    else:
        ref = next((data[r] for r in SUBJECT_REFS if data.get(r) is not None), None)
        name = replay.get("person", ref).get("name")
    return name if isinstance(name, str) else ""


def _row(
    epoch: int, seq: int, hlc: int, kind: str, record_id: str, name: str, changes: str, action: str
) -> dict[str, Any]:
    at = datetime.fromtimestamp((hlc >> COUNTER_BITS) / 1000, SHANGHAI)
    return {
        "no": 0,
        "seq": seq if epoch == 1 else f"{epoch}-{seq}",
        "time": at.strftime("%Y-%m-%d %H:%M:%S"),
        "kind": kind,
        "record_id": record_id,
        "name": name,
        "changes": changes,
        "action": action,
    }
