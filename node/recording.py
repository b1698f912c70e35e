# SPDX-License-Identifier: Apache-2.0
"""Recording what happens in the village: validate, check, write one entry.

This is the one path from an officer's input (CLI, page, import) to the store, so
every record is validated at the edge and checked against the village's other
records before anything is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from node.checks import check_record, effects
from node.domain.records import SEALED_FIELDS, validate_record
from node.errors import FieldProblem, ValidationError
from node.identity import load_certificate
from node.store.store import NodeStore, nfc
from protocol import Op
from protocol.fields import seal_field

COUNTY_CERT = "county.cert"


def add_record(store: NodeStore, kind: str, data: dict[str, Any], *, today: date) -> str:
    """Validate and write a new record of ``kind``; return its id.

    Raises:
        ValidationError: field problems or missing references, every one listed.
        RuleViolation: a safeguard refused it (for example a pregnancy check for an
            unmarried woman, or a hand-out that would drive stock below zero).
    """
    clean = validate_record(kind, nfc(data), today=today)
    with store.bulk():  # one transaction, so one fsync for the id, the record and its entry
        check_record(store, kind, clean)
        record_id = store.new_id(kind)
        _seal_fields(store, kind, record_id, clean)
        ops: list[Op] = [store.upsert_op(kind, record_id, clean)]
        ops += [store.upsert_op(k, rid, fields) for k, rid, fields in effects(store, kind, clean)]
        store.write(ops)
    return record_id


def _seal_fields(store: NodeStore, kind: str, record_id: str, clean: dict[str, Any]) -> None:
    """Seal fields such as a complainant's identity for the county alone, before writing.

    The plain value never reaches the store or the log: the officer who recorded it,
    the township that relays it and anyone who copies the PC read only ciphertext.
    """
    names = [n for n in SEALED_FIELDS.get(kind, ()) if clean.get(n) is not None]
    if not names:
        return
    county = load_certificate(store.data_dir, COUNTY_CERT)
    if county is None:
        raise ValidationError(
            [
                FieldProblem(
                    names[0],
                    "sealed.not_enrolled",
                    "本节点尚未登记，无法加密保护举报人身份；可先匿名登记，或待管理员登记本机后再录入",
                    "this node is not enrolled yet, so the reporter's identity cannot be sealed; "
                    "record the complaint without it or after the administrator enrols this PC",
                )
            ]
        )
    for name in names:
        where = f"{store.node}/{kind}/{record_id}/{name}"
        clean[name] = seal_field(clean[name], [county.kem_key], where)
